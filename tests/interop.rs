//! Interoperability with the Python services, both directions, over real tcp, against
//! `tests/python/peer.py` (pyzmq, frames written with `json.dumps` as the Python
//! `experimance_common` library writes them):
//!
//! - Python PUB -> Rust SUB, Rust PUB -> Python SUB, Python PUSH -> Rust PULL,
//!   Rust PUSH -> Python PULL;
//! - Rust on its blocking API and on its tokio API, Python in sync and in asyncio mode;
//! - Rust binding with Python connecting, and Python binding with Rust connecting;
//! - every built-in message type with representative and edge values, free-form
//!   dictionaries and unknown types.
//!
//! Python -> Rust: Rust asserts the typed values it decodes (`assert_eq!` against the
//! expected Rust value). Rust -> Python: Rust sends the typed values and the peer
//! compares what it receives field by field with the documents Rust encodes them to
//! (`AnyMessage::to_json`). Nothing waits with a sleep: the Python publisher waits for the
//! Rust subscription (XPUB), the Rust publisher for the Python one
//! (`wait_for_subscribers`), push sockets for a connection (`wait_connected`).
//!
//! The Python interpreter with pyzmq is provisioned by `support/python.rs` (a venv under
//! `target/` when `python3` has no pyzmq); these tests never skip.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

mod support;
use support::python;

use std::any::Any;
use std::time::Duration;

use experimance_common::codec::Payload;
use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use experimance_common::{
    AgentControl, AgentControlEvent, AnyMessage, Biome, DecodeErrorKind, Era, EraChanged, Heartbeat,
    IdleStatus, ImageReady, LoopReady, LoopRequest, RenderRequest, TransitionReady, TransitionRequest,
    TransitionStyle,
};
use python::{Mode, Peer, PeerReport, Role};
use serde_json::{json, Map, Value};

const ANY_PORT: &str = "tcp://127.0.0.1:*";
/// Bound on every wait (a connection, a subscription, one message). Generous because a
/// test machine may be busy compiling; nothing waits this long when things work.
const WAIT: Duration = Duration::from_secs(20);
/// How often the push/pull tests send the whole case list.
const PUSH_REPEAT: usize = 200;
/// How often the pub/sub tests send it (twice: once decoded as `AnyMessage`, once as
/// the concrete type, per case).
const PUB_REPEAT: usize = 2;
/// How long "nothing more arrives" is watched for, once the sender is done.
const QUIET: Duration = Duration::from_millis(200);

// ---------------------------------------------------------------------------- the cases

/// Text that trips up JSON codecs: non-ASCII (Python escapes it as `\uXXXX`, astral
/// characters as surrogate pairs; Rust writes raw UTF-8), quotes, backslashes, a literal
/// `\u0041`, every kind of control character (`\b` and `\f` have short escapes), the
/// line and paragraph separators, a BOM, U+FFFD and the highest code point.
const TRICKY: &str = "Café ☕ 東京 Ωmega 🌍🎨 𝄞 \"double\" 'single' back\\slash \\\" \\u0041 / \
                      \n\r\t\u{8}\u{c} \u{0}\u{1}\u{1f}\u{7f}\u{80}\u{9f} \u{2028}\u{2029} \u{feff}\u{fffd}\u{10ffff} end";

/// What Rust must make of a document.
enum Expect {
    /// It decodes to exactly this message (a built-in type, or `AnyMessage::Unknown`).
    Typed(AnyMessage),
    /// A free-form dictionary: received untyped (`serde_json::Value`) as exactly this.
    Untyped(Value),
}

struct Case {
    topic: &'static str,
    /// The document as a Python service writes it.
    python: Value,
    expect: Expect,
}

impl Case {
    /// The document Rust encodes the expected value to: what Python must receive from
    /// Rust.
    fn rust_json(&self) -> Value {
        let v = match &self.expect {
            Expect::Typed(m) => m.to_json().expect("the case encodes"),
            Expect::Untyped(v) => v.clone(),
        };
        assert!(v.is_object(), "{:?} does not encode to an object", self.python);
        v
    }
}

fn typed(topic: &'static str, python: Value, expect: impl Into<AnyMessage>) -> Case {
    Case { topic, python, expect: Expect::Typed(expect.into()) }
}

fn unknown(topic: &'static str, python: Value) -> Case {
    Case { topic, expect: Expect::Typed(AnyMessage::Unknown(python.clone())), python }
}

fn untyped(topic: &'static str, python: Value) -> Case {
    Case { topic, expect: Expect::Untyped(python.clone()), python }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A stand-in for a base64 PNG depth map (16 KiB of base64 text).
fn depth_map() -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("iVBORw0KGgoAAAANSUhEUg");
    s.extend((0..16_384 - s.len() - 2).map(|i| B64[(i * 7 + i / 64) % 64] as char));
    s.push_str("==");
    s
}

