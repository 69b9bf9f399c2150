//! The wire codec: golden vectors written the way Python's `json.dumps` writes them,
//! proptest roundtrips for every message type, and garbage that must never panic.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use experimance_common::codec::{self, validate_topic};
use experimance_common::registry::{check_registry, lookup_type, registered_types};
use experimance_common::*;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

mod support;
use support::decoders;

// ---------------------------------------------------------------- golden vectors

/// Asserts that `python` (a document as `json.dumps` writes it) decodes to `expected`,
/// and that Rust's encoding of `expected` is the same JSON value.
fn golden<M: Message + PartialEq>(python: &str, expected: M) {
    let decoded: M = codec::decode_push(python.as_bytes()).unwrap_or_else(|e| panic!("{python}: {e}"));
    assert_eq!(decoded, expected, "decoding {python}");
    let mut buf = Vec::new();
    codec::encode_push(&expected, &mut buf).unwrap();
    let ours: Value = serde_json::from_slice(&buf).unwrap();
    let theirs: Value = serde_json::from_str(python).unwrap();
    assert_eq!(ours, theirs, "encoding of {expected:?}");
    // The same document inside a PUB frame, as Python's publisher sends it.
    let frame = format!("events {python}");
    let (topic, again) = codec::decode_pub::<M>(frame.as_bytes()).unwrap();
    assert_eq!((topic, again), ("events", expected));
}

#[test]
fn golden_era_changed() {
    golden(
        r#"{"type": "EraChanged", "era": "ai_future", "biome": "temperate_forest"}"#,
        EraChanged { era: Era::AiFuture, biome: Biome::TemperateForest },
    );
}

#[test]
fn golden_render_request_with_python_escapes() {
    // json.dumps escapes non-ASCII as \uXXXX, astral characters as surrogate pairs.
    golden(
        r#"{"type": "RenderRequest", "request_id": "r-1", "era": "pre_industrial", "biome": "savanna", "prompt": "caf\u00e9 \ud83c\udf32 \"quoted\"\n", "depth_map_png": null}"#,
        RenderRequest {
            request_id: "r-1".into(),
            era: Era::PreIndustrial,
            biome: Biome::Savanna,
            prompt: "café 🌲 \"quoted\"\n".into(),
            depth_map_png: None,
        },
    );
    golden(
        r#"{"type": "RenderRequest", "request_id": "r-2", "era": "ruins", "biome": "desert", "prompt": "", "depth_map_png": "iVBORw0KGgo="}"#,
        RenderRequest {
            request_id: "r-2".into(),
            era: Era::Ruins,
            biome: Biome::Desert,
            prompt: String::new(),
            depth_map_png: Some("iVBORw0KGgo=".into()),
        },
    );
}

