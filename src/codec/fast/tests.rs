//! The fast path against serde_json: for every document, random and mutated, the typed
//! decode (fast path, falling back) gives exactly what the general path alone gives:
//! the same value (compared by its `Debug`, so `-0.0` and `0.0` differ) or the same
//! error (kind and serde_json's message with its position).
//!
//! (About 520 lines: the document generators, random, type-shaped, canonical and
//! mutated, are the test, and each is kept beside the property that uses it.)

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::tag::{decode_general, decode_tagged};
use crate::{codec, Era, Heartbeat, IdleStatus, Message, RenderRequest};

/// Most of what serde's derive asks of a deserializer: renames, aliases, defaults,
/// options, sequences, maps, enums, nested structs, narrow integers, `f32`, free-form
/// values.
#[derive(Debug, PartialEq, Serialize, Deserialize, crate::Message)]
#[message(type = "FastProbe", alias = "FastProbeAlias")]
struct Probe {
    #[serde(rename = "n")]
    number: i32,
    #[serde(default)]
    u: Option<u8>,
    #[serde(alias = "ss")]
    s: String,
    #[serde(default)]
    list: Vec<i64>,
    #[serde(default)]
    f: Option<f32>,
    #[serde(default)]
    e: Option<Era>,
    #[serde(default)]
    nested: Option<Inner>,
    #[serde(default)]
    map: BTreeMap<String, f64>,
    #[serde(default)]
    any: Option<Value>,
    #[serde(default)]
    pair: Option<(u64, bool)>,
    #[serde(default)]
    unit: Option<()>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inner {
    x: f64,
    #[serde(default)]
    b: bool,
}

/// The typed decode of `frame` as a socket runs it, against the general path alone.
fn same<M: Message>(frame: &[u8]) -> Result<(), TestCaseError> {
    let text = |r: Result<M, crate::DecodeErrorKind>| match r {
        Ok(m) => format!("Ok({m:?})"),
        Err(e) => format!("Err({e:?}: {e})"),
    };
    let reference = text(codec::json_text(frame, 0).and_then(decode_general::<M>));
    let frame_level = text(codec::decode_push::<M>(frame).map_err(crate::DecodeError::into_kind));
    prop_assert_eq!(&frame_level, &reference, "frame {:?}", String::from_utf8_lossy(frame));
    let mut pub_frame = b"topic ".to_vec();
    pub_frame.extend_from_slice(frame);
    let pub_level = text(
        codec::decode_pub::<M>(&pub_frame)
            .map(|(t, m)| {
                assert_eq!(t, "topic");
                m
            })
            .map_err(crate::DecodeError::into_kind),
    );
    let pub_reference =
        text(codec::split_pub_text(&pub_frame).and_then(|(_, json)| decode_general::<M>(json)));
    prop_assert_eq!(&pub_level, &pub_reference, "PUB frame {:?}", String::from_utf8_lossy(&pub_frame));
    if let Ok(json) = std::str::from_utf8(frame) {
        if codec::json_text(frame, 0).is_ok() {
            prop_assert_eq!(text(decode_tagged::<M>(json)), reference);
        }
    }
    Ok(())
}

fn every_type(frame: &[u8]) -> Result<(), TestCaseError> {
    same::<Heartbeat>(frame)?;
    same::<RenderRequest>(frame)?;
    same::<IdleStatus>(frame)?;
    same::<Probe>(frame)
}

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "01",
    "-01",
    "1.",
    ".5",
    "-",
    "1e5",
    "1E+5",
    "1e-5",
    "1e",
    "1e+",
    "-0.0",
    "0.0",
    "0e0",
    "0.000",
    "1e400",
    "-1e400",
    "1e-400",
    "0e-400",
    "5e-324",
    "2.2250738585072014e-308",
    "9007199254740993",
    "9007199254740993.0",
    "9007199254740992.0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "1732762000.123456",
    "0.1",
    "0.30000000000000004",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "255",
    "256",
    "-129",
    "2147483648",
    "3.4028235e38",
    "3.5e38",
    "1e22",
    "1e23",
    "12345678.12345678",
    "99999999999999999999",
    "1234567890123456789",
    "4.9e-324",
    "1_0",
    "+1",
    "0x10",
    "Infinity",
    "NaN",
    "1.0e+00",
];

