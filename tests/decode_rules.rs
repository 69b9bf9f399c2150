//! One rule per defect, the same for every decoder (typed, `AnyMessage`, `Value`; PUB
//! and PUSH framing): invalid UTF-8, unpaired surrogate escapes, `NaN`, deep nesting and
//! repeated keys. Bounded error text for huge frames, and non-finite floats refused on
//! encode.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use experimance_common::codec;
use experimance_common::registry::lookup_type;
use experimance_common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A user type whose float sits in a nested object and a list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Message)]
#[message(type = "Probe")]
struct Probe {
    payload: Point,
    samples: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point {
    x: f64,
}

/// Every decoder's error kind for `json`, as a PUSH frame and inside a PUB frame
/// (`t <json>`), each error checked to hold the frame as given; the typed decoders are
/// `M`'s (so that the first problem met is not the type).
fn every_decoder<M: Message>(json: &[u8]) -> Vec<(&'static str, DecodeErrorKind)> {
    fn push<T>(
        name: &'static str,
        frame: &[u8],
        r: Result<T, DecodeError>,
    ) -> (&'static str, DecodeErrorKind) {
        match r {
            Ok(_) => panic!("{name}: {:?} decoded", String::from_utf8_lossy(frame)),
            Err(e) => {
                assert_eq!(e.raw(), frame, "{name}: the error holds the frame");
                (name, e.into_kind())
            }
        }
    }
    let mut pub_frame = b"t ".to_vec();
    pub_frame.extend_from_slice(json);
    let f = &pub_frame[..];
    vec![
        push("typed push", json, codec::decode_push::<M>(json)),
        push("any push", json, codec::decode_push::<AnyMessage>(json)),
        push("value push", json, codec::decode_push::<serde_json::Value>(json)),
        push("registry", json, lookup_type(M::TYPE).unwrap().decode(json)),
        push("typed pub", f, codec::decode_pub::<M>(f)),
        push("any pub", f, codec::decode_pub::<AnyMessage>(f)),
        push("value pub", f, codec::decode_pub::<serde_json::Value>(f)),
    ]
}

/// `json` is an EraChanged (so the typed decoder would take it) with `field` added.
fn era_with(field: &str) -> Vec<u8> {
    format!(r#"{{"type":"EraChanged","era":"modern","biome":"forest",{field}}}"#).into_bytes()
}

#[test]
fn invalid_utf8_in_an_ignored_string_is_rejected_by_every_decoder() {
    let mut json = era_with(r#""note":"ab""#);
    let at = json.len() - 2;
    json.insert(at, 0xff); // "note":"ab\xff"}
    for (name, kind) in every_decoder::<EraChanged>(&json) {
        let offset = if name.ends_with("pub") { 2 } else { 0 };
        let expected = at + offset;
        assert!(
            matches!(kind, DecodeErrorKind::NotUtf8 { valid_up_to } if valid_up_to == expected),
            "{name}: {kind:?}"
        );
    }
    // In a key, and in a Heartbeat extra field, the same.
    let json = b"{\"type\":\"Heartbeat\",\"timestamp\":1.0,\"service\":\"s\",\"k\xc3\":1}";
    for (name, kind) in every_decoder::<Heartbeat>(json) {
        assert!(matches!(kind, DecodeErrorKind::NotUtf8 { .. }), "{name}: {kind:?}");
    }
    // In the topic it is the topic's error.
    let err = codec::decode_pub::<EraChanged>(b"t\xff {}").unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::TopicNotUtf8 { valid_up_to: 1 }), "{err}");
}

#[test]
fn lone_surrogates_are_rejected_by_every_decoder_even_when_ignored() {
    for (field, at) in [
        (r#""note":"\ud800""#, 0),
        (r#""note":"x\udc00""#, 1),
        (r#""note":"\ud800\u0041""#, 0),
        (r#""note":{"deep":["\udbff"]}"#, 10),
    ] {
        let json = era_with(field);
        let backslash = json.iter().position(|&b| b == b'\\').unwrap();
        assert!(at <= backslash);
        for (name, kind) in every_decoder::<EraChanged>(&json) {
            let offset = if name.ends_with("pub") { 2 } else { 0 };
            assert!(
                matches!(kind, DecodeErrorKind::LoneSurrogate { at } if at == backslash + offset),
                "{name} {field}: {kind:?}"
            );
        }
    }
    // A proper pair, an escaped backslash before "ud800", and a plain escape decode.
    for field in [r#""note":"\ud83d\ude00""#, r#""note":"\\ud800""#, r#""note":"\u00e9\n""#] {
        assert!(codec::decode_push::<EraChanged>(&era_with(field)).is_ok(), "{field}");
        assert!(codec::decode_push::<serde_json::Value>(&era_with(field)).is_ok(), "{field}");
    }
}

#[test]
fn nan_and_infinity_are_not_json_for_any_decoder() {
    for field in [r#""x":NaN"#, r#""x":Infinity"#, r#""x":-Infinity"#] {
        for (name, kind) in every_decoder::<EraChanged>(&era_with(field)) {
            assert!(matches!(kind, DecodeErrorKind::Json(_)), "{name} {field}: {kind:?}");
        }
    }
}

#[test]
fn deep_nesting_is_refused_by_every_decoder_without_overflowing_the_stack() {
    for depth in [129, 100_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            // Closed, so that depth is the document's only defect.
            let json = era_with(&format!(r#""deep":{}1{}"#, open.repeat(depth), close.repeat(depth)));
            for (name, kind) in every_decoder::<EraChanged>(&json) {
                match kind {
                    DecodeErrorKind::Json(e) => {
                        assert!(e.to_string().contains("recursion limit"), "{name} {depth}: {e}")
                    }
                    other => panic!("{name} {depth}: {other:?}"),
                }
            }
            // Unclosed (as the issue's `[[[[...`): a JSON error too, whichever comes first.
            let json = era_with(&format!(r#""deep":{}"#, open.repeat(depth)));
            for (name, kind) in every_decoder::<EraChanged>(&json) {
                assert!(matches!(kind, DecodeErrorKind::Json(_)), "{name} {depth}: {kind:?}");
            }
        }
    }
    // The object and 126 arrays in it are within serde_json's limit, for every decoder.
    let deep = format!(r#""deep":{}{}"#, "[".repeat(126), "]".repeat(126));
    assert!(codec::decode_push::<EraChanged>(&era_with(&deep)).is_ok());
    assert!(codec::decode_push::<serde_json::Value>(&era_with(&deep)).is_ok());
    assert!(codec::decode_push::<AnyMessage>(&era_with(&deep)).is_ok());
}

#[test]
fn a_repeated_top_level_key_is_rejected_by_every_decoder() {
    for (doc, key) in [
        // A second "type", same or other, first or later, fast path or not.
        (r#"{"type":"EraChanged","era":"modern","biome":"forest","type":"EraChanged"}"#, "type"),
        (r#"{"type": "EraChanged", "type": "Other", "era": "modern", "biome": "forest"}"#, "type"),
        (r#"{"era":"modern","type":"EraChanged","biome":"forest","type":"X"}"#, "type"),
        // A schema field, an ignored field.
        (r#"{"type":"EraChanged","era":"modern","biome":"forest","era":"ruins"}"#, "era"),
        (r#"{"type":"EraChanged","era":"modern","biome":"forest","x":1,"x":2}"#, "x"),
        (r#"{"type":"Heartbeat","timestamp":1.0,"service":"s","n":1,"n":2}"#, "n"),
        (r#"{"type":"Heartbeat","timestamp":1.0,"service":"s","type":"Heartbeat"}"#, "type"),
    ] {
        let kinds = if doc.contains("Heartbeat") {
            every_decoder::<Heartbeat>(doc.as_bytes())
        } else {
            every_decoder::<EraChanged>(doc.as_bytes())
        };
        for (name, kind) in kinds {
            assert!(
                matches!(&kind, DecodeErrorKind::DuplicateKey { key: k } if k == key),
                "{name} {doc}: {kind:?}"
            );
        }
    }
    // Many keys (the set switches to hashing) and the duplicate at the end.
    let mut fields: Vec<String> = (0..1000).map(|i| format!(r#""k{i}":{i}"#)).collect();
    fields.push(r#""k500":0"#.to_owned());
    let doc = era_with(&fields.join(","));
    for (name, kind) in every_decoder::<EraChanged>(&doc) {
        assert!(matches!(&kind, DecodeErrorKind::DuplicateKey { key } if key == "k500"), "{name}: {kind:?}");
    }
    // Nested free-form objects are not checked (serde_json keeps the last, as Python).
    let doc = era_with(r#""meta":{"a":1,"a":2}"#);
    assert!(codec::decode_push::<EraChanged>(&doc).is_ok());
    assert_eq!(codec::decode_push::<serde_json::Value>(&doc).unwrap()["meta"], json!({"a": 2}));
}

#[test]
fn a_huge_frame_gives_bounded_error_text_and_keeps_every_byte() {
    let mut frame = b"{\"type\": \x1b]0;pwned\x07".to_vec();
    frame.resize(10_000_000, b'x');
    let err = codec::decode_push::<EraChanged>(&frame).unwrap_err();
    assert_eq!(err.raw().len(), frame.len());
    assert_eq!(err.raw(), &frame[..]);
    let display = err.to_string();
    let debug = format!("{err:?}");
    for text in [&display, &debug] {
        assert!(text.len() < 1000, "{} bytes of text: {}", text.len(), &text[..200]);
        assert!(text.contains("10000000"), "the length is shown: {text}");
        assert!(text.contains("\\u{1b}]0;pwned\\u{7}"), "the prefix is shown escaped: {text}");
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "no raw control byte: {text:?}");
    }
    // A huge wrong type name and a huge repeated key are clipped in the kind.
    let name = "N".repeat(1_000_000);
    let doc = format!(r#"{{"type":"{name}","era":"modern","biome":"forest"}}"#);
    let err = codec::decode_push::<EraChanged>(doc.as_bytes()).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::WrongType { found, .. } if found.len() < 100), "{err}");
    let doc = format!(r#"{{"{name}":1,"{name}":2}}"#);
    let err = codec::decode_push::<serde_json::Value>(doc.as_bytes()).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::DuplicateKey { key } if key.len() < 100), "{err}");
    // serde's own messages quote the value: the text stays bounded anyway.
    let doc = format!(r#"{{"type":"EraChanged","era":"{name}","biome":"forest"}}"#);
    let err = codec::decode_push::<EraChanged>(doc.as_bytes()).unwrap_err();
    assert!(err.to_string().len() < 1000 && format!("{err:?}").len() < 1000);
    // Invalid UTF-8 is shown as \x escapes, valid text as it is.
    let err = codec::decode_pub::<EraChanged>(b"t\xff {\"\xc3\xa9\"").unwrap_err();
    assert!(err.to_string().contains(r#""t\xff {\"é\""#), "{err}");
}

#[test]
fn non_finite_floats_are_an_encode_error_naming_the_field() {
    let mut buf = b"previous".to_vec();
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let hb = Heartbeat { timestamp: v, service: "s".into(), extra: Default::default() };
        let err = codec::encode_push(&hb, &mut buf).unwrap_err();
        assert!(
            matches!(&err, EncodeError::NonFiniteFloat { message_type: "Heartbeat", field, .. } if field == "timestamp"),
            "{err}"
        );
        assert!(err.to_string().contains("timestamp"), "{err}");
        let lr = LoopReady { loop_id: "l".into(), uri: "u".into(), is_video: true, duration_s: Some(v) };
        let err = codec::encode_pub("loops", &lr, &mut buf).unwrap_err();
        assert!(matches!(&err, EncodeError::NonFiniteFloat { field, .. } if field == "duration_s"), "{err}");
        let err = codec::encode_push(&AnyMessage::LoopReady(lr), &mut buf).unwrap_err();
        assert!(matches!(&err, EncodeError::NonFiniteFloat { field, .. } if field == "duration_s"), "{err}");
        let probe = Probe { payload: Point { x: v }, samples: vec![1.0] };
        let err = codec::encode_push(&probe, &mut buf).unwrap_err();
        assert!(matches!(&err, EncodeError::NonFiniteFloat { field, .. } if field == "payload.x"), "{err}");
        // As a JSON value too: the same error, not a `null` document.
        let err = DynMessage::to_json(&probe).unwrap_err();
        assert!(matches!(&err, EncodeError::NonFiniteFloat { field, .. } if field == "payload.x"), "{err}");
        let err = AnyMessage::Registered(Box::new(probe)).to_json().unwrap_err();
        assert!(matches!(&err, EncodeError::NonFiniteFloat { field, .. } if field == "payload.x"), "{err}");
        let probe = Probe { payload: Point { x: 0.0 }, samples: vec![1.0, 2.0, v as f32] };
        let err = codec::encode_push(&probe, &mut buf).unwrap_err();
        assert!(matches!(&err, EncodeError::NonFiniteFloat { field, .. } if field == "samples[2]"), "{err}");
        // A registered type through AnyMessage.
        let any = codec::decode_push::<AnyMessage>(br#"{"type":"Probe","payload":{"x":1.0},"samples":[]}"#)
            .unwrap();
        assert!(matches!(any, AnyMessage::Registered(_)));
    }
    // A null that is a real null, and "null" inside a string, still encode.
    let lr = LoopReady { loop_id: "null".into(), uri: "u".into(), is_video: true, duration_s: None };
    codec::encode_push(&lr, &mut buf).unwrap();
    assert_eq!(codec::decode_push::<LoopReady>(&buf).unwrap(), lr);
    // A free-form Value cannot hold a NaN at all.
    assert!(serde_json::Number::from_f64(f64::NAN).is_none());
    assert!(codec::encode_push(&json!({"type": "X", "v": f64::NAN}), &mut buf).is_ok());
    assert_eq!(serde_json::from_slice::<Value>(&buf).unwrap()["v"], Value::Null);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn non_finite_probe_fields_never_encode(x in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), any::<f64>()]) {
        let mut buf = Vec::new();
        let probe = Probe { payload: Point { x }, samples: vec![] };
        let result = codec::encode_push(&probe, &mut buf);
        prop_assert_eq!(result.is_ok(), x.is_finite());
        if x.is_finite() {
            prop_assert_eq!(codec::decode_push::<Probe>(&buf).unwrap(), probe);
        }
    }
}