/// Every case: the document Python writes, and the Rust value it must decode to.
fn cases() -> Vec<Case> {
    let mut c = Vec::new();

    // EraChanged: every era and every biome, written by hand as Python writes them.
    let eras = [
        (Era::Wilderness, "wilderness"),
        (Era::PreIndustrial, "pre_industrial"),
        (Era::EarlyIndustrial, "early_industrial"),
        (Era::LateIndustrial, "late_industrial"),
        (Era::EarlyModern, "early_modern"),
        (Era::Modern, "modern"),
        (Era::AiFuture, "ai_future"),
        (Era::PostApocalyptic, "post_apocalyptic"),
        (Era::Ruins, "ruins"),
    ];
    let biomes = [
        (Biome::Desert, "desert"),
        (Biome::Forest, "forest"),
        (Biome::TemperateForest, "temperate_forest"),
        (Biome::TropicalForest, "tropical_forest"),
        (Biome::Mountains, "mountains"),
        (Biome::Hills, "hills"),
        (Biome::Tundra, "tundra"),
        (Biome::Coastal, "coastal"),
        (Biome::Plains, "plains"),
        (Biome::Savanna, "savanna"),
    ];
    for (i, (biome, b)) in biomes.into_iter().enumerate() {
        let (era, e) = eras[i % eras.len()];
        let topic = if i % 2 == 0 { "era" } else { "" }; // the empty topic is legal
        c.push(typed(topic, json!({"type": "EraChanged", "era": e, "biome": b}), EraChanged { era, biome }));
    }

    // RenderRequest: tricky text, a null / a large / a missing optional.
    c.push(typed(
        "tasks",
        json!({"type": "RenderRequest", "request_id": "r-1", "era": "ai_future", "biome": "tundra",
               "prompt": TRICKY, "depth_map_png": null}),
        RenderRequest {
            request_id: "r-1".into(),
            era: Era::AiFuture,
            biome: Biome::Tundra,
            prompt: TRICKY.into(),
            depth_map_png: None,
        },
    ));
    c.push(typed(
        "tasks",
        json!({"type": "RenderRequest", "request_id": "", "era": "ruins", "biome": "coastal", "prompt": "",
               "depth_map_png": depth_map()}),
        RenderRequest {
            request_id: String::new(),
            era: Era::Ruins,
            biome: Biome::Coastal,
            prompt: String::new(),
            depth_map_png: Some(depth_map()),
        },
    ));
    c.push(typed(
        "tasks",
        json!({"type": "RenderRequest", "request_id": "r-3", "era": "modern", "biome": "hills",
               "prompt": "no depth map field at all"}),
        RenderRequest {
            request_id: "r-3".into(),
            era: Era::Modern,
            biome: Biome::Hills,
            prompt: "no depth map field at all".into(),
            depth_map_png: None,
        },
    ));

    // IdleStatus, including Python's `"type": "Idle"` (its model's default).
    c.push(typed("status-updates", json!({"type": "Idle", "status": true}), IdleStatus { status: true }));
    c.push(typed(
        "status-updates",
        json!({"type": "IdleStatus", "status": false}),
        IdleStatus { status: false },
    ));

    // ImageReady: null / set / missing request_id, unknown extra fields ignored.
    c.push(typed(
        "images",
        json!({"type": "ImageReady", "request_id": null, "image_id": TRICKY,
               "uri": "file:///tmp/ö ü/image 1.png"}),
        ImageReady { request_id: None, image_id: TRICKY.into(), uri: "file:///tmp/ö ü/image 1.png".into() },
    ));
    c.push(typed(
        "images",
        json!({"type": "ImageReady", "request_id": "r-1", "image_id": "img-1", "uri": "http://h/1.png",
               "width": 1024, "meta": {"nested": [1, {"x": null}], "seed": 0.5}}),
        ImageReady { request_id: Some("r-1".into()), image_id: "img-1".into(), uri: "http://h/1.png".into() },
    ));
    c.push(typed(
        "images",
        json!({"type": "ImageReady", "image_id": "img-2", "uri": "u"}),
        ImageReady { request_id: None, image_id: "img-2".into(), uri: "u".into() },
    ));

    // TransitionReady: `loop` given and defaulted.
    c.push(typed(
        "transitions",
        json!({"type": "TransitionReady", "transition_id": "t-1", "uri": "file:///t/1.mp4", "is_video": true,
               "loop": true, "final_frame_uri": "file:///t/1-last.png"}),
        TransitionReady {
            transition_id: "t-1".into(),
            uri: "file:///t/1.mp4".into(),
            is_video: true,
            r#loop: true,
            final_frame_uri: "file:///t/1-last.png".into(),
        },
    ));
    c.push(typed(
        "transitions",
        json!({"type": "TransitionReady", "transition_id": "t-2", "uri": "u", "is_video": false,
               "final_frame_uri": ""}),
        TransitionReady {
            transition_id: "t-2".into(),
            uri: "u".into(),
            is_video: false,
            r#loop: false,
            final_frame_uri: String::new(),
        },
    ));

    // LoopReady: duration_s null, missing, an int, and floats at the edges.
    let durations: [(Value, Option<f64>); 10] = [
        (json!(null), None),
        (json!(12.5), Some(12.5)),
        (json!(0.1), Some(0.1)),
        (json!(0.30000000000000004), Some(0.30000000000000004)),
        (json!(3), Some(3.0)), // an int where a float is expected
        (json!(1e-7), Some(1e-7)),
        (json!(1e16), Some(1e16)),
        (json!(f64::MAX), Some(f64::MAX)),
        (json!(5e-324), Some(5e-324)), // the smallest subnormal
        (json!(-0.0), Some(-0.0)),
    ];
    for (i, (wire, value)) in durations.into_iter().enumerate() {
        c.push(typed(
            "loops",
            json!({"type": "LoopReady", "loop_id": format!("l-{i}"), "uri": "file:///l.mp4", "is_video": true,
                   "duration_s": wire}),
            LoopReady {
                loop_id: format!("l-{i}"),
                uri: "file:///l.mp4".into(),
                is_video: true,
                duration_s: value,
            },
        ));
    }
    c.push(typed(
        "loops",
        json!({"type": "LoopReady", "loop_id": "l-missing", "uri": "u", "is_video": false}),
        LoopReady { loop_id: "l-missing".into(), uri: "u".into(), is_video: false, duration_s: None },
    ));

    // AgentControlEvent: the three payloads, an extra payload field, unknown sub types.
    fn agent(sub_type: &str, payload: Value) -> Value {
        json!({"type": "AgentControlEvent", "sub_type": sub_type, "payload": payload})
    }
    let control = |control| AgentControlEvent { control };
    c.push(typed(
        "agent",
        agent("SuggestBiome", json!({"biome_suggestion": "savanna"})),
        control(AgentControl::SuggestBiome { biome_suggestion: Biome::Savanna }),
    ));
    c.push(typed(
        "agent",
        agent("SuggestBiome", json!({"biome_suggestion": "temperate_forest", "confidence": 0.87})),
        control(AgentControl::SuggestBiome { biome_suggestion: Biome::TemperateForest }),
    ));
    c.push(typed(
        "agent",
        agent("AudiencePresent", json!({"status": true})),
        control(AgentControl::AudiencePresent { status: true }),
    ));
    c.push(typed(
        "agent",
        agent("SpeechDetected", json!({"is_speaking": false})),
        control(AgentControl::SpeechDetected { is_speaking: false }),
    ));
    let gesture = json!({"gesture": "wave", "confidence": 0.93, "hands": [{"x": 0.25, "y": -1}, null],
                         "meta": {"deep": {"deeper": [true, false, "ÿ", TRICKY]}}});
    c.push(typed(
        "agent",
        agent("GestureDetected", gesture.clone()),
        control(AgentControl::Other { sub_type: "GestureDetected".into(), payload: gesture }),
    ));
    c.push(typed(
        "agent",
        json!({"type": "AgentControlEvent", "sub_type": "Reset"}),
        control(AgentControl::Other { sub_type: "Reset".into(), payload: json!({}) }),
    ));

    // TransitionRequest: every style, the default style, integers at the edges.
    let styles = [
        (Some("dissolve"), TransitionStyle::Dissolve, 48),
        (Some("morph"), TransitionStyle::Morph, 0),
        (Some("wipe"), TransitionStyle::Wipe, -1),
        (Some("simple"), TransitionStyle::Simple, 9_007_199_254_740_993), // 2**53 + 1
        (None, TransitionStyle::Dissolve, i64::MAX),
    ];
    for (i, (wire, style, frames)) in styles.into_iter().enumerate() {
        let mut doc = json!({"type": "TransitionRequest", "request_id": format!("tr-{i}"),
                             "from_image_uri": "file:///a.png", "to_image_uri": TRICKY,
                             "duration_frames": frames});
        if let Some(s) = wire {
            doc["style"] = json!(s);
        }
        c.push(typed(
            "tasks",
            doc,
            TransitionRequest {
                request_id: format!("tr-{i}"),
                from_image_uri: "file:///a.png".into(),
                to_image_uri: TRICKY.into(),
                style,
                duration_frames: frames,
            },
        ));
    }

    c.push(typed(
        "tasks",
        json!({"type": "LoopRequest", "request_id": "lr-1", "still_image_uri": "file:///s.png",
               "style": TRICKY}),
        LoopRequest {
            request_id: "lr-1".into(),
            still_image_uri: "file:///s.png".into(),
            style: TRICKY.into(),
        },
    ));

    // Heartbeat: plain, with every kind of extra field, with an integer timestamp.
    c.push(typed(
        "service.heartbeat",
        json!({"type": "Heartbeat", "timestamp": 1712345678.123456, "service": "display"}),
        Heartbeat { timestamp: 1712345678.123456, service: "display".into(), extra: Map::new() },
    ));
    let extra = json!({
        "tasks_processed": 42, "status": "ready", "load": 0.75, "ratio": 1e-7,
        "nested": {"list": [1, 2.5, null, true, "x"], "obj": {"k": "v", "empty": {}}},
        "big": 9_007_199_254_740_993u64, "neg": i64::MIN, "u64max": u64::MAX,
        "ключ 🔑": TRICKY, "none": null, "empty_list": [], "flag": false,
    });
    let mut doc = extra.clone();
    doc["type"] = json!("Heartbeat");
    doc["timestamp"] = json!(1712345678.5);
    doc["service"] = json!("worker \"1\" 🌍");
    c.push(typed(
        "service.heartbeat",
        doc,
        Heartbeat { timestamp: 1712345678.5, service: "worker \"1\" 🌍".into(), extra: object(extra) },
    ));
    c.push(typed(
        "évènements-🌍",
        json!({"type": "Heartbeat", "timestamp": 1712345678, "service": ""}),
        Heartbeat { timestamp: 1712345678.0, service: String::new(), extra: Map::new() },
    ));

    // Unknown types (and no type at all): `AnyMessage::Unknown`, kept whole.
    c.push(unknown(
        "status-updates",
        json!({"type": "ServiceStatus", "service": "audio", "state": "degraded",
               "errors": [{"code": 3, "msg": TRICKY}], "uptime_s": 12.25}),
    ));
    c.push(unknown("status-updates", json!({"type": "Idle2", "status": "not a bool"})));
    c.push(unknown("", json!({"no_type_here": true, "n": [1, 2, 3]})));

    // Free-form dictionaries, received untyped.
    // The README's task: a RenderRequest-typed dictionary with other fields.
    c.push(untyped(
        "tasks",
        json!({"type": "RenderRequest", "id": "task-123", "parameters": {"resolution": [800, 600]}}),
    ));
    // The Python example service's task and its worker's status answer (whose "status"
    // is a string where IdleStatus has a bool).
    c.push(untyped(
        "tasks",
        json!({"type": "RenderRequest", "id": "task-7", "timestamp": 1712345678.25,
               "parameters": {"complexity": 3, "priority": "normal"}}),
    ));
    c.push(untyped(
        "status-updates",
        json!({"type": "IdleStatus", "timestamp": 1712345678.75, "service": "worker-1", "status": "ready",
               "tasks_processed": 3}),
    ));
    // A typed message received untyped is the document as sent.
    c.push(untyped("era", json!({"type": "EraChanged", "era": "modern", "biome": "plains"})));
    c
}

