//! The Experimance message schemas (Python's pydantic models), field for field as on the
//! wire. Every struct derives [`Message`](crate::Message) and is registered.
//!
//! (About 440 lines, kept in one file: it is the one table of the wire's documents, read
//! side by side with Python's models; `AgentControl` and `Heartbeat` add the serde that
//! Python's nested `payload` and open-ended extra fields need. Their JSON Schemas are in
//! `schemas/wire_schema.rs`.)

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::wire_enum::wire_enum;
use crate::Message;

mod wire_schema;

/// The hand-written JSON Schema (draft 2020-12, the `type` tag left out) of a built-in
/// type whose serde is hand-written, by the Rust name its registry entry carries.
pub(crate) fn hand_written_schema(rust_name: &str) -> Option<Value> {
    match rust_name.strip_prefix(concat!(module_path!(), "::"))? {
        "AgentControlEvent" => Some(wire_schema::agent_control_event()),
        "Heartbeat" => Some(wire_schema::heartbeat()),
        _ => None,
    }
}

wire_enum! {
    /// An era of the installation's timeline (Python `Era`).
    pub enum Era ("era") {
        Wilderness = "wilderness",
        PreIndustrial = "pre_industrial",
        EarlyIndustrial = "early_industrial",
        LateIndustrial = "late_industrial",
        EarlyModern = "early_modern",
        Modern = "modern",
        /// Python's member name is `AI`.
        AiFuture = "ai_future",
        PostApocalyptic = "post_apocalyptic",
        Ruins = "ruins",
    }
}

wire_enum! {
    /// A landscape biome (Python `Biome`).
    pub enum Biome ("biome") {
        Desert = "desert",
        Forest = "forest",
        TemperateForest = "temperate_forest",
        TropicalForest = "tropical_forest",
        Mountains = "mountains",
        Hills = "hills",
        Tundra = "tundra",
        Coastal = "coastal",
        Plains = "plains",
        Savanna = "savanna",
    }
}

wire_enum! {
    /// How one image turns into the next (Python `TransitionStyle`).
    pub enum TransitionStyle ("transition style") {
        Dissolve = "dissolve",
        Morph = "morph",
        Wipe = "wipe",
        Simple = "simple",
    }
}

impl Default for TransitionStyle {
    /// `dissolve`, as in Python.
    fn default() -> Self {
        TransitionStyle::Dissolve
    }
}

/// The era or biome of the installation changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Message)]
pub struct EraChanged {
    /// The new era.
    pub era: Era,
    /// The new biome.
    pub biome: Biome,
}

/// Ask an image server to render an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Message)]
pub struct RenderRequest {
    /// Correlates the answering [`ImageReady`].
    pub request_id: String,
    /// The era to render.
    pub era: Era,
    /// The biome to render.
    pub biome: Biome,
    /// The text prompt.
    pub prompt: String,
    /// A base64-encoded PNG depth map, or null.
    #[serde(default)]
    pub depth_map_png: Option<String>,
}

/// The installation became idle or active. Python's model writes the type as `Idle`
/// (a defect): that name is accepted on decode, `IdleStatus` is always written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Message)]
#[message(alias = "Idle")]
pub struct IdleStatus {
    /// `true`: now idle.
    pub status: bool,
}

/// A rendered image is available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Message)]
pub struct ImageReady {
    /// The [`RenderRequest`] this answers, or null.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The image's id.
    pub image_id: String,
    /// Where to fetch it.
    pub uri: String,
}

/// A transition between two images is ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Message)]
pub struct TransitionReady {
    /// The transition's id.
    pub transition_id: String,
    /// Where to fetch it.
    pub uri: String,
    /// Whether it is a video (else an image sequence).
    pub is_video: bool,
    /// Whether it loops (default `false`).
    #[serde(default)]
    pub r#loop: bool,
    /// The last frame, to show after the transition.
    pub final_frame_uri: String,
}

/// A looping animation is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
pub struct LoopReady {
    /// The loop's id.
    pub loop_id: String,
    /// Where to fetch it.
    pub uri: String,
    /// Whether it is a video.
    pub is_video: bool,
    /// Its duration in seconds, or null.
    #[serde(default)]
    pub duration_s: Option<f64>,
}

