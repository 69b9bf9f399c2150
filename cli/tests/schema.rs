//! `exbus types --schema` is complete and exact for every built-in type: real encoded
//! messages (every enum variant, every `AgentControl` sub type and an unknown one)
//! validate against the schema the binary prints, each against its own type's
//! definition, and wrong documents, which the library's decoder rejects too, do not.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::process::Command;

use experimance_common::codec;
use experimance_common::registry::lookup_type;
use experimance_common::{
    AgentControl, AgentControlEvent, AnyMessage, Biome, Era, EraChanged, Heartbeat, IdleStatus, ImageReady,
    LoopReady, LoopRequest, Message, MessageType, RenderRequest, TransitionReady, TransitionRequest,
    TransitionStyle,
};
use serde::Serialize;
use serde_json::{json, Value};

/// The schema exactly as `exbus types --schema` prints it.
fn printed_schema() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_exbus")).args(["types", "--schema"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The printed schema narrowed to one type's definition (its `$defs` kept for references).
fn validator_for(schema: &Value, type_name: &str) -> jsonschema::Validator {
    let mut one = schema.clone();
    one["oneOf"] = json!([{"$ref": format!("#/$defs/{type_name}")}]);
    jsonschema::validator_for(&one).unwrap()
}

/// Real messages, as the library encodes them.
struct Corpus {
    docs: Vec<Value>,
}

impl Corpus {
    fn add<M: Message + Serialize>(&mut self, msg: &M) {
        let mut frame = Vec::new();
        codec::encode_push(msg, &mut frame).unwrap();
        self.docs.push(serde_json::from_slice(&frame).unwrap());
    }
}

fn valid_messages() -> Vec<Value> {
    let mut c = Corpus { docs: Vec::new() };
    let biome = |i: usize| Biome::ALL[i % Biome::ALL.len()];
    for (i, &era) in Era::ALL.iter().enumerate() {
        c.add(&EraChanged { era, biome: biome(i) });
    }
    for (i, &b) in Biome::ALL.iter().enumerate() {
        c.add(&EraChanged { era: Era::ALL[i % Era::ALL.len()], biome: b });
        c.add(&AgentControlEvent { control: AgentControl::SuggestBiome { biome_suggestion: b } });
    }
    for depth_map_png in [None, Some("iVBORw0KGgo=".to_owned()), Some(String::new())] {
        c.add(&RenderRequest {
            request_id: "r1".into(),
            era: Era::Modern,
            biome: Biome::Tundra,
            prompt: "a quiet valley".into(),
            depth_map_png,
        });
    }
    for status in [true, false] {
        c.add(&IdleStatus { status });
        c.add(&AgentControlEvent { control: AgentControl::AudiencePresent { status } });
        c.add(&AgentControlEvent { control: AgentControl::SpeechDetected { is_speaking: status } });
        c.add(&TransitionReady {
            transition_id: "t1".into(),
            uri: "file:///t1.mp4".into(),
            is_video: status,
            r#loop: !status,
            final_frame_uri: "file:///t1.png".into(),
        });
    }
    for request_id in [None, Some("r1".to_owned())] {
        c.add(&ImageReady { request_id, image_id: "i1".into(), uri: "file:///i1.png".into() });
    }
    for duration_s in [None, Some(2.5), Some(0.0)] {
        c.add(&LoopReady { loop_id: "l1".into(), uri: "file:///l1.mp4".into(), is_video: true, duration_s });
    }
    for (&style, duration_frames) in TransitionStyle::ALL.iter().zip([0, 24, -1, i64::MAX]) {
        c.add(&TransitionRequest {
            request_id: "r2".into(),
            from_image_uri: "file:///a.png".into(),
            to_image_uri: "file:///b.png".into(),
            style,
            duration_frames,
        });
    }
    c.add(&LoopRequest {
        request_id: "r3".into(),
        still_image_uri: "file:///s.png".into(),
        style: "drift".into(),
    });
    c.add(&LoopRequest { request_id: String::new(), still_image_uri: String::new(), style: String::new() });
    for payload in [json!({"wave": 1, "nested": {"a": [1, 2]}}), json!(null), json!([1, "two"]), json!({})] {
        c.add(&AgentControlEvent { control: AgentControl::Other { sub_type: "Wave".into(), payload } });
    }
    c.add(&Heartbeat::now("core"));
    let mut hb = Heartbeat::now("agent");
    hb.extra.insert("tasks_processed".into(), json!(7));
    hb.extra.insert("state".into(), json!({"busy": false}));
    c.add(&hb);
    let mut docs = c.docs;
    // Documents Python writes that the library reads, though it never writes them so.
    docs.push(json!({"type": "Idle", "status": true}));
    docs.push(json!({"type": "AgentControlEvent", "sub_type": "Wave"}));
    docs.push(json!({"type": "TransitionReady", "transition_id": "t", "uri": "u", "is_video": false, "final_frame_uri": "f"}));
    docs.push(json!({"type": "TransitionRequest", "request_id": "r", "from_image_uri": "a", "to_image_uri": "b", "duration_frames": 3}));
    docs.push(json!({"type": "ImageReady", "image_id": "i", "uri": "u"}));
    docs.push(json!({"type": "EraChanged", "era": "ruins", "biome": "hills", "unknown_extra": 1}));
    docs
}