const STRING_PIECES: &[&str] = &[
    "abc",
    "experimance-core-benchmark",
    "é",
    "日本",
    "😀",
    "\\n",
    "\\\"",
    "\\\\",
    "\\/",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\udc00",
    "\\x",
    "\\u12",
    " ",
    "\u{1}",
    "\t",
    "\u{7f}",
    "modern",
    "forest",
    "r1",
    "0123456789abcdef0123456789",
    "timestamp",
    "type",
];

const KEYS: &[&str] = &[
    "type",
    "timestamp",
    "service",
    "tasks_processed",
    "request_id",
    "era",
    "biome",
    "prompt",
    "depth_map_png",
    "status",
    "n",
    "u",
    "s",
    "ss",
    "list",
    "f",
    "e",
    "nested",
    "map",
    "any",
    "pair",
    "unit",
    "x",
    "b",
    "extra",
    "é",
    "k\\u0065y",
];

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(NUMBERS).prop_map(str::to_owned),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
        (any::<u32>(), 0u32..30, any::<bool>()).prop_map(|(m, d, neg)| {
            let s = format!("{m:0>width$}", width = d as usize + 1);
            let (a, b) = s.split_at(s.len() - d as usize);
            format!("{}{a}.{b}0", if neg { "-" } else { "" })
        }),
    ]
}

fn string() -> impl Strategy<Value = String> {
    let plain = proptest::sample::select(
        &["abc", "é", "日本", "😀", " ", "modern", "x-y_z", "0123456789abcdef0123456789"][..],
    );
    prop_oneof![
        3 => proptest::collection::vec(plain, 0..4),
        1 => proptest::collection::vec(proptest::sample::select(STRING_PIECES), 0..4),
    ]
    .prop_map(|p| format!("\"{}\"", p.concat()))
}

/// JSON text (mostly valid) with whitespace chosen by `ws`.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("nul".to_owned()),
        number(),
        string(),
        proptest::sample::select(&["\"modern\"", "\"wilderness\"", "\"forest\"", "\"Modern\""][..])
            .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (proptest::collection::vec(inner.clone(), 0..4), ws())
                .prop_map(|(v, w)| format!("[{w}{}]", v.join(","))),
            (proptest::collection::vec((key(), inner), 0..4), ws()).prop_map(|(m, w)| {
                let members: Vec<String> = m.into_iter().map(|(k, v)| format!("{k}:{w}{v}")).collect();
                format!("{{{}}}", members.join(&format!(",{w}")))
            }),
        ]
    })
}

fn ws() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&["", "", " ", " ", "\n", "\t ", "\r\n  "][..])
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![proptest::sample::select(KEYS).prop_map(|k| format!("\"{k}\"")), string()]
}

fn type_name() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(
        &[
            "Heartbeat",
            "RenderRequest",
            "IdleStatus",
            "Idle",
            "FastProbe",
            "FastProbeAlias",
            "Other",
            "Heartbeat\\u0041",
        ][..],
    )
}

/// A document that opens with its tag (mostly), with random members and spacing.
fn document() -> impl Strategy<Value = String> {
    (type_name(), proptest::collection::vec((key(), value()), 0..7), ws(), ws(), any::<bool>(), ws())
        .prop_map(|(name, members, colon, comma, tag_first, trail)| {
            let mut parts: Vec<String> =
                members.into_iter().map(|(k, v)| format!("{k}:{colon}{v}")).collect();
            let tag = format!("\"type\":{colon}\"{name}\"");
            if tag_first {
                parts.insert(0, tag);
            } else {
                parts.push(tag);
            }
            format!("{{{}}}{trail}", parts.join(&format!(",{comma}")))
        })
}

