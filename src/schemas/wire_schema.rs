//! The JSON Schemas of the built-in types whose serde is hand-written, so that their
//! registered fields do not describe the document: `AgentControlEvent` (a `sub_type`
//! and a `payload` whose shape depends on it) and `Heartbeat` (open-ended extra
//! fields), by [`hand_written_schema`](super::hand_written_schema). [`MessageInfo::wire_schema`](crate::registry::MessageInfo::wire_schema) adds
//! the `type` tag.

use serde_json::{json, Value};

use super::{AgentControl, Biome};

/// The schema of a known sub type: `sub_type` is its name, and `payload` an object with
/// one required field.
fn known_sub_type(sub_type: &str, field: &str, schema: Value) -> Value {
    json!({
        "title": sub_type,
        "properties": {
            "sub_type": {"const": sub_type},
            "payload": {"type": "object", "properties": {field: schema}, "required": [field]},
        },
        "required": ["payload"],
    })
}

/// The case of one [`AgentControl`] variant: a match, so that a new variant is a compile
/// error here until its case is written.
fn case(control: &AgentControl) -> Value {
    match control {
        AgentControl::SuggestBiome { .. } => {
            let biomes: Vec<&str> = Biome::ALL.iter().map(|b| b.as_str()).collect();
            known_sub_type(control.sub_type(), "biome_suggestion", json!({"enum": biomes}))
        }
        AgentControl::AudiencePresent { .. } => {
            known_sub_type(control.sub_type(), "status", json!({"type": "boolean"}))
        }
        AgentControl::SpeechDetected { .. } => {
            known_sub_type(control.sub_type(), "is_speaking", json!({"type": "boolean"}))
        }
        AgentControl::Other { .. } => json!({
            "title": "Other",
            "description": "a sub type this library does not know: any payload (absent means {}), kept as it came",
        }),
    }
}

/// [`AgentControlEvent`](super::AgentControlEvent): one case per known sub type, and
/// `Other`, any sub type not known here.
pub(super) fn agent_control_event() -> Value {
    let mut cases: Vec<Value> = [
        AgentControl::SuggestBiome { biome_suggestion: Biome::Desert },
        AgentControl::AudiencePresent { status: false },
        AgentControl::SpeechDetected { is_speaking: false },
    ]
    .iter()
    .map(case)
    .collect();
    let known: Vec<Value> = cases.iter().map(|c| c["title"].clone()).collect();
    let mut other = case(&AgentControl::Other { sub_type: String::new(), payload: Value::Null });
    other["properties"] = json!({"sub_type": {"not": {"enum": known}}});
    cases.push(other);
    json!({
        "type": "object",
        "description": "an agent event, typed by its sub_type; the payload's shape depends on it",
        "properties": {"sub_type": {"type": "string"}, "payload": {}},
        "required": ["sub_type"],
        "oneOf": cases,
    })
}

/// [`Heartbeat`](super::Heartbeat): `timestamp` and `service`, and any other field (kept
/// in [`extra`](super::Heartbeat::extra)).
pub(super) fn heartbeat() -> Value {
    json!({
        "type": "object",
        "description": "a service's sign of life; every other field is kept and written back",
        "properties": {"timestamp": {"type": "number"}, "service": {"type": "string"}},
        "required": ["timestamp", "service"],
        // What every schema here allows anyway, said for this one: extras are kept.
        "additionalProperties": true,
    })
}
