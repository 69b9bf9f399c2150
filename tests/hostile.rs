//! A hostile peer: a raw `zmq` socket (PUSH into a `PullSocket`, XPUB into a
//! `Subscriber`) sends each frame of a corpus, then a good frame. For each case and each
//! decoding receive (typed, `AnyMessage`, `Value`; blocking and async) the error kind is
//! the one documented, `raw()` holds exactly the bytes sent, and the good frame after it
//! is delivered. An oversized frame gets its connection dropped, and a new connection is
//! heard. Then a bounded property test of mutated valid frames for every decoder.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use experimance_common::socket::{Error, PullSocket, Subscriber};
use experimance_common::*;
use proptest::prelude::*;
use serde_json::Value;

mod support;
use net::{assert_disconnected, raw_peer, raw_socket, READY};
use support::net;

use support::decoders;

const GOOD_JSON: &[u8] = br#"{"type": "EraChanged", "era": "modern", "biome": "forest"}"#;
const GOOD: EraChanged = EraChanged { era: Era::Modern, biome: Biome::Forest };

type Check = fn(&DecodeErrorKind) -> bool;

/// One hostile document (what a PUSH frame holds, or a PUB frame after `t `), its
/// expected kind for every decoder, and its name.
struct Case {
    name: &'static str,
    json: Vec<u8>,
    check: Check,
}

/// Deterministic "random" bytes (xorshift), so that a failure replays.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn json_error(k: &DecodeErrorKind) -> bool {
    matches!(k, DecodeErrorKind::Json(_))
}