// -------------------------------------------------------------- sockets, both APIs

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    PubSub,
    PushPull,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binder {
    Rust,
    Python,
}

/// The Rust receiving side.
enum Rx {
    Sub(Subscriber),
    Pull(PullSocket),
}

impl Rx {
    fn new(pattern: Pattern, binder: Binder, endpoint: &str) -> Rx {
        match (pattern, binder) {
            (Pattern::PubSub, Binder::Rust) => Rx::Sub(
                Subscriber::builder().bind(endpoint).unwrap().subscribe_all().timeout(WAIT).build().unwrap(),
            ),
            (Pattern::PubSub, Binder::Python) => Rx::Sub(
                Subscriber::builder()
                    .connect(endpoint)
                    .unwrap()
                    .subscribe_all()
                    .timeout(WAIT)
                    .build()
                    .unwrap(),
            ),
            (Pattern::PushPull, Binder::Rust) => {
                Rx::Pull(PullSocket::builder().bind(endpoint).unwrap().timeout(WAIT).build().unwrap())
            }
            (Pattern::PushPull, Binder::Python) => {
                Rx::Pull(PullSocket::builder().connect(endpoint).unwrap().timeout(WAIT).build().unwrap())
            }
        }
    }

    fn endpoint(&self) -> String {
        match self {
            Rx::Sub(s) => s.endpoint(),
            Rx::Pull(p) => p.endpoint(),
        }
    }