/// Documents shaped like a type (its fields, mostly with values of the right kind, in a
/// random order, and random members besides), so that many take the fast path.
fn shaped() -> impl Strategy<Value = Vec<u8>> {
    fn field(name: &'static str, good: BoxedStrategy<String>) -> BoxedStrategy<(&'static str, String)> {
        prop_oneof![4 => good, 1 => value()].prop_map(move |v| (name, v)).boxed()
    }
    let num = || number().boxed();
    let text = || string().boxed();
    let era = || {
        proptest::sample::select(&["\"modern\"", "\"wilderness\"", "\"Modern\"", "1"][..])
            .prop_map(str::to_owned)
            .boxed()
    };
    let boolean = || proptest::sample::select(&["true", "false", "null"][..]).prop_map(str::to_owned).boxed();
    let list = proptest::collection::vec(number(), 0..4).prop_map(|v| format!("[{}]", v.join(","))).boxed();
    let nested = (number(), boolean()).prop_map(|(x, b)| format!("{{\"x\": {x}, \"b\": {b}}}")).boxed();
    let map = (key(), number()).prop_map(|(k, x)| format!("{{{k}: {x}}}")).boxed();
    let pair = (number(), boolean()).prop_map(|(n, b)| format!("[{n}, {b}]")).boxed();
    let types = prop_oneof![
        (field("timestamp", num()), field("service", text())).prop_map(|(a, b)| ("Heartbeat", vec![a, b])),
        (
            (
                field("n", num()),
                field("s", text()),
                field("u", num()),
                field("list", list),
                field("f", num())
            ),
            (field("e", era()), field("nested", nested), field("map", map), field("any", value().boxed())),
            (field("pair", pair), field("unit", Just("null".to_owned()).boxed())),
        )
            .prop_map(|((a, b, c, d, e), (f, g, h, i), (j, k))| (
                "FastProbe",
                vec![a, b, c, d, e, f, g, h, i, j, k]
            )),
        (
            field("request_id", text()),
            field("era", era()),
            field("biome", Just("\"forest\"".to_owned()).boxed()),
            field("prompt", text()),
            field("depth_map_png", text())
        )
            .prop_map(|(a, b, c, d, e)| ("RenderRequest", vec![a, b, c, d, e])),
        field("status", boolean()).prop_map(|a| ("IdleStatus", vec![a])),
    ];
    (
        types,
        proptest::collection::vec(0usize..11, 0..12),
        proptest::collection::vec((key(), value()), 0..3),
        ws(),
        ws(),
        any::<u64>(),
    )
        .prop_map(|((name, fields), keep, extra, colon, comma, seed)| {
            let mut members: Vec<String> = fields
                .into_iter()
                .enumerate()
                .filter(|(i, _)| *i < 2 || keep.contains(i))
                .map(|(_, (k, v))| format!("\"{k}\":{colon}{v}"))
                .collect();
            members
                .extend(extra.into_iter().filter(|_| seed % 3 == 0).map(|(k, v)| format!("{k}:{colon}{v}")));
            let n = members.len();
            for i in 0..n {
                members.swap(i, (seed as usize).wrapping_mul(31).wrapping_add(i * 7) % n);
            }
            members.insert(0, format!("\"type\":{colon}\"{name}\""));
            format!("{{{}}}", members.join(&format!(",{comma}"))).into_bytes()
        })
}