fn corpus() -> Vec<Case> {
    let era = |field: &str| -> Vec<u8> {
        format!(r#"{{"type": "EraChanged", "era": "modern", "biome": "forest", {field}}}"#).into_bytes()
    };
    let mut bad_key = era(r#""k": 1"#);
    let at = bad_key.iter().rposition(|&b| b == b'k').unwrap();
    bad_key[at] = 0xc3; // a lone lead byte
    let mut bad_ignored = era(r#""note": "abc""#);
    let at = bad_ignored.iter().rposition(|&b| b == b'c').unwrap();
    bad_ignored[at] = 0xff;
    let random = random_bytes(64);
    assert!(std::str::from_utf8(&random).is_err());
    let deep = 100_000;
    vec![
        Case { name: "random bytes", json: random, check: |k| matches!(k, DecodeErrorKind::NotUtf8 { .. }) },
        Case {
            name: "invalid UTF-8 in a key",
            json: bad_key,
            check: |k| matches!(k, DecodeErrorKind::NotUtf8 { .. }),
        },
        Case {
            name: "invalid UTF-8 in an ignored value",
            json: bad_ignored,
            check: |k| matches!(k, DecodeErrorKind::NotUtf8 { .. }),
        },
        Case { name: "empty", json: Vec::new(), check: json_error },
        Case { name: "NaN", json: era(r#""x": NaN"#), check: json_error },
        Case { name: "Infinity", json: era(r#""x": Infinity"#), check: json_error },
        Case { name: "-Infinity", json: era(r#""x": -Infinity"#), check: json_error },
        Case {
            name: "lone surrogate",
            json: era(r#""note": "\ud800""#),
            check: |k| matches!(k, DecodeErrorKind::LoneSurrogate { .. }),
        },
        Case {
            name: "100k-deep nesting",
            json: era(&format!(r#""deep": {}{}"#, "[".repeat(deep), "]".repeat(deep))),
            check: |k| matches!(k, DecodeErrorKind::Json(e) if e.to_string().contains("recursion limit")),
        },
        Case {
            name: "100k-deep unclosed nesting",
            json: era(&format!(r#""deep": {}"#, "[".repeat(deep))),
            check: json_error,
        },
        Case {
            name: "duplicate key",
            json: era(r#""era": "ruins""#),
            check: |k| matches!(k, DecodeErrorKind::DuplicateKey { key } if key == "era"),
        },
        Case {
            name: "duplicate type",
            json: era(r#""type": "EraChanged""#),
            check: |k| matches!(k, DecodeErrorKind::DuplicateKey { key } if key == "type"),
        },
    ]
}

/// The PUB-only cases: whole frames.
fn pub_framing_cases() -> Vec<Case> {
    vec![
        Case {
            name: "no space",
            json: b"t{\"type\":\"EraChanged\"}".to_vec(),
            check: |k| matches!(k, DecodeErrorKind::MissingSeparator),
        },
        Case {
            name: "invalid UTF-8 in the topic",
            json: [&b"t\xff "[..], GOOD_JSON].concat(),
            check: |k| matches!(k, DecodeErrorKind::TopicNotUtf8 { valid_up_to: 1 }),
        },
    ]
}

fn pub_frame(json: &[u8]) -> Vec<u8> {
    [&b"t "[..], json].concat()
}

/// The decode error in `result`, checked against the case and the frame sent.
fn check_error<T: std::fmt::Debug>(result: Result<T, Error>, case: &str, frame: &[u8], check: Check) {
    let err = match result {
        Err(Error::Decode(e)) => e,
        other => panic!("{case}: expected a decode error, got {other:?}"),
    };
    assert!(check(err.kind()), "{case}: {:?}", err.kind());
    assert!(err.raw() == frame, "{case}: raw() holds {} bytes, {} were sent", err.raw().len(), frame.len());
    assert!(err.to_string().len() < 1000, "{case}: the error text is bounded");
}

fn multipart_check(k: &DecodeErrorKind) -> bool {
    matches!(k, DecodeErrorKind::Multipart { parts: 3 })
}

/// How long a receive of the corpus waits at most. Every frame is sent before it is
/// received, so a passing run never waits this out; 5 s (`READY`) once ran out at a load
/// average of 15 on 2 cores.
const RECEIVE_BOUND: std::time::Duration = std::time::Duration::from_secs(30);

/// A pull socket bound on inproc and a raw PUSH connected to it.
fn pull_pair() -> (PullSocket, zmq::Socket) {
    let endpoint = format!("inproc://{}", net::unique("hostile"));
    let pull = PullSocket::builder().bind(&endpoint).unwrap().receive_timeout(RECEIVE_BOUND).build().unwrap();
    let raw = raw_socket(zmq::PUSH);
    raw.connect(&endpoint).unwrap();
    (pull, raw)
}

/// A subscriber (all topics) and the raw XPUB it is connected to, subscription arrived.
fn sub_pair() -> (Subscriber, zmq::Socket) {
    let raw = raw_socket(zmq::XPUB);
    raw.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = raw.get_last_endpoint().unwrap().unwrap();
    let sub = Subscriber::builder()
        .connect(&endpoint)
        .unwrap()
        .subscribe_all()
        .receive_timeout(RECEIVE_BOUND)
        .build()
        .unwrap();
    assert_eq!(raw.recv_bytes(0).unwrap(), b"\x01", "the subscription reaches the raw publisher");
    (sub, raw)
}

/// Sends every case of `$cases` three times through `$raw`, receiving each with the
/// typed, any and Value receive of `$rx` (the method names given, then `$aw`: nothing
/// or `.await`), each followed by a good frame that must arrive; then a 3-part message.
macro_rules! survive_corpus {
    ($rx:ident, $raw:ident, $cases:expr, $typed:ident, $good:expr, $expect:expr, $first:expr,
     [$($aw:tt)*]) => {
        for case in $cases {
            for decoder in 0..3 {
                $raw.send(&case.json, 0).unwrap();
                let name = format!("{} (decoder {decoder})", case.name);
                match decoder {
                    0 => check_error($rx.$typed::<EraChanged>() $($aw)*, &name, &case.json, case.check),
                    1 => check_error($rx.$typed::<AnyMessage>() $($aw)*, &name, &case.json, case.check),
                    _ => check_error($rx.$typed::<Value>() $($aw)*, &name, &case.json, case.check),
                }
                $raw.send($good, 0).unwrap();
                assert_eq!($rx.$typed::<EraChanged>() $($aw)*.unwrap(), $expect, "{name}: the next good frame");
            }
        }
        $raw.send_multipart([$first, b"b", b"c"], 0).unwrap();
        match $rx.$typed::<Value>() $($aw)* {
            Err(Error::Decode(e)) => {
                assert!(multipart_check(e.kind()), "{:?}", e.kind());
                assert_eq!((e.raw(), e.extra_parts()), ($first, &[b"b".to_vec(), b"c".to_vec()][..]));
            }
            other => panic!("multipart: {other:?}"),
        }
        $raw.send($good, 0).unwrap();
        assert_eq!($rx.$typed::<EraChanged>() $($aw)*.unwrap(), $expect);
    };
}

/// The corpus as PUB frames, and the PUB-only cases.
fn pub_corpus() -> impl Iterator<Item = Case> {
    corpus().into_iter().map(|c| Case { json: pub_frame(&c.json), ..c }).chain(pub_framing_cases())
}

#[test]
fn pull_survives_the_hostile_corpus_blocking() {
    let (mut pull, raw) = pull_pair();
    survive_corpus!(pull, raw, corpus(), pull, GOOD_JSON, GOOD, &b"a"[..], []);
}

#[test]
fn subscriber_survives_the_hostile_corpus_blocking() {
    let (mut sub, raw) = sub_pair();
    let good = pub_frame(GOOD_JSON);
    survive_corpus!(sub, raw, pub_corpus(), receive, &good, ("t".into(), GOOD), &b"t a"[..], []);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn pull_survives_the_hostile_corpus_async() {
    runtime().block_on(async {
        let (mut pull, raw) = pull_pair();
        survive_corpus!(pull, raw, corpus(), pull_async, GOOD_JSON, GOOD, &b"a"[..], [.await]);
    });
}

#[test]
fn subscriber_survives_the_hostile_corpus_async() {
    runtime().block_on(async {
        let (mut sub, raw) = sub_pair();
        let good = pub_frame(GOOD_JSON);
        let expect = ("t".into(), GOOD);
        survive_corpus!(sub, raw, pub_corpus(), receive_async, &good, expect, &b"t a"[..], [.await]);
    });
}

// ------------------------------------------------------------------ oversized frames

const LIMIT: u64 = 64 * 1024;
const HUGE: usize = 4 * 1024 * 1024;

/// An oversized frame: libzmq drops its connection (the monitor says so) before
/// delivering anything; a new connection's good frame is then what the receive returns,
/// and nothing else is queued.
#[test]
fn an_oversized_frame_drops_its_connection_and_a_new_one_is_heard() {
    runtime().block_on(async {
        for asynchronous in [false, true] {
            let mut pull = PullSocket::builder()
                .bind("tcp://127.0.0.1:*")
                .unwrap()
                .max_message_size(LIMIT)
                .receive_timeout(READY)
                .build()
                .unwrap();
            let endpoint = pull.endpoint();
            let (big, big_monitor) = raw_peer(zmq::PUSH, &endpoint);
            big.send(vec![b'x'; HUGE], 0).unwrap();
            assert_disconnected(&big_monitor);
            let (good, _monitor) = raw_peer(zmq::PUSH, &endpoint);
            good.send(GOOD_JSON, 0).unwrap();
            let got =
                if asynchronous { pull.pull_raw_async().await.unwrap() } else { pull.pull_raw().unwrap() };
            assert_eq!(got, GOOD_JSON, "async {asynchronous}: the new connection's frame, not the huge one");
            assert!(pull.try_pull::<Value>().unwrap().is_none());

            let mut sub = Subscriber::builder()
                .bind("tcp://127.0.0.1:*")
                .unwrap()
                .subscribe_all()
                .max_message_size(LIMIT)
                .receive_timeout(READY)
                .build()
                .unwrap();
            let endpoint = sub.endpoint();
            let (big, big_monitor) = raw_peer(zmq::XPUB, &endpoint);
            sub.wait_connected(READY).unwrap();
            assert_eq!(big.recv_bytes(0).unwrap(), b"\x01");
            let mut huge = pub_frame(b"");
            huge.resize(HUGE, b'x');
            big.send(huge, 0).unwrap();
            assert_disconnected(&big_monitor);
            let (good, _monitor) = raw_peer(zmq::XPUB, &endpoint);
            sub.wait_connected(READY).unwrap();
            assert_eq!(good.recv_bytes(0).unwrap(), b"\x01");
            good.send(pub_frame(GOOD_JSON), 0).unwrap();
            let got = if asynchronous {
                sub.receive_async::<EraChanged>().await.unwrap()
            } else {
                sub.receive::<EraChanged>().unwrap()
            };
            assert_eq!(got, ("t".into(), GOOD), "async {asynchronous}");
            assert!(sub.try_receive::<Value>().unwrap().is_none());
        }
    });
}

// ------------------------------------------------------------------ mutated frames

/// Valid frames of every built-in type as Python and Rust write them.
fn seeds() -> Vec<Vec<u8>> {
    [
        r#"{"type": "EraChanged", "era": "modern", "biome": "forest"}"#,
        r#"{"type":"RenderRequest","request_id":"r1","era":"ruins","biome":"tundra","prompt":"a \"sand\" table\n","depth_map_png":null}"#,
        r#"{"type": "Idle", "status": true}"#,
        r#"{"type": "ImageReady", "request_id": null, "image_id": "i", "uri": "file:///x"}"#,
        r#"{"type": "TransitionReady", "transition_id": "t", "uri": "u", "is_video": false, "loop": true, "final_frame_uri": "f"}"#,
        r#"{"type": "LoopReady", "loop_id": "l", "uri": "u", "is_video": true, "duration_s": 2.5}"#,
        r#"{"type": "AgentControlEvent", "sub_type": "SuggestBiome", "payload": {"biome_suggestion": "hills"}}"#,
        r#"{"type": "TransitionRequest", "request_id": "r", "from_image_uri": "a", "to_image_uri": "b", "duration_frames": 30}"#,
        r#"{"type": "LoopRequest", "request_id": "r", "still_image_uri": "s", "style": "drift"}"#,
        r#"{"type":"Heartbeat","timestamp":1732762000.123456,"service":"experimance-core","tasks_processed":7,"note":"\u00e9\ud83d\ude00"}"#,
        r#"{"type": "Custom", "nested": {"a": [1, 2.5e3, "x"], "b": null}}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Inserted bytes favour JSON's structure and the bytes the rules are about.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(&b"{}[]\",:\\ u0d8ffNaI-1e"[..]),
        prop::sample::select(&[0x80u8, 0xc3, 0xed, 0xff][..]),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), 1u8..).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Remove),
    ]
}

fn apply(frame: &mut Vec<u8>, m: &Mutation) {
    if frame.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, x) => {
            let i = i.index(frame.len());
            frame[i] ^= x;
        }
        Mutation::Truncate(i) => frame.truncate(i.index(frame.len())),
        Mutation::Insert(i, b) => frame.insert(i.index(frame.len() + 1), *b),
        Mutation::Remove(i) => {
            frame.remove(i.index(frame.len()));
        }
    }
}

proptest! {
    // 512 cases of up to 4 mutations each, every decoder both ways: about a second.
    #![proptest_config(ProptestConfig { cases: 512, max_shrink_iters: 256, ..ProptestConfig::default() })]
    #[test]
    fn mutated_frames_never_panic_and_keep_their_bytes(
        seed in prop::sample::select(seeds()),
        mutations in prop::collection::vec(mutation(), 1..=4),
    ) {
        let mut json = seed;
        for m in &mutations {
            apply(&mut json, m);
        }
        decoders::check_all(&json, decoders::Framing::Push).map_err(TestCaseError::fail)?;
        decoders::check_all(&pub_frame(&json), decoders::Framing::Pub).map_err(TestCaseError::fail)?;
        // The mutation also hits the topic and the separator.
        let mut frame = pub_frame(&json);
        apply(&mut frame, &mutations[0]);
        decoders::check_all(&frame, decoders::Framing::Pub).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn the_seeds_decode() {
    for seed in seeds() {
        assert!(codec::decode_push::<AnyMessage>(&seed).is_ok(), "{}", String::from_utf8_lossy(&seed));
        decoders::check_all(&seed, decoders::Framing::Push).unwrap();
    }
}