/// Ask for a transition between two images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Message)]
pub struct TransitionRequest {
    /// Correlates the answering [`TransitionReady`].
    pub request_id: String,
    /// The image to start from.
    pub from_image_uri: String,
    /// The image to end on.
    pub to_image_uri: String,
    /// The style (default `dissolve`).
    #[serde(default)]
    pub style: TransitionStyle,
    /// How many frames the transition lasts.
    pub duration_frames: i64,
}

/// Ask for a looping animation of a still image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Message)]
pub struct LoopRequest {
    /// Correlates the answering [`LoopReady`].
    pub request_id: String,
    /// The still image.
    pub still_image_uri: String,
    /// The animation style (free text).
    pub style: String,
}

/// An event from the agent, typed by its `sub_type`. On the wire:
/// `{"type": "AgentControlEvent", "sub_type": "SuggestBiome", "payload": {...}}`.
///
/// # Example
/// ```
/// use experimance_common::{codec, AgentControl, AgentControlEvent, Biome};
/// let ev: AgentControlEvent = codec::decode_push(
///     br#"{"type": "AgentControlEvent", "sub_type": "SuggestBiome", "payload": {"biome_suggestion": "tundra"}}"#,
/// )?;
/// assert_eq!(ev.control, AgentControl::SuggestBiome { biome_suggestion: Biome::Tundra });
/// # Ok::<(), experimance_common::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Message)]
pub struct AgentControlEvent {
    /// The event, by sub type.
    pub control: AgentControl,
}

/// The payload of an [`AgentControlEvent`], by its `sub_type`.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentControl {
    /// `SuggestBiome`: `{"biome_suggestion": Biome}`.
    SuggestBiome {
        /// The suggested biome.
        biome_suggestion: Biome,
    },
    /// `AudiencePresent`: `{"status": bool}`.
    AudiencePresent {
        /// Whether someone is there.
        status: bool,
    },
    /// `SpeechDetected`: `{"is_speaking": bool}`.
    SpeechDetected {
        /// Whether someone is speaking.
        is_speaking: bool,
    },
    /// A sub type this crate does not know, with its payload kept as it came.
    Other {
        /// The `sub_type` string.
        sub_type: String,
        /// The raw payload.
        payload: Value,
    },
}