    fn recv<P: Payload>(&mut self) -> Result<(Option<String>, P), Error> {
        match self {
            Rx::Sub(s) => s.receive::<P>().map(|(t, m)| (Some(t.into_string()), m)),
            Rx::Pull(p) => p.pull::<P>().map(|m| (None, m)),
        }
    }

    async fn recv_async<P: Payload>(&mut self) -> Result<(Option<String>, P), Error> {
        match self {
            Rx::Sub(s) => s.receive_async::<P>().await.map(|(t, m)| (Some(t.into_string()), m)),
            Rx::Pull(p) => p.pull_async::<P>().await.map(|m| (None, m)),
        }
    }

    /// Once the sender is done: nothing more arrives.
    fn assert_nothing_more(&mut self) {
        let extra = match self {
            Rx::Sub(s) => s.receive_raw_within(QUIET).map(<[u8]>::to_vec),
            Rx::Pull(p) => p.pull_within::<Value>(QUIET).map(|v| v.to_string().into_bytes()),
        };
        match extra {
            Err(e) if e.is_timeout() => {}
            other => panic!(
                "more than expected arrived: {:?}",
                other.map(|b| String::from_utf8_lossy(&b).into_owned())
            ),
        }
    }

    fn close(self) {
        match self {
            Rx::Sub(s) => s.close().unwrap(),
            Rx::Pull(p) => p.close().unwrap(),
        }
    }
}

/// The Rust sending side.
enum Tx {
    Pub(Publisher),
    Push(PushSocket),
}

impl Tx {
    fn new(pattern: Pattern, binder: Binder, endpoint: &str) -> Tx {
        match (pattern, binder) {
            // Lossless: a slow Python subscriber makes publishing wait, not drop.
            (Pattern::PubSub, Binder::Rust) => Tx::Pub(
                Publisher::builder().bind(endpoint).unwrap().lossless(true).timeout(WAIT).build().unwrap(),
            ),
            (Pattern::PubSub, Binder::Python) => Tx::Pub(
                Publisher::builder().connect(endpoint).unwrap().lossless(true).timeout(WAIT).build().unwrap(),
            ),
            (Pattern::PushPull, Binder::Rust) => {
                Tx::Push(PushSocket::builder().bind(endpoint).unwrap().timeout(WAIT).build().unwrap())
            }
            (Pattern::PushPull, Binder::Python) => {
                Tx::Push(PushSocket::builder().connect(endpoint).unwrap().timeout(WAIT).build().unwrap())
            }
        }
    }

    fn endpoint(&self) -> String {
        match self {
            Tx::Pub(p) => p.endpoint(),
            Tx::Push(p) => p.endpoint(),
        }
    }

    /// Waits until what is sent next reaches the Python peer: its subscription arrived,
    /// or its connection is up.
    fn wait_ready(&mut self) {
        match self {
            Tx::Pub(p) => {
                p.wait_for_subscribers(1, WAIT).expect("the Python subscriber subscribes");
            }
            Tx::Push(p) => p.wait_connected(WAIT).expect("the Python puller connects"),
        }
    }

    async fn wait_ready_async(&mut self) {
        match self {
            Tx::Pub(p) => {
                p.wait_for_subscribers_async(1, WAIT).await.expect("the Python subscriber subscribes");
            }
            Tx::Push(p) => p.wait_connected_async(WAIT).await.expect("the Python puller connects"),
        }
    }

    fn send<P: Payload>(&mut self, topic: &str, msg: &P) -> Result<(), Error> {
        match self {
            Tx::Pub(p) => p.publish_to(topic, msg),
            Tx::Push(p) => p.push(msg),
        }
    }

    async fn send_async<P: Payload>(&mut self, topic: &str, msg: &P) -> Result<(), Error> {
        match self {
            Tx::Pub(p) => p.publish_to_async(topic, msg).await,
            Tx::Push(p) => p.push_async(msg).await,
        }
    }