#[test]
fn golden_idle_status_and_its_python_alias() {
    golden(r#"{"type": "IdleStatus", "status": true}"#, IdleStatus { status: true });
    // Python's model writes "Idle"; it must be accepted...
    let m: IdleStatus = codec::decode_push(br#"{"type": "Idle", "status": false}"#).unwrap();
    assert_eq!(m, IdleStatus { status: false });
    // ...but Rust always writes "IdleStatus".
    let mut buf = Vec::new();
    codec::encode_push(&m, &mut buf).unwrap();
    assert_eq!(buf, br#"{"type":"IdleStatus","status":false}"#);
}

#[test]
fn golden_image_ready() {
    golden(
        r#"{"type": "ImageReady", "request_id": null, "image_id": "img-7", "uri": "file:///tmp/\u00e9.png"}"#,
        ImageReady { request_id: None, image_id: "img-7".into(), uri: "file:///tmp/é.png".into() },
    );
    // An optional field may also be absent.
    let m: ImageReady =
        codec::decode_push(br#"{"type": "ImageReady", "image_id": "i", "uri": "u"}"#).unwrap();
    assert_eq!(m.request_id, None);
}

#[test]
fn golden_transition_ready_and_default_loop() {
    golden(
        r#"{"type": "TransitionReady", "transition_id": "t", "uri": "u", "is_video": true, "loop": true, "final_frame_uri": "f"}"#,
        TransitionReady {
            transition_id: "t".into(),
            uri: "u".into(),
            is_video: true,
            r#loop: true,
            final_frame_uri: "f".into(),
        },
    );
    let m: TransitionReady = codec::decode_push(
        br#"{"type": "TransitionReady", "transition_id": "t", "uri": "u", "is_video": false, "final_frame_uri": "f"}"#,
    )
    .unwrap();
    assert!(!m.r#loop, "loop defaults to false as in Python");
}

#[test]
fn golden_loop_ready() {
    golden(
        r#"{"type": "LoopReady", "loop_id": "l", "uri": "u", "is_video": false, "duration_s": 2.5}"#,
        LoopReady { loop_id: "l".into(), uri: "u".into(), is_video: false, duration_s: Some(2.5) },
    );
    golden(
        r#"{"type": "LoopReady", "loop_id": "l", "uri": "u", "is_video": true, "duration_s": null}"#,
        LoopReady { loop_id: "l".into(), uri: "u".into(), is_video: true, duration_s: None },
    );
}

#[test]
fn golden_agent_control_events() {
    golden(
        r#"{"type": "AgentControlEvent", "sub_type": "SuggestBiome", "payload": {"biome_suggestion": "coastal"}}"#,
        AgentControlEvent { control: AgentControl::SuggestBiome { biome_suggestion: Biome::Coastal } },
    );
    golden(
        r#"{"type": "AgentControlEvent", "sub_type": "AudiencePresent", "payload": {"status": true}}"#,
        AgentControlEvent { control: AgentControl::AudiencePresent { status: true } },
    );
    golden(
        r#"{"type": "AgentControlEvent", "sub_type": "SpeechDetected", "payload": {"is_speaking": false}}"#,
        AgentControlEvent { control: AgentControl::SpeechDetected { is_speaking: false } },
    );
    // An unknown sub_type keeps its raw payload.
    golden(
        r#"{"type": "AgentControlEvent", "sub_type": "Wave", "payload": {"hand": "left", "n": [1, 2]}}"#,
        AgentControlEvent {
            control: AgentControl::Other {
                sub_type: "Wave".into(),
                payload: json!({"hand": "left", "n": [1, 2]}),
            },
        },
    );
    // A known sub_type with a payload of the wrong shape is an error, not a guess.
    let err = codec::decode_push::<AgentControlEvent>(
        br#"{"type": "AgentControlEvent", "sub_type": "SuggestBiome", "payload": {"biome_suggestion": "moon"}}"#,
    )
    .unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Json(_)), "{err}");
}

#[test]
fn golden_transition_request_and_default_style() {
    golden(
        r#"{"type": "TransitionRequest", "request_id": "q", "from_image_uri": "a", "to_image_uri": "b", "style": "morph", "duration_frames": 48}"#,
        TransitionRequest {
            request_id: "q".into(),
            from_image_uri: "a".into(),
            to_image_uri: "b".into(),
            style: TransitionStyle::Morph,
            duration_frames: 48,
        },
    );
    let m: TransitionRequest = codec::decode_push(
        br#"{"type": "TransitionRequest", "request_id": "q", "from_image_uri": "a", "to_image_uri": "b", "duration_frames": 1}"#,
    )
    .unwrap();
    assert_eq!(m.style, TransitionStyle::Dissolve);
}

#[test]
fn golden_loop_request() {
    golden(
        r#"{"type": "LoopRequest", "request_id": "q", "still_image_uri": "s", "style": "gentle sway"}"#,
        LoopRequest { request_id: "q".into(), still_image_uri: "s".into(), style: "gentle sway".into() },
    );
}

#[test]
fn golden_heartbeat_keeps_extra_fields() {
    let mut extra = Map::new();
    extra.insert("tasks_processed".into(), json!(42));
    extra.insert("note".into(), json!("\u{e9}t\u{e9}"));
    golden(
        r#"{"type": "Heartbeat", "timestamp": 1732780000.123456, "service": "example-service", "tasks_processed": 42, "note": "\u00e9t\u00e9"}"#,
        Heartbeat { timestamp: 1732780000.123456, service: "example-service".into(), extra },
    );
}

#[test]
fn unknown_fields_are_ignored_like_pydantic() {
    let m: EraChanged = codec::decode_push(
        br#"{"biome": "hills", "added_later": {"x": 1}, "type": "EraChanged", "era": "modern"}"#,
    )
    .unwrap();
    assert_eq!(m, EraChanged { era: Era::Modern, biome: Biome::Hills });
}

#[test]
fn every_message_type_name_and_python_constant() {
    let names: Vec<&str> = MessageType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        names,
        [
            "EraChanged",
            "RenderRequest",
            "IdleStatus",
            "ImageReady",
            "TransitionReady",
            "LoopReady",
            "AgentControlEvent",
            "TransitionRequest",
            "LoopRequest",
            "Heartbeat"
        ]
    );
    assert_eq!(MessageType::AGENT_CONTROL_EVENT, MessageType::AgentControlEvent);
    assert_eq!(MessageType::HEARTBEAT.to_string(), "Heartbeat");
    for t in MessageType::ALL {
        assert_eq!(t.as_str().parse::<MessageType>().unwrap(), *t);
        assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
        assert_eq!(serde_json::from_value::<MessageType>(json!(t.as_str())).unwrap(), *t);
        assert!(lookup_type(t.as_str()).is_some(), "{t} is registered");
    }
    let err = "Heartbeats".parse::<MessageType>().unwrap_err();
    assert_eq!(err.to_string(), r#"unknown message type "Heartbeats""#);
}

#[test]
fn enum_wire_values() {
    let eras: Vec<String> = Era::ALL.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    assert_eq!(
        eras.join(","),
        r#""wilderness","pre_industrial","early_industrial","late_industrial","early_modern","modern","ai_future","post_apocalyptic","ruins""#
    );
    let biomes: Vec<&str> = Biome::ALL.iter().map(|b| b.as_str()).collect();
    assert_eq!(
        biomes,
        [
            "desert",
            "forest",
            "temperate_forest",
            "tropical_forest",
            "mountains",
            "hills",
            "tundra",
            "coastal",
            "plains",
            "savanna"
        ]
    );
    let styles: Vec<&str> = TransitionStyle::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(styles, ["dissolve", "morph", "wipe", "simple"]);
    assert!(serde_json::from_str::<Era>(r#""AI""#).is_err(), "the Python member name is not a wire value");
}

#[test]
fn default_ports_and_timeouts() {
    let ports: Vec<(&str, u16)> = DEFAULT_PORTS.iter().collect();
    assert_eq!(ports.len(), 14);
    assert_eq!(ports[0], ("coordinator_pub", 5555));
    assert_eq!(ports[13], ("example_pull", 5568));
    for (i, (name, port)) in ports.iter().enumerate() {
        assert_eq!(*port, 5555 + i as u16);
        assert_eq!(DEFAULT_PORTS.get(name), Some(*port));
    }
    assert_eq!(DEFAULT_PORTS.image_server_pull, 5564);
    assert_eq!(DefaultPort::AudioPub.port(), 5565);
    assert_eq!(DEFAULT_PORTS.get("coordinator-pub"), None);
    assert_eq!(DEFAULT_TIMEOUT.as_millis(), 1000);
    assert_eq!(HEARTBEAT_INTERVAL.as_secs_f64(), 5.0);
    assert_eq!(ZMQ_HEARTBEAT_INTERVAL.as_millis(), 3000);
}

// ---------------------------------------------------------------- typed errors

#[test]
fn wrong_and_missing_type_are_typed_errors_with_the_raw_frame() {
    let frame = br#"t {"type": "ImageReady", "era": "modern", "biome": "hills"}"#;
    let err = codec::decode_pub::<EraChanged>(frame).unwrap_err();
    match err.kind() {
        DecodeErrorKind::WrongType { expected, found } => {
            assert_eq!((*expected, found.as_str()), ("EraChanged", "ImageReady"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.raw(), frame);
    assert_eq!(err.topic(), Some("t"));

    let err = codec::decode_push::<EraChanged>(br#"{"era": "modern", "biome": "hills"}"#).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::MissingType { expected: "EraChanged" }), "{err}");
    let err =
        codec::decode_push::<EraChanged>(br#"{"type": 3, "era": "modern", "biome": "hills"}"#).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::TypeNotAString), "{err}");
    let err = codec::decode_push::<EraChanged>(b"[1, 2]").unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Json(_)), "{err}");
    let err = codec::decode_pub::<EraChanged>(b"no-space-here").unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::MissingSeparator));
    let err = codec::decode_pub::<serde_json::Value>(b"\xff\xfe {}").unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::TopicNotUtf8 { valid_up_to: 0 }));
    let err = codec::decode_push::<serde_json::Value>(b"\"just a string\"").unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::NotAnObject));
    assert!(err.to_string().contains("just a string"), "the message shows the frame: {err}");
}

#[test]
fn topics_with_spaces_are_rejected_and_empty_topics_work() {
    let mut buf = Vec::new();
    let err = codec::encode_pub("a b", &IdleStatus { status: true }, &mut buf).unwrap_err();
    assert!(matches!(err, EncodeError::Topic(TopicError::ContainsSpace { at: 1, .. })), "{err}");
    assert!(validate_topic("ü-topic").is_ok());
    codec::encode_pub("", &IdleStatus { status: true }, &mut buf).unwrap();
    assert_eq!(buf, br#" {"type":"IdleStatus","status":true}"#);
    let (topic, m) = codec::decode_pub::<IdleStatus>(&buf).unwrap();
    assert_eq!((topic, m.status), ("", true));
    // Untyped values must be objects.
    let err = codec::encode_push(&json!([1]), &mut buf).unwrap_err();
    assert!(matches!(err, EncodeError::NotAnObject { what: "array" }));
}

#[test]
fn encoding_reuses_the_buffer() {
    let mut buf = Vec::with_capacity(256);
    let ptr = buf.as_ptr();
    for i in 0..100 {
        codec::encode_pub(
            "hb",
            &Heartbeat { timestamp: i as f64, service: "s".into(), extra: Map::new() },
            &mut buf,
        )
        .unwrap();
    }
    assert_eq!(buf.as_ptr(), ptr, "no reallocation when the buffer is large enough");
    assert_eq!(buf, br#"hb {"type":"Heartbeat","timestamp":99.0,"service":"s"}"#);
}

#[test]
fn any_message_dispatches_by_type() {
    let m = codec::decode_push::<AnyMessage>(
        br#"{"type": "LoopRequest", "request_id": "a", "still_image_uri": "b", "style": "c"}"#,
    )
    .unwrap();
    assert_eq!(m.message_type(), Some(MessageType::LoopRequest));
    // Free-form dictionaries of unknown type are kept whole.
    let doc = json!({"type": "Mystery", "id": "task-123", "parameters": {"resolution": [800, 600]}});
    let m = codec::decode_push::<AnyMessage>(doc.to_string().as_bytes()).unwrap();
    assert_eq!(m, AnyMessage::Unknown(doc.clone()));
    assert_eq!(m.to_json().unwrap(), doc);
    // A document without a type is kept whole too.
    let m = codec::decode_push::<AnyMessage>(br#"{"x": 1}"#).unwrap();
    assert_eq!(m, AnyMessage::Unknown(json!({"x": 1})));
    assert_eq!(m.type_name(), None);
    // A known type whose document does not fit is an error holding the frame.
    let err = codec::decode_push::<AnyMessage>(br#"{"type": "IdleStatus", "status": "yes"}"#).unwrap_err();
    assert_eq!(err.raw(), br#"{"type": "IdleStatus", "status": "yes"}"#);
    assert!(codec::decode_push::<AnyMessage>(b"[]").is_err());
}

// ---------------------------------------------------------------- user-defined types

/// A message type defined outside the library registers the same way.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Message)]
#[message(type = "SandLevel", alias = "Sand")]
struct SandLevel {
    #[serde(rename = "mm")]
    millimetres: u32,
    zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Message)]
struct Ping {}

#[test]
fn user_types_register_and_decode_as_any() {
    let info = lookup_type("Sand").expect("registered by alias");
    assert_eq!(info.type_name(), "SandLevel");
    assert!(info.rust_name().ends_with("::SandLevel"), "{}", info.rust_name());
    let fields: Vec<(&str, bool)> = info.fields().iter().map(|f| (f.name, f.optional)).collect();
    assert_eq!(fields, [("mm", false), ("zone", true)]);
    assert!(registered_types().iter().any(|t| t.type_name() == "Ping"));
    check_registry().expect("no duplicate wire names in this test binary");

    let m = codec::decode_push::<AnyMessage>(br#"{"type": "SandLevel", "mm": 12, "zone": null}"#).unwrap();
    assert_eq!(m.type_name(), Some("SandLevel"));
    assert_eq!(m.to_json().unwrap(), json!({"type": "SandLevel", "mm": 12, "zone": null}));
    assert_eq!(m.downcast::<SandLevel>().unwrap(), SandLevel { millimetres: 12, zone: None });

    // An empty struct encodes to just its tag.
    let mut buf = Vec::new();
    codec::encode_push(&Ping {}, &mut buf).unwrap();
    assert_eq!(buf, br#"{"type":"Ping"}"#);
    assert_eq!(codec::decode_push::<Ping>(&buf).unwrap(), Ping {});
}

#[test]
fn every_builtin_type_is_registered_with_its_fields() {
    let info = lookup_type("RenderRequest").unwrap();
    let fields: Vec<(&str, bool)> = info.fields().iter().map(|f| (f.name, f.optional)).collect();
    assert_eq!(
        fields,
        [("request_id", false), ("era", false), ("biome", false), ("prompt", false), ("depth_map_png", true)]
    );
    let info = lookup_type("TransitionReady").unwrap();
    assert!(info.fields().iter().any(|f| f.name == "loop" && f.optional), "{:?}", info.fields());
}

// ---------------------------------------------------------------- proptest

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, including quotes, backslashes, control characters and astral planes.
    any::<String>()
}

fn finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
}

fn era() -> impl Strategy<Value = Era> {
    proptest::sample::select(Era::ALL)
}
fn biome() -> impl Strategy<Value = Biome> {
    proptest::sample::select(Biome::ALL)
}
fn style() -> impl Strategy<Value = TransitionStyle> {
    proptest::sample::select(TransitionStyle::ALL)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        finite().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn extra_fields() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map(
        text().prop_filter("reserved", |k| !["type", "timestamp", "service"].contains(&k.as_str())),
        json_value(),
        0..5,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn topic() -> impl Strategy<Value = String> {
    "[^ ]{0,12}"
}

fn any_builtin() -> impl Strategy<Value = AnyMessage> {
    prop_oneof![
        (era(), biome()).prop_map(|(era, biome)| EraChanged { era, biome }.into()),
        (text(), era(), biome(), text(), proptest::option::of(text())).prop_map(
            |(request_id, era, biome, prompt, depth_map_png)| {
                RenderRequest { request_id, era, biome, prompt, depth_map_png }.into()
            }
        ),
        any::<bool>().prop_map(|status| IdleStatus { status }.into()),
        (proptest::option::of(text()), text(), text()).prop_map(|(request_id, image_id, uri)| ImageReady {
            request_id,
            image_id,
            uri
        }
        .into()),
        (text(), text(), any::<bool>(), any::<bool>(), text()).prop_map(
            |(transition_id, uri, is_video, r#loop, final_frame_uri)| {
                TransitionReady { transition_id, uri, is_video, r#loop, final_frame_uri }.into()
            }
        ),
        (text(), text(), any::<bool>(), proptest::option::of(finite())).prop_map(
            |(loop_id, uri, is_video, duration_s)| LoopReady { loop_id, uri, is_video, duration_s }.into()
        ),
        prop_oneof![
            biome().prop_map(|biome_suggestion| AgentControl::SuggestBiome { biome_suggestion }),
            any::<bool>().prop_map(|status| AgentControl::AudiencePresent { status }),
            any::<bool>().prop_map(|is_speaking| AgentControl::SpeechDetected { is_speaking }),
            (
                text().prop_filter("known", |s| !["SuggestBiome", "AudiencePresent", "SpeechDetected"]
                    .contains(&s.as_str())),
                json_value()
            )
                .prop_map(|(sub_type, payload)| AgentControl::Other { sub_type, payload }),
        ]
        .prop_map(|control| AgentControlEvent { control }.into()),
        (text(), text(), text(), style(), any::<i64>()).prop_map(
            |(request_id, from_image_uri, to_image_uri, style, duration_frames)| {
                TransitionRequest { request_id, from_image_uri, to_image_uri, style, duration_frames }.into()
            }
        ),
        (text(), text(), text()).prop_map(|(request_id, still_image_uri, style)| LoopRequest {
            request_id,
            still_image_uri,
            style
        }
        .into()),
        (finite(), text(), extra_fields()).prop_map(|(timestamp, service, extra)| Heartbeat {
            timestamp,
            service,
            extra
        }
        .into()),
    ]
}

/// Encodes a built-in message as its concrete type (PUB and PUSH framing) and decodes it
/// back as that type.
fn typed_roundtrip(topic: &str, msg: &AnyMessage) -> Result<(), TestCaseError> {
    fn check<M: Message + PartialEq>(topic: &str, m: &M) -> Result<(), TestCaseError> {
        let mut buf = Vec::new();
        codec::encode_pub(topic, m, &mut buf).unwrap();
        let (t, back) = codec::decode_pub::<M>(&buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(t, topic);
        prop_assert_eq!(&back, m);
        codec::encode_push(m, &mut buf).unwrap();
        let back = codec::decode_push::<M>(&buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, m);
        Ok(())
    }
    match msg {
        AnyMessage::EraChanged(m) => check(topic, m),
        AnyMessage::RenderRequest(m) => check(topic, m),
        AnyMessage::IdleStatus(m) => check(topic, m),
        AnyMessage::ImageReady(m) => check(topic, m),
        AnyMessage::TransitionReady(m) => check(topic, m),
        AnyMessage::LoopReady(m) => check(topic, m),
        AnyMessage::AgentControlEvent(m) => check(topic, m),
        AnyMessage::TransitionRequest(m) => check(topic, m),
        AnyMessage::LoopRequest(m) => check(topic, m),
        AnyMessage::Heartbeat(m) => check(topic, m),
        other => Err(TestCaseError::fail(format!("not a built-in: {other:?}"))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_type_roundtrips_typed(topic in topic(), msg in any_builtin()) {
        typed_roundtrip(&topic, &msg)?;
    }

    #[test]
    fn every_type_roundtrips_through_any(topic in topic(), msg in any_builtin()) {
        let mut buf = Vec::new();
        codec::encode_pub(&topic, &msg, &mut buf).unwrap();
        let (t, back) = codec::decode_pub::<AnyMessage>(&buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(t, topic.as_str());
        prop_assert_eq!(&back, &msg);
        codec::encode_push(&msg, &mut buf).unwrap();
        prop_assert_eq!(&codec::decode_push::<AnyMessage>(&buf).unwrap(), &msg);
        // The untyped path sees the same document, "type" included.
        let value = codec::decode_push::<serde_json::Value>(&buf).unwrap();
        prop_assert_eq!(value.get("type").and_then(Value::as_str), msg.type_name());
        prop_assert_eq!(value, msg.to_json().unwrap());
    }

    #[test]
    fn untyped_objects_roundtrip(topic in topic(), fields in extra_fields()) {
        let value = Value::Object(fields);
        let mut buf = Vec::new();
        codec::encode_pub(&topic, &value, &mut buf).unwrap();
        let (t, back) = codec::decode_pub::<serde_json::Value>(&buf).unwrap();
        prop_assert_eq!(t, topic.as_str());
        prop_assert_eq!(back, value);
    }

    #[test]
    fn topics_with_a_space_are_rejected(a in "[^ ]{0,5}", b in ".{0,5}") {
        let topic = format!("{a} {b}");
        let mut buf = Vec::new();
        let typed = codec::encode_pub(&topic, &IdleStatus { status: true }, &mut buf);
        prop_assert!(typed.is_err());
        let untyped = codec::encode_pub(&topic, &json!({}), &mut buf);
        prop_assert!(untyped.is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_keep_them(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_garbage(&bytes)?;
    }

    #[test]
    fn mangled_valid_frames_never_panic(msg in any_builtin(), cut in any::<prop::sample::Index>(), flip in any::<(prop::sample::Index, u8)>()) {
        let mut buf = Vec::new();
        codec::encode_pub("t", &msg, &mut buf).unwrap();
        let mut mangled = buf.clone();
        let i = flip.0.index(mangled.len());
        mangled[i] ^= flip.1;
        check_garbage(&mangled)?;
        check_garbage(&buf[..cut.index(buf.len())])?;
        check_garbage(&buf[2..])?;
    }
}

/// Feeds `bytes` to every decoder, as a PUSH and as a PUB frame: each returns a value
/// that re-encodes to itself or an error holding `bytes` (tests/support/decoders.rs).
fn check_garbage(bytes: &[u8]) -> Result<(), TestCaseError> {
    decoders::check_all(bytes, decoders::Framing::Push).map_err(TestCaseError::fail)?;
    decoders::check_all(bytes, decoders::Framing::Pub).map_err(TestCaseError::fail)?;
    // A type registered by this test crate, through its own decoders.
    if let Err(e) = codec::decode_pub::<SandLevel>(bytes) {
        prop_assert_eq!(e.raw(), bytes);
    }
    if let Err(e) = codec::decode_push::<SandLevel>(bytes) {
        prop_assert_eq!(e.raw(), bytes);
    }
    Ok(())
}

#[test]
fn the_tag_may_stand_anywhere_and_be_spelt_any_json_way() {
    let expected = IdleStatus { status: true };
    for doc in [
        r#"{"type":"IdleStatus","status":true}"#,        // as Rust writes it
        r#"{"type": "IdleStatus", "status": true}"#,     // as Python writes it
        "{ \"type\" :\n \"Idle\" ,\t\"status\": true }", // odd spacing, the alias
        r#"{"status": true, "type": "IdleStatus"}"#,     // the tag last
        r#"{"type": "Idl\u0065", "status": true}"#,      // an escaped name
    ] {
        assert_eq!(codec::decode_push::<IdleStatus>(doc.as_bytes()).unwrap(), expected, "{doc}");
    }
    // A large document (no stack copy) and an empty one.
    let big = format!(
        r#"{{"type": "LoopRequest", "request_id": "{}", "still_image_uri": "s", "style": "x"}}"#,
        "r".repeat(4000)
    );
    assert_eq!(codec::decode_push::<LoopRequest>(big.as_bytes()).unwrap().request_id.len(), 4000);
    assert_eq!(codec::decode_push::<Ping>(br#"{"type": "Ping"}"#).unwrap(), Ping {});
    // A second tag is refused, wherever the first one stood (tests/decode_rules.rs).
    let err = codec::decode_push::<IdleStatus>(br#"{"status": true, "type": "IdleStatus", "type": "Other"}"#)
        .unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::DuplicateKey { key } if key == "type"), "{err}");
    // Errors name positions in the frame as received.
    let err = codec::decode_push::<IdleStatus>(br#"{"type": "IdleStatus", "status": 7}"#).unwrap_err();
    assert!(err.to_string().contains("column 34"), "{err}");
    let err = codec::decode_push::<IdleStatus>(br#"{"type": "Other", "status": true}"#).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::WrongType { found, .. } if found == "Other"), "{err}");
    // A heartbeat never keeps a "type" among its extra fields: a repeated one is refused.
    let err = codec::decode_push::<Heartbeat>(
        br#"{"type": "Heartbeat", "timestamp": 1.0, "service": "s", "type": "Heartbeat"}"#,
    )
    .unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::DuplicateKey { key } if key == "type"), "{err}");
}