impl AgentControl {
    /// The `sub_type` written on the wire.
    pub fn sub_type(&self) -> &str {
        match self {
            AgentControl::SuggestBiome { .. } => "SuggestBiome",
            AgentControl::AudiencePresent { .. } => "AudiencePresent",
            AgentControl::SpeechDetected { .. } => "SpeechDetected",
            AgentControl::Other { sub_type, .. } => sub_type,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SuggestBiomePayload {
    biome_suggestion: Biome,
}
#[derive(Serialize, Deserialize)]
struct AudiencePresentPayload {
    status: bool,
}
#[derive(Serialize, Deserialize)]
struct SpeechDetectedPayload {
    is_speaking: bool,
}

#[derive(Serialize)]
struct RawControlOut<'a, P: Serialize> {
    sub_type: &'a str,
    payload: P,
}

#[derive(Deserialize)]
struct RawControlIn {
    sub_type: String,
    #[serde(default = "empty_object")]
    payload: Value,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

impl Serialize for AgentControlEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sub_type = self.control.sub_type();
        match &self.control {
            AgentControl::SuggestBiome { biome_suggestion } => RawControlOut {
                sub_type,
                payload: SuggestBiomePayload { biome_suggestion: *biome_suggestion },
            }
            .serialize(s),
            AgentControl::AudiencePresent { status } => {
                RawControlOut { sub_type, payload: AudiencePresentPayload { status: *status } }.serialize(s)
            }
            AgentControl::SpeechDetected { is_speaking } => {
                RawControlOut { sub_type, payload: SpeechDetectedPayload { is_speaking: *is_speaking } }
                    .serialize(s)
            }
            AgentControl::Other { payload, .. } => RawControlOut { sub_type, payload }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AgentControlEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawControlIn::deserialize(d)?;
        let typed = |what| de::Error::custom(format_args!("invalid {} payload: {what}", raw.sub_type));
        let control = match raw.sub_type.as_str() {
            "SuggestBiome" => {
                let p = SuggestBiomePayload::deserialize(&raw.payload).map_err(typed)?;
                AgentControl::SuggestBiome { biome_suggestion: p.biome_suggestion }
            }
            "AudiencePresent" => {
                let p = AudiencePresentPayload::deserialize(&raw.payload).map_err(typed)?;
                AgentControl::AudiencePresent { status: p.status }
            }
            "SpeechDetected" => {
                let p = SpeechDetectedPayload::deserialize(&raw.payload).map_err(typed)?;
                AgentControl::SpeechDetected { is_speaking: p.is_speaking }
            }
            _ => AgentControl::Other { sub_type: raw.sub_type, payload: raw.payload },
        };
        Ok(AgentControlEvent { control })
    }
}

/// A service's periodic sign of life. Python sends it as a plain dictionary
/// `{"type": "Heartbeat", "timestamp": <float>, "service": <str>, ...}`; every extra
/// field (for example `tasks_processed`) is kept in [`extra`](Self::extra) and written
/// back on encode.
///
/// # Example
/// ```
/// use experimance_common::{codec, Heartbeat};
/// let hb: Heartbeat = codec::decode_push(
///     br#"{"type": "Heartbeat", "timestamp": 1.5, "service": "core", "tasks_processed": 7}"#,
/// )?;
/// assert_eq!(hb.extra["tasks_processed"], 7);
/// # Ok::<(), experimance_common::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Message)]
pub struct Heartbeat {
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
    /// The sending service's name.
    pub service: String,
    /// Every other field, in the order received.
    pub extra: Map<String, Value>,
}

impl Heartbeat {
    /// A heartbeat from `service` stamped with the current time.
    pub fn now(service: impl Into<String>) -> Self {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Heartbeat { timestamp, service: service.into(), extra: Map::new() }
    }
}

const HEARTBEAT_RESERVED: [&str; 3] = ["timestamp", "service", "type"];

impl Serialize for Heartbeat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2 + self.extra.len()))?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("service", &self.service)?;
        for (k, v) in &self.extra {
            if !HEARTBEAT_RESERVED.contains(&k.as_str()) {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Heartbeat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Heartbeat;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Heartbeat object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Heartbeat, A::Error> {
                let mut timestamp = None;
                let mut service = None;
                let mut extra = Map::new();
                // Keys are borrowed from the frame: no allocation but for the extra fields kept.
                while let Some(key) = map.next_key_seed(crate::codec::de::CowStr)? {
                    match &*key {
                        "timestamp" if timestamp.is_none() => timestamp = Some(map.next_value()?),
                        "service" if service.is_none() => service = Some(map.next_value()?),
                        // The tag is checked before the struct sees the document; a
                        // repeated one is not an extra field.
                        "type" => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                        "timestamp" | "service" => {
                            return Err(de::Error::custom(format_args!("duplicate field `{key}`")))
                        }
                        _ => {
                            let value = map.next_value()?;
                            match extra.entry(key.into_owned()) {
                                serde_json::map::Entry::Vacant(slot) => {
                                    slot.insert(value);
                                }
                                serde_json::map::Entry::Occupied(slot) => {
                                    return Err(de::Error::custom(format_args!(
                                        "duplicate field `{}`",
                                        slot.key()
                                    )))
                                }
                            }
                        }
                    }
                }
                Ok(Heartbeat {
                    timestamp: timestamp.ok_or_else(|| de::Error::missing_field("timestamp"))?,
                    service: service.ok_or_else(|| de::Error::missing_field("service"))?,
                    extra,
                })
            }
        }
        d.deserialize_map(V)
    }
}

// Every built-in Rust type's wire name is its MessageType name.
const _: () = {
    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    macro_rules! check {
        ($($t:ident),* $(,)?) => { $( assert!(same(<$t as Message>::TYPE, crate::MessageType::$t.as_str())); )* };
    }
    crate::message_type::with_builtin_types!(check);
};