    /// Closes, which must deliver everything sent (the flush is bounded by the linger).
    fn close(self) {
        let closed = match self {
            Tx::Pub(p) => p.close(),
            Tx::Push(p) => p.close(),
        };
        closed.expect("close delivers every message that was sent");
    }
}

/// Runs `$body` with `$T` the concrete type of the built-in `AnyMessage` `$msg` and
/// `$m` its value; `$other => $fallback` for `Unknown` and `Registered`.
macro_rules! concrete {
    ($msg:expr, $m:ident: $T:ident => $body:expr, $other:ident => $fallback:expr) => {
        match $msg {
            AnyMessage::EraChanged($m) => {
                type $T = EraChanged;
                $body
            }
            AnyMessage::RenderRequest($m) => {
                type $T = RenderRequest;
                $body
            }
            AnyMessage::IdleStatus($m) => {
                type $T = IdleStatus;
                $body
            }
            AnyMessage::ImageReady($m) => {
                type $T = ImageReady;
                $body
            }
            AnyMessage::TransitionReady($m) => {
                type $T = TransitionReady;
                $body
            }
            AnyMessage::LoopReady($m) => {
                type $T = LoopReady;
                $body
            }
            AnyMessage::AgentControlEvent($m) => {
                type $T = AgentControlEvent;
                $body
            }
            AnyMessage::TransitionRequest($m) => {
                type $T = TransitionRequest;
                $body
            }
            AnyMessage::LoopRequest($m) => {
                type $T = LoopRequest;
                $body
            }
            AnyMessage::Heartbeat($m) => {
                type $T = Heartbeat;
                $body
            }
            $other => $fallback,
        }
    };
}

/// Receives one case on `$rx` with method `$recv` (`recv`, or `recv_async . await`)
/// and asserts the typed value (and the topic, for pub/sub). Typed cases are received
/// as the concrete type when `$concrete`, else as `AnyMessage`.
macro_rules! receive_case {
    ($rx:expr, $case:expr, $concrete:expr, $label:expr, $recv:ident $(. $aw:tt)?) => {{
        let case: &Case = $case;
        let label: &str = $label;
        let fail = |e: Error| -> ! { panic!("{label}: receive failed: {e}") };
        let topic = match &case.expect {
            Expect::Untyped(v) => {
                let (topic, got) = $rx.$recv::<Value>()$(.$aw)?.unwrap_or_else(|e| fail(e));
                assert_eq!(&got, v, "{label}: untyped");
                topic
            }
            Expect::Typed(m) if $concrete => concrete!(m, m: T => {
                let (topic, got) = $rx.$recv::<T>()$(.$aw)?.unwrap_or_else(|e| fail(e));
                assert_eq!(&got, m, "{label}: as {}", std::any::type_name::<T>());
                topic
            }, m => {
                let (topic, got) = $rx.$recv::<AnyMessage>()$(.$aw)?.unwrap_or_else(|e| fail(e));
                assert_eq!(&got, m, "{label}: as AnyMessage");
                topic
            }),
            Expect::Typed(m) => {
                let (topic, got) = $rx.$recv::<AnyMessage>()$(.$aw)?.unwrap_or_else(|e| fail(e));
                assert_eq!(&got, m, "{label}: as AnyMessage");
                topic
            }
        };
        if let Some(topic) = topic {
            assert_eq!(topic, case.topic, "{label}: topic");
        }
    }};
}

/// Sends one case on `$tx` with method `$send` (`send`, or `send_async . await`): the
/// concrete type when `$concrete`, else the `AnyMessage`; untyped cases as the `Value`.
macro_rules! send_case {
    ($tx:expr, $case:expr, $concrete:expr, $label:expr, $send:ident $(. $aw:tt)?) => {{
        let case: &Case = $case;
        let sent = match &case.expect {
            Expect::Untyped(v) => $tx.$send(case.topic, v)$(.$aw)?,
            Expect::Typed(m) if $concrete => concrete!(m, m: T => {
                let m: &T = m;
                $tx.$send(case.topic, m)$(.$aw)?
            }, m => $tx.$send(case.topic, m)$(.$aw)?),
            Expect::Typed(m) => $tx.$send(case.topic, m)$(.$aw)?,
        };
        if let Err(e) = sent {
            panic!("{}: send failed: {e}", $label);
        }
    }};
}

// ------------------------------------------------------------------ the four flows

fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(panic without a message)".to_owned())
}

/// The Rust side's outcome; if it panicked, the test fails with the Python peer's whole
/// output beside the Rust failure.
fn rust_outcome<T>(outcome: Result<T, Box<dyn Any + Send>>, report: &PeerReport, what: &str) -> T {
    match outcome {
        Ok(v) => v,
        Err(payload) => {
            panic!(
                "{what}: the Rust side failed: {}\n--- the Python peer ---\n{report}",
                panic_text(&*payload)
            )
        }
    }
}

fn joined<T>(outcome: Result<T, tokio::task::JoinError>) -> Result<T, Box<dyn Any + Send>> {
    outcome.map_err(|e| match e.try_into_panic() {
        Ok(payload) => payload,
        Err(e) => Box::new(format!("the task did not finish: {e}")),
    })
}

