//! Codec micro-benchmarks: for every built-in message type, the typed codec
//! (`codec::encode_push` / `codec::decode_push`), the untyped one (`serde_json::Value`),
//! and the any-message decoder (`codec::decode_push::<AnyMessage>`), each beside plain
//! `serde_json` on the same value (`to_writer` into a reused buffer; `from_slice` of
//! what `to_writer` wrote).
//!
//! `cargo bench --bench codec` runs them and then prints, per type, the ratio
//! typed (encode + decode) / plain serde_json (encode + decode) from criterion's
//! medians. Under `cargo test` (no `--bench`) criterion runs each bench once.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use experimance_common::{
    codec, AgentControl, AgentControlEvent, AnyMessage, Biome, Era, EraChanged, Heartbeat, IdleStatus,
    ImageReady, LoopReady, LoopRequest, Message, RenderRequest, TransitionReady, TransitionRequest,
    TransitionStyle,
};
use serde_json::Value;

/// The benchmark names: `<Type>/<what>`.
const KINDS: [&str; 10] = [
    "typed_encode",
    "typed_decode",
    "serde_encode",
    "serde_decode",
    "serde_decode_wire",
    "value_encode",
    "value_decode",
    "serde_value_encode",
    "serde_value_decode",
    "any_decode",
];

fn bench_type<M: Message>(c: &mut Criterion, msg: M) {
    let mut group = c.benchmark_group(M::TYPE);
    let mut buf = Vec::with_capacity(1024);
    let mut wire = Vec::new();
    codec::encode_push(&msg, &mut wire).expect("encodes");
    let plain = serde_json::to_vec(&msg).expect("serializes");
    let value: Value = serde_json::from_slice(&wire).expect("valid JSON");
    // Everything decodes to what was encoded.
    assert!(codec::decode_push::<M>(&wire).is_ok());
    assert!(codec::decode_push::<AnyMessage>(&wire).expect("decodes").type_name() == Some(M::TYPE));

    group.bench_function(BenchmarkId::from_parameter("typed_encode"), |b| {
        b.iter(|| codec::encode_push(black_box(&msg), &mut buf).expect("encodes"))
    });
    group.bench_function(BenchmarkId::from_parameter("typed_decode"), |b| {
        b.iter(|| codec::decode_push::<M>(black_box(&wire)).expect("decodes"))
    });
    group.bench_function(BenchmarkId::from_parameter("serde_encode"), |b| {
        b.iter(|| {
            buf.clear();
            serde_json::to_writer(&mut buf, black_box(&msg)).expect("serializes")
        })
    });
    group.bench_function(BenchmarkId::from_parameter("serde_decode"), |b| {
        b.iter(|| serde_json::from_slice::<M>(black_box(&plain)).expect("deserializes"))
    });
    // The same bytes the typed decoder reads: what a hand-written reader of the wire
    // pays without the tag check (a derived struct skips the unknown "type"; the
    // Heartbeat keeps it in `extra`).
    group.bench_function(BenchmarkId::from_parameter("serde_decode_wire"), |b| {
        b.iter(|| serde_json::from_slice::<M>(black_box(&wire)).expect("deserializes"))
    });
    group.bench_function(BenchmarkId::from_parameter("value_encode"), |b| {
        b.iter(|| codec::encode_push(black_box(&value), &mut buf).expect("encodes"))
    });
    group.bench_function(BenchmarkId::from_parameter("value_decode"), |b| {
        b.iter(|| codec::decode_push::<Value>(black_box(&wire)).expect("decodes"))
    });
    group.bench_function(BenchmarkId::from_parameter("serde_value_encode"), |b| {
        b.iter(|| {
            buf.clear();
            serde_json::to_writer(&mut buf, black_box(&value)).expect("serializes")
        })
    });
    group.bench_function(BenchmarkId::from_parameter("serde_value_decode"), |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&wire)).expect("deserializes"))
    });
    group.bench_function(BenchmarkId::from_parameter("any_decode"), |b| {
        b.iter(|| codec::decode_push::<AnyMessage>(black_box(&wire)).expect("decodes"))
    });
    group.finish();
}