#[test]
fn every_built_in_message_validates_against_its_printed_schema() {
    let schema = printed_schema();
    let whole = jsonschema::validator_for(&schema).unwrap();
    let docs = valid_messages();
    let mut seen = BTreeSet::new();
    for doc in &docs {
        let name = doc["type"].as_str().unwrap();
        let info = lookup_type(name).unwrap();
        seen.insert(info.type_name());
        assert!(info.decode(doc.to_string().as_bytes()).is_ok(), "the library reads {doc}");
        let own = validator_for(&schema, info.type_name());
        let errors: Vec<String> = own.iter_errors(doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{doc} against {}: {errors:?}", info.type_name());
        assert!(whole.is_valid(doc), "{doc} against the whole schema (one type matches)");
    }
    let built_in: BTreeSet<&str> = MessageType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(seen, built_in, "every built-in type is exercised");
    let defined: BTreeSet<&str> = schema["$defs"].as_object().unwrap().keys().map(String::as_str).collect();
    assert!(built_in.is_subset(&defined), "{defined:?}");
    for def in schema["$defs"].as_object().unwrap().values() {
        assert!(def.get("description").is_none_or(|d| !d.to_string().contains("not described")), "{def}");
    }
}

#[test]
fn wrong_documents_do_not_validate_and_the_library_rejects_them_too() {
    let schema = printed_schema();
    let whole = jsonschema::validator_for(&schema).unwrap();
    let wrong = [
        // A bad enum value, in a required field and in a defaulted one.
        json!({"type": "EraChanged", "era": "medieval", "biome": "tundra"}),
        json!({"type": "TransitionRequest", "request_id": "r", "from_image_uri": "a", "to_image_uri": "b",
               "style": "fade", "duration_frames": 3}),
        // A missing required field.
        json!({"type": "RenderRequest", "request_id": "r", "era": "modern", "biome": "tundra"}),
        json!({"type": "ImageReady", "image_id": "i"}),
        json!({"type": "Heartbeat", "timestamp": 1.5}),
        // A wrong type.
        json!({"type": "IdleStatus", "status": "yes"}),
        json!({"type": "LoopReady", "loop_id": "l", "uri": "u", "is_video": true, "duration_s": "long"}),
        json!({"type": "TransitionReady", "transition_id": "t", "uri": "u", "is_video": true, "loop": null,
               "final_frame_uri": "f"}),
        json!({"type": "Heartbeat", "timestamp": "now", "service": "core"}),
        json!({"type": "LoopRequest", "request_id": "r", "still_image_uri": "s", "style": 3}),
        // AgentControl: a known sub type's payload is checked; the sub type is required.
        json!({"type": "AgentControlEvent", "sub_type": "SuggestBiome", "payload": {"biome_suggestion": "moon"}}),
        json!({"type": "AgentControlEvent", "sub_type": "AudiencePresent"}),
        json!({"type": "AgentControlEvent", "sub_type": "SpeechDetected", "payload": {"is_speaking": 1}}),
        json!({"type": "AgentControlEvent", "sub_type": "SpeechDetected", "payload": null}),
        json!({"type": "AgentControlEvent", "payload": {}}),
        json!({"type": "AgentControlEvent", "sub_type": 5}),
        // A type nobody registered, and no type at all.
        json!({"type": "Nope", "status": true}),
        json!({"status": true}),
    ];
    for doc in &wrong {
        assert!(!whole.is_valid(doc), "the schema rejects {doc}");
        let frame = doc.to_string();
        match doc["type"].as_str().and_then(lookup_type) {
            Some(info) => {
                assert!(info.decode(frame.as_bytes()).is_err(), "the library rejects {doc}");
                assert!(!validator_for(&schema, info.type_name()).is_valid(doc), "{doc}");
            }
            None => {
                let any: AnyMessage = codec::decode_push(frame.as_bytes()).unwrap();
                assert!(matches!(any, AnyMessage::Unknown(_)), "no registered type reads {doc}");
            }
        }
    }
}

#[test]
fn the_types_table_and_json_show_the_hand_written_documents_fields() {
    let out = Command::new(env!("CARGO_BIN_EXE_exbus")).arg("types").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let row = |start: &str| text.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("{text}"));
    let sub_type = row("AgentControlEvent");
    for value in ["sub_type", "SuggestBiome | AudiencePresent | SpeechDetected | any other"] {
        assert!(sub_type.contains(value), "{sub_type}");
    }
    assert!(text.contains("object, by sub_type"), "{text}");
    assert!(text.contains("SuggestBiome: biome_suggestion"), "{text}");
    assert!(!text.contains("AgentControl)") && !text.contains(" extra "), "no Rust-side field: {text}");
    assert!(text.contains("(other fields)?"), "Heartbeat keeps extra fields: {text}");

    let out = Command::new(env!("CARGO_BIN_EXE_exbus")).args(["types", "--json"]).output().unwrap();
    let types: Value = serde_json::from_slice(&out.stdout).unwrap();
    let heartbeat = types.as_array().unwrap().iter().find(|t| t["type"] == "Heartbeat").unwrap();
    let names: Vec<&str> =
        heartbeat["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["timestamp", "service", "(other fields)"]);
}

/// `publish --strict` of `input`: it must be refused as a usage error (exit 2); its stderr.
fn strict_publish_refuses(input: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_exbus"))
        .args(["publish", "@tcp://127.0.0.1:*", "--strict", input])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    err
}

#[test]
fn strict_names_the_allowed_values_of_an_agent_control_payload() {
    let input = r#"{"type": "AgentControlEvent", "sub_type": "SuggestBiome", "payload": {"biome_suggestion": "moon"}}"#;
    let err = strict_publish_refuses(input);
    assert!(
        err.contains("\"payload.biome_suggestion\" must be one of: desert, forest, temperate_forest"),
        "{err}"
    );
    // Another sub type's payload is not held to SuggestBiome's values.
    let input =
        r#"{"type": "AgentControlEvent", "sub_type": "AudiencePresent", "payload": {"status": "yes"}}"#;
    let err = strict_publish_refuses(input);
    assert!(!err.contains("must be one of"), "{err}");
}