/// Sets up the Python peer and the Rust socket, whichever binds.
fn connect<S>(
    role: Role,
    mode: Mode,
    binder: Binder,
    cases_file: &std::path::Path,
    repeat: usize,
    rust: impl FnOnce(Binder, &str) -> S,
    endpoint_of: impl Fn(&S) -> String,
) -> (S, Peer) {
    let peer = |endpoint: String| {
        Peer::builder(role, endpoint).mode(mode).cases(cases_file).timeout(WAIT).repeat(repeat)
    };
    let (socket, mut peer) = match binder {
        Binder::Rust => {
            let socket = rust(Binder::Rust, ANY_PORT);
            let peer = peer(endpoint_of(&socket)).connect().spawn();
            (socket, peer)
        }
        Binder::Python => {
            let mut peer = peer(ANY_PORT.to_owned()).bind().spawn();
            let endpoint = peer.ready();
            (rust(Binder::Python, &endpoint), peer)
        }
    };
    peer.ready();
    (socket, peer)
}

fn python_cases_file(cases: &[Case]) -> std::path::PathBuf {
    python::write_cases(&cases.iter().map(|c| (c.topic.to_owned(), c.python.clone())).collect::<Vec<_>>())
}

fn rust_cases_file(cases: &[Case]) -> std::path::PathBuf {
    python::write_cases(&cases.iter().map(|c| (c.topic.to_owned(), c.rust_json())).collect::<Vec<_>>())
}

fn describe(pattern: Pattern, from: &str, to: &str, mode: Mode, binder: Binder) -> String {
    format!("{pattern:?} {from} -> {to} (Python {}, {binder:?} binds)", mode.as_str())
}

/// Typed cases alternate between the `AnyMessage` and the concrete-type API, so that
/// with two or more repeats every case goes through both.
fn concrete_turn(repeat: usize, index: usize) -> bool {
    (repeat + index) % 2 == 1
}

fn python_to_rust_blocking(pattern: Pattern, mode: Mode, binder: Binder, repeat: usize) {
    let what = describe(pattern, "Python", "Rust blocking", mode, binder);
    let n = cases().len();
    let file = python_cases_file(&cases());
    let role = if pattern == Pattern::PubSub { Role::Pub } else { Role::Push };
    let (rx, peer) =
        connect(role, mode, binder, &file, repeat, |b, ep| Rx::new(pattern, b, ep), Rx::endpoint);
    let label = what.clone();
    let outcome = std::thread::spawn(move || {
        let mut rx = rx;
        let cases = cases();
        for r in 0..repeat {
            for (i, case) in cases.iter().enumerate() {
                let l = format!("{label}: repeat {r} case {i} ({})", case.python);
                receive_case!(rx, case, concrete_turn(r, i), &l, recv);
            }
        }
        rx
    })
    .join();
    let report = peer.finish();
    let mut rx = rust_outcome(outcome, &report, &what);
    report.assert_ok();
    assert_eq!(report.sent, (n * repeat) as u64, "{what}: {report}");
    rx.assert_nothing_more();
    rx.close();
}

async fn python_to_rust_async(pattern: Pattern, mode: Mode, binder: Binder, repeat: usize) {
    let what = describe(pattern, "Python", "Rust async", mode, binder);
    let n = cases().len();
    let file = python_cases_file(&cases());
    let role = if pattern == Pattern::PubSub { Role::Pub } else { Role::Push };
    let (rx, peer) =
        connect(role, mode, binder, &file, repeat, |b, ep| Rx::new(pattern, b, ep), Rx::endpoint);
    let label = what.clone();
    let outcome = tokio::spawn(async move {
        let mut rx = rx;
        let cases = cases();
        for r in 0..repeat {
            for (i, case) in cases.iter().enumerate() {
                let l = format!("{label}: repeat {r} case {i} ({})", case.python);
                receive_case!(rx, case, concrete_turn(r, i), &l, recv_async.await);
            }
        }
        rx
    })
    .await;
    let report = peer.finish();
    let mut rx = rust_outcome(joined(outcome), &report, &what);
    report.assert_ok();
    assert_eq!(report.sent, (n * repeat) as u64, "{what}: {report}");
    rx.assert_nothing_more();
    rx.close();
}

fn rust_blocking_to_python(pattern: Pattern, mode: Mode, binder: Binder, repeat: usize) {
    let what = describe(pattern, "Rust blocking", "Python", mode, binder);
    let n = cases().len();
    let file = rust_cases_file(&cases());
    let role = if pattern == Pattern::PubSub { Role::Sub } else { Role::Pull };
    let (tx, peer) =
        connect(role, mode, binder, &file, repeat, |b, ep| Tx::new(pattern, b, ep), Tx::endpoint);
    let label = what.clone();
    let outcome = std::thread::spawn(move || {
        let mut tx = tx;
        let cases = cases();
        tx.wait_ready();
        for r in 0..repeat {
            for (i, case) in cases.iter().enumerate() {
                send_case!(tx, case, concrete_turn(r, i), format!("{label}: repeat {r} case {i}"), send);
            }
        }
        tx.close();
    })
    .join();
    let report = peer.finish();
    rust_outcome(outcome, &report, &what);
    report.assert_ok();
    assert_eq!(report.received, (n * repeat) as u64, "{what}: {report}");
}

async fn rust_async_to_python(pattern: Pattern, mode: Mode, binder: Binder, repeat: usize) {
    let what = describe(pattern, "Rust async", "Python", mode, binder);
    let n = cases().len();
    let file = rust_cases_file(&cases());
    let role = if pattern == Pattern::PubSub { Role::Sub } else { Role::Pull };
    let (tx, peer) =
        connect(role, mode, binder, &file, repeat, |b, ep| Tx::new(pattern, b, ep), Tx::endpoint);
    let label = what.clone();
    let outcome = tokio::spawn(async move {
        let mut tx = tx;
        let cases = cases();
        tx.wait_ready_async().await;
        for r in 0..repeat {
            for (i, case) in cases.iter().enumerate() {
                send_case!(
                    tx,
                    case,
                    concrete_turn(r, i),
                    format!("{label}: repeat {r} case {i}"),
                    send_async.await
                );
            }
        }
        tx.close();
    })
    .await;
    let report = peer.finish();
    rust_outcome(joined(outcome), &report, &what);
    report.assert_ok();
    assert_eq!(report.received, (n * repeat) as u64, "{what}: {report}");
}