/// Every built-in type, with realistic field values.
fn all(c: &mut Criterion) {
    bench_type(c, EraChanged { era: Era::AiFuture, biome: Biome::TemperateForest });
    bench_type(
        c,
        RenderRequest {
            request_id: "render-000123".to_owned(),
            era: Era::LateIndustrial,
            biome: Biome::Coastal,
            prompt: "a harbour town at dusk, smokestacks over the water, oil painting".to_owned(),
            depth_map_png: None,
        },
    );
    bench_type(c, IdleStatus { status: true });
    bench_type(
        c,
        ImageReady {
            request_id: Some("render-000123".to_owned()),
            image_id: "img-8f3a2c".to_owned(),
            uri: "file:///var/experimance/images/img-8f3a2c.png".to_owned(),
        },
    );
    bench_type(
        c,
        TransitionReady {
            transition_id: "tr-0042".to_owned(),
            uri: "file:///var/experimance/transitions/tr-0042.mp4".to_owned(),
            is_video: true,
            r#loop: false,
            final_frame_uri: "file:///var/experimance/images/img-8f3a2c.png".to_owned(),
        },
    );
    bench_type(
        c,
        LoopReady {
            loop_id: "loop-0007".to_owned(),
            uri: "file:///var/experimance/loops/loop-0007.mp4".to_owned(),
            is_video: true,
            duration_s: Some(12.5),
        },
    );
    bench_type(
        c,
        TransitionRequest {
            request_id: "tr-0042".to_owned(),
            from_image_uri: "file:///var/experimance/images/img-7e11.png".to_owned(),
            to_image_uri: "file:///var/experimance/images/img-8f3a2c.png".to_owned(),
            style: TransitionStyle::Morph,
            duration_frames: 90,
        },
    );
    bench_type(
        c,
        LoopRequest {
            request_id: "loop-0007".to_owned(),
            still_image_uri: "file:///var/experimance/images/img-8f3a2c.png".to_owned(),
            style: "gentle parallax".to_owned(),
        },
    );
    bench_type(
        c,
        AgentControlEvent { control: AgentControl::SuggestBiome { biome_suggestion: Biome::Tundra } },
    );
    // The 89-byte Heartbeat of `exbus bench`.
    bench_type(
        c,
        Heartbeat {
            timestamp: 1_732_762_000.123_456,
            service: "experimance-core-benchmark".to_owned(),
            extra: serde_json::Map::new(),
        },
    );
}

const TYPES: [&str; 10] = [
    "EraChanged",
    "RenderRequest",
    "IdleStatus",
    "ImageReady",
    "TransitionReady",
    "LoopReady",
    "TransitionRequest",
    "LoopRequest",
    "AgentControlEvent",
    "Heartbeat",
];

/// Criterion's median estimate (ns) of `<group>/<bench>` from its last run.
fn median_ns(dir: &std::path::Path, group: &str, bench: &str) -> Option<f64> {
    let text =
        std::fs::read_to_string(dir.join(group).join(bench).join("new").join("estimates.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Prints the table of medians and ratios from what criterion just wrote.
fn summary() {
    let dir = match std::env::var_os("CRITERION_HOME") {
        Some(home) => std::path::PathBuf::from(home),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("target"))
            .join("criterion"),
    };
    println!(
        "\nmedians in ns. ratio = typed (encode + decode) / plain serde_json (encode + decode) on the same \
         struct;\ndec/wire = typed decode / plain serde_json from_slice of the same (tagged) bytes"
    );
    println!(
        "{:<18} {:>7} {:>7} {:>9} {:>9} {:>7} {:>9} {:>8} {:>7} {:>7} {:>8} {:>8} {:>7}",
        "type",
        "enc",
        "dec",
        "serde_enc",
        "serde_dec",
        "ratio",
        "dec_wire",
        "dec/wire",
        "val_enc",
        "val_dec",
        "sval_enc",
        "sval_dec",
        "any_dec"
    );
    for t in TYPES {
        let m: Vec<Option<f64>> = KINDS.iter().map(|k| median_ns(&dir, t, k)).collect();
        let cell = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
        let ratio = match (m[0], m[1], m[2], m[3]) {
            (Some(a), Some(b), Some(c), Some(d)) => format!("{:.3}", (a + b) / (c + d)),
            _ => "-".to_owned(),
        };
        let wire_ratio = match (m[1], m[4]) {
            (Some(a), Some(b)) => format!("{:.3}", a / b),
            _ => "-".to_owned(),
        };
        println!(
            "{:<18} {:>7} {:>7} {:>9} {:>9} {:>7} {:>9} {:>8} {:>7} {:>7} {:>8} {:>8} {:>7}",
            t,
            cell(m[0]),
            cell(m[1]),
            cell(m[2]),
            cell(m[3]),
            ratio,
            cell(m[4]),
            wire_ratio,
            cell(m[5]),
            cell(m[6]),
            cell(m[7]),
            cell(m[8]),
            cell(m[9])
        );
    }
}

fn main() {
    // Short runs: 100 benchmarks, about a second and a half each. Arguments override.
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .sample_size(40)
        .configure_from_args();
    all(&mut c);
    c.final_summary();
    // `cargo bench` passes --bench; `cargo test` (test mode: each bench once) does not.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