/// Canonical documents of the real types, as this crate and Python write them.
fn canonical() -> impl Strategy<Value = Vec<u8>> {
    let heartbeat = (number(), string(), proptest::option::of(number())).prop_map(|(t, s, n)| {
        let extra = n.map(|n| format!(", \"tasks_processed\": {n}")).unwrap_or_default();
        format!("{{\"type\": \"Heartbeat\", \"timestamp\": {t}, \"service\": {s}{extra}}}")
    });
    let render = (string(), proptest::option::of(string())).prop_map(|(p, d)| {
        let d = d.unwrap_or_else(|| "null".to_owned());
        format!(r#"{{"type":"RenderRequest","request_id":"r1","era":"modern","biome":"forest","prompt":{p},"depth_map_png":{d}}}"#)
    });
    let probe = (number(), string(), proptest::collection::vec(number(), 0..4), number(), value()).prop_map(
        |(n, s, list, x, any)| {
            format!(
                r#"{{"type":"FastProbe","n":{n},"u":7,"s":{s},"list":[{}],"f":1.5,"e":"modern","nested":{{"x":{x},"b":true}},"map":{{"a":{x}}},"any":{any},"pair":[1,false],"unit":null}}"#,
                list.join(",")
            )
        },
    );
    prop_oneof![heartbeat, render, probe].prop_map(String::into_bytes)
}

/// A byte that makes or breaks JSON.
fn interesting() -> impl Strategy<Value = u8> {
    proptest::sample::select(
        &[
            b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'0', b'9', b'-', b'.', b'e', b'E', b'+', b' ',
            b'\n', b'n', b't', b'f', b'u', b'a', 0x00, 0x1f, 0x7f, 0xc3, 0xa9, 0xff, 0xed, 0xa0, 0x80,
        ][..],
    )
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Remove(usize),
    Replace(usize, u8),
    /// Repeats a span (a member, a key) somewhere else.
    Copy(usize, usize, usize),
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let edit = prop_oneof![
        (any::<usize>(), interesting()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Remove),
        (any::<usize>(), interesting()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), 1usize..30, any::<usize>()).prop_map(|(a, n, to)| Edit::Copy(a, n, to)),
    ];
    (
        prop_oneof![canonical(), shaped(), document().prop_map(String::into_bytes)],
        proptest::collection::vec(edit, 1..4),
    )
        .prop_map(|(mut doc, edits)| {
            for edit in edits {
                match edit {
                    Edit::Insert(i, b) => doc.insert(i % (doc.len() + 1), b),
                    Edit::Remove(i) if !doc.is_empty() => {
                        doc.remove(i % doc.len());
                    }
                    Edit::Replace(i, b) if !doc.is_empty() => {
                        let i = i % doc.len();
                        doc[i] = b;
                    }
                    Edit::Copy(a, n, to) if !doc.is_empty() => {
                        let a = a % doc.len();
                        let span: Vec<u8> = doc[a..(a + n).min(doc.len())].to_vec();
                        let to = to % (doc.len() + 1);
                        doc.splice(to..to, span);
                    }
                    _ => {}
                }
            }
            doc
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_documents_decode_as_serde_json_does(doc in document()) {
        every_type(doc.as_bytes())?;
    }

    #[test]
    fn canonical_documents_decode_as_serde_json_does(doc in canonical()) {
        every_type(&doc)?;
    }

    #[test]
    fn shaped_documents_decode_as_serde_json_does(doc in shaped()) {
        every_type(&doc)?;
    }

    #[test]
    fn mutated_documents_decode_as_serde_json_does(doc in mutated()) {
        every_type(&doc)?;
    }
}

/// The fast path does take what the writers write (else the comparison proves little).
#[test]
fn canonical_documents_take_the_fast_path() {
    let heartbeat =
        r#"{"type":"Heartbeat","timestamp":1732762000.123456,"service":"experimance-core-benchmark"}"#;
    let python = r#"{"type": "Heartbeat", "timestamp": 1.5, "service": "core", "tasks_processed": 7}"#;
    let render = r#"{"type":"RenderRequest","request_id":"r1","era":"modern","biome":"forest","prompt":"a forest","depth_map_png":null}"#;
    for doc in [heartbeat, python] {
        let (_, after) = crate::codec::tag::leading_tag(doc.as_bytes()).expect("tag first");
        let fast: Heartbeat = super::decode_after_tag(doc.as_bytes(), after).expect("fast path");
        assert_eq!(fast, decode_general::<Heartbeat>(doc).expect("decodes"));
    }
    let (_, after) = crate::codec::tag::leading_tag(render.as_bytes()).expect("tag first");
    let fast: RenderRequest = super::decode_after_tag(render.as_bytes(), after).expect("fast path");
    assert_eq!(fast, decode_general::<RenderRequest>(render).expect("decodes"));
    // And gives up where serde_json must speak: a repeated key, an escape, a range error.
    for doc in [
        r#"{"type":"Heartbeat","timestamp":1.5,"service":"a","service":"b"}"#,
        r#"{"type":"Heartbeat","timestamp":1.5,"service":"a","type":"Heartbeat"}"#,
        r#"{"type":"Heartbeat","timestamp":1.5,"service":"\u0061"}"#,
        r#"{"type":"Heartbeat","timestamp":1e400,"service":"a"}"#,
        r#"{"type":"Heartbeat","timestamp":1.5,"service":"a"} x"#,
    ] {
        let (_, after) = crate::codec::tag::leading_tag(doc.as_bytes()).expect("tag first");
        assert!(super::decode_after_tag::<Heartbeat>(doc.as_bytes(), after).is_none(), "{doc}");
    }
}

/// The byte-at-a-time reading of [`super::string_end`].
fn string_end_scalar(b: &[u8]) -> (usize, bool) {
    let end = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(b.len());
    (end, b[..end].is_ascii())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The vector scan (64 and 16 bytes a round) finds what a byte loop finds, at every
    /// length and position of a stop or a byte past ASCII.
    #[test]
    fn string_scan_is_the_byte_loop(
        len in 0usize..300,
        fill in proptest::sample::select(&[b'a', b'Z', b'0', b'+', b'/', b'='][..]),
        marks in proptest::collection::vec((any::<usize>(), proptest::sample::select(&[b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff][..])), 0..3),
    ) {
        let mut b = vec![fill; len];
        for (at, byte) in marks {
            if len > 0 {
                b[at % len] = byte;
            }
        }
        prop_assert_eq!(super::string_end(&b), string_end_scalar(&b));
    }
}