// ---------------------------------------------------------------------------- tests
//
// Each test runs its flow twice: Python sync with Python binding, then Python asyncio
// with Rust binding; so every pattern, direction and Rust API meets both Python modes
// and both binding sides.

#[test]
fn python_pub_to_rust_sub_blocking() {
    python_to_rust_blocking(Pattern::PubSub, Mode::Sync, Binder::Python, PUB_REPEAT);
    python_to_rust_blocking(Pattern::PubSub, Mode::Async, Binder::Rust, PUB_REPEAT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pub_to_rust_sub_async() {
    python_to_rust_async(Pattern::PubSub, Mode::Sync, Binder::Python, PUB_REPEAT).await;
    python_to_rust_async(Pattern::PubSub, Mode::Async, Binder::Rust, PUB_REPEAT).await;
}

#[test]
fn python_push_to_rust_pull_blocking_nothing_lost() {
    python_to_rust_blocking(Pattern::PushPull, Mode::Sync, Binder::Python, PUSH_REPEAT);
    python_to_rust_blocking(Pattern::PushPull, Mode::Async, Binder::Rust, PUSH_REPEAT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_push_to_rust_pull_async_nothing_lost() {
    python_to_rust_async(Pattern::PushPull, Mode::Sync, Binder::Python, PUSH_REPEAT).await;
    python_to_rust_async(Pattern::PushPull, Mode::Async, Binder::Rust, PUSH_REPEAT).await;
}

#[test]
fn rust_pub_blocking_to_python_sub() {
    rust_blocking_to_python(Pattern::PubSub, Mode::Sync, Binder::Python, PUB_REPEAT);
    rust_blocking_to_python(Pattern::PubSub, Mode::Async, Binder::Rust, PUB_REPEAT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_pub_async_to_python_sub() {
    rust_async_to_python(Pattern::PubSub, Mode::Sync, Binder::Python, PUB_REPEAT).await;
    rust_async_to_python(Pattern::PubSub, Mode::Async, Binder::Rust, PUB_REPEAT).await;
}

#[test]
fn rust_push_blocking_to_python_pull_nothing_lost() {
    rust_blocking_to_python(Pattern::PushPull, Mode::Sync, Binder::Python, PUSH_REPEAT);
    rust_blocking_to_python(Pattern::PushPull, Mode::Async, Binder::Rust, PUSH_REPEAT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_push_async_to_python_pull_nothing_lost() {
    rust_async_to_python(Pattern::PushPull, Mode::Sync, Binder::Python, PUSH_REPEAT).await;
    rust_async_to_python(Pattern::PushPull, Mode::Async, Binder::Rust, PUSH_REPEAT).await;
}

/// The frame Python receives from Rust: `"<topic> <compact JSON>"`, `"type"` first.
/// `json.dumps` would write `", "` and `": "`; both parse the same.
#[test]
fn rust_frame_as_python_receives_it() {
    let msg = EraChanged { era: Era::AiFuture, biome: Biome::TropicalForest };
    let file = python::write_cases(&[("era".into(), AnyMessage::from(msg.clone()).to_json().unwrap())]);
    let mut peer = Peer::builder(Role::Sub, ANY_PORT).bind().cases(&file).timeout(WAIT).echo().spawn();
    let endpoint = peer.ready();
    let mut publisher =
        Publisher::builder().connect(&endpoint).unwrap().topic("era").unwrap().build().unwrap();
    publisher.wait_for_subscribers(1, WAIT).unwrap();
    publisher.publish(&msg).unwrap();
    publisher.close().unwrap();
    let report = peer.finish();
    report.assert_ok();
    assert_eq!(report.frames, [r#"era {"type":"EraChanged","era":"ai_future","biome":"tropical_forest"}"#]);
}

/// Rust writes `IdleStatus`, never Python's `Idle`; and a Python peer that expects
/// something else fails with its field-by-field report.
#[test]
fn rust_never_writes_the_idle_alias() {
    let file = python::write_cases(&[(String::new(), json!({"type": "Idle", "status": true}))]);
    let mut peer = Peer::builder(Role::Pull, ANY_PORT).bind().cases(&file).timeout(WAIT).spawn();
    let endpoint = peer.ready();
    let mut push = PushSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    push.wait_connected(WAIT).unwrap();
    push.push(&IdleStatus { status: true }).unwrap();
    push.close().unwrap();
    let report = peer.finish();
    assert_eq!(report.exit_code, 1, "{report}");
    assert_eq!(report.mismatches, [r#"case 0: type: expected "Idle", got "IdleStatus""#], "{report}");
}

/// ZeroMQ subscriptions are byte prefixes of the frame: `subscribe("status")` also gets
/// the Python topic `status-updates`, `subscribe_exact("status")` only `status`.
#[test]
fn rust_subscriptions_filter_python_topics() {
    let idle = |status| json!({"type": "IdleStatus", "status": status});
    let sent = [
        ("status-updates", idle(true)),
        ("status", idle(false)),
        ("other", idle(true)),
        ("status", idle(true)),
    ];
    let file =
        python::write_cases(&sent.iter().map(|(t, m)| ((*t).to_owned(), m.clone())).collect::<Vec<_>>());
    // The Python publisher waits for both subscriptions before it sends.
    let mut peer = Peer::builder(Role::Pub, ANY_PORT)
        .bind()
        .topic("status ")
        .topic("status")
        .cases(&file)
        .timeout(WAIT)
        .spawn();
    let endpoint = peer.ready();
    let build =
        |b: experimance_common::socket::SocketBuilder<Subscriber, _, _>| b.timeout(WAIT).build().unwrap();
    let mut exact =
        build(Subscriber::builder().connect(&endpoint).unwrap().subscribe_exact("status").unwrap());
    let mut prefix = build(Subscriber::builder().connect(&endpoint).unwrap().subscribe("status"));
    let report = peer.finish();
    report.assert_ok();

    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(exact.receive::<IdleStatus>().unwrap());
    }
    assert_eq!(
        got,
        [("status".into(), IdleStatus { status: false }), ("status".into(), IdleStatus { status: true })]
    );
    assert!(exact.receive_raw_within(QUIET).unwrap_err().is_timeout());
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(prefix.receive::<IdleStatus>().unwrap().0);
    }
    assert_eq!(got, ["status-updates", "status", "status"]);
    assert!(prefix.receive_raw_within(QUIET).unwrap_err().is_timeout());
}

/// What Python can send but Rust cannot represent, or what breaks a schema, arrives as
/// `Error::Decode` holding the frame exactly as sent, and the socket goes on. (Python's
/// `json.dumps` writes `NaN` and `Infinity`, which are not JSON, and lone surrogates.)
#[test]
fn python_frames_rust_cannot_decode_are_errors_that_keep_the_frame() {
    // Written by hand: serde_json cannot write NaN or a lone surrogate; json.load reads them.
    let cases = r#"[
        {"topic": "", "message": {"type": "Heartbeat", "timestamp": NaN, "service": "nan"}},
        {"topic": "", "message": {"type": "LoopReady", "loop_id": "l", "uri": "u", "is_video": true, "duration_s": Infinity}},
        {"topic": "", "message": {"type": "ImageReady", "request_id": null, "image_id": "\ud800", "uri": "u"}},
        {"topic": "", "message": {"type": "RenderRequest", "id": "task-123", "parameters": {"resolution": [800, 600]}}},
        {"topic": "", "message": {"type": "IdleStatus", "service": "worker-1", "status": "ready"}},
        {"topic": "", "message": {"type": "EraChanged", "era": "stone_age", "biome": "desert"}},
        {"topic": "", "message": {"type": "Heartbeat", "timestamp": 1.5, "service": "big", "big": 18446744073709551616}},
        {"topic": "", "message": {"type": "Idle", "status": true}}
    ]"#;
    let dir = python::target_dir().join("python-peer-cases");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("interop-undecodable-{}.json", std::process::id()));
    std::fs::write(&file, cases).unwrap();

    let mut peer = Peer::builder(Role::Push, ANY_PORT).bind().cases(&file).timeout(WAIT).spawn();
    let endpoint = peer.ready();
    let mut pull = PullSocket::builder().connect(&endpoint).unwrap().timeout(WAIT).build().unwrap();
    let mut errors = Vec::new();
    for _ in 0..6 {
        match pull.pull::<AnyMessage>() {
            Err(Error::Decode(e)) => errors.push(e),
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
    // Lossy, not an error: a Python int beyond 64 bits becomes the nearest f64 (serde_json
    // without `arbitrary_precision`), so forwarding this heartbeat would change it.
    let big = pull.pull::<Heartbeat>().unwrap();
    assert_eq!(big.extra["big"], json!(18446744073709551616.0));
    // After six bad frames the socket works as usual.
    assert_eq!(pull.pull::<IdleStatus>().unwrap(), IdleStatus { status: true });
    let report = peer.finish();
    report.assert_ok();
    assert_eq!(report.sent, 8);

    let raw: Vec<String> = errors.iter().map(|e| String::from_utf8(e.raw().to_vec()).unwrap()).collect();
    // The frames are exactly what json.dumps wrote (", " and ": " separators).
    assert_eq!(raw[0], r#"{"type": "Heartbeat", "timestamp": NaN, "service": "nan"}"#);
    assert!(raw[1].contains(r#""duration_s": Infinity"#), "{}", raw[1]);
    assert!(raw[2].contains(r#""image_id": "\ud800""#), "{}", raw[2]);
    assert!(raw[3].contains(r#""id": "task-123""#), "{}", raw[3]);
    for e in &errors[..2] {
        assert!(matches!(e.kind(), DecodeErrorKind::Json(_)), "{e}");
    }
    // The lone surrogate has its own kind, the same for every decoder (tests/decode_rules.rs).
    assert!(matches!(errors[2].kind(), DecodeErrorKind::LoneSurrogate { at: 56 }), "{}", errors[2]);
    // The README's free-form task is RenderRequest-typed but no RenderRequest, and the
    // Python example's worker status has a string "status": both only decode untyped.
    assert!(e_says(&errors[3], "request_id"), "{}", errors[3]);
    assert!(e_says(&errors[4], "status"), "{}", errors[4]);
    assert!(e_says(&errors[5], "stone_age"), "{}", errors[5]);
    for e in &errors[3..] {
        assert!(codec_value(e.raw()).is_object(), "{e}");
    }
}

fn e_says(e: &experimance_common::DecodeError, what: &str) -> bool {
    e.to_string().contains(what)
}

fn codec_value(raw: &[u8]) -> Value {
    experimance_common::codec::decode_push::<serde_json::Value>(raw).unwrap()
}
