//! Every public decoder applied to one input, with the properties that hold for any
//! bytes at all: no decoder panics; an error holds exactly the bytes given, and its
//! `Display`/`Debug` are bounded and free of control characters; an `Ok` value
//! re-encodes to a frame that decodes to the same value; and the checks every decoder
//! makes before parsing (framing, UTF-8, surrogate escapes) give every decoder the same
//! error. Shared by tests/hostile.rs (proptest) and the fuzz targets (fuzz/), which
//! include it with `#[path]`.
#![allow(dead_code)] // each includer uses a different part

use experimance_common::codec;
use experimance_common::registry::lookup_type;
use experimance_common::*;

/// The most text an error may print, whatever the frame's size.
const MAX_TEXT: usize = 8000;

/// How a frame is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `<topic> <json>`.
    Pub,
    /// `<json>`.
    Push,
}

/// An error's checks; its kind when it is one of the checks made before parsing.
fn check_error(e: &DecodeError, frame: &[u8]) -> Result<Option<String>, String> {
    if e.raw() != frame {
        return Err(format!("the error holds {} bytes, not the {} given", e.raw().len(), frame.len()));
    }
    for text in [e.to_string(), format!("{e:?}")] {
        if text.len() > MAX_TEXT {
            return Err(format!("{} bytes of error text", text.len()));
        }
        if text.chars().any(char::is_control) {
            return Err(format!("a control character in the error text {text:?}"));
        }
    }
    Ok(match e.kind() {
        k @ (DecodeErrorKind::MissingSeparator
        | DecodeErrorKind::TopicNotUtf8 { .. }
        | DecodeErrorKind::NotUtf8 { .. }
        | DecodeErrorKind::LoneSurrogate { .. }) => Some(format!("{k:?}")),
        _ => None,
    })
}

/// What one decoder made of the frame: `None` if it decoded or failed in parsing,
/// else the kind of its failure before parsing.
type Outcome = Result<Option<String>, String>;

/// What a family of decoders made of the frame: one [`Outcome`] per decoder.
pub type Outcomes = Result<Vec<Option<String>>, String>;

fn typed<M: Message + PartialEq>(frame: &[u8], framing: Framing) -> Outcome {
    let mut buf = Vec::new();
    match framing {
        Framing::Push => match codec::decode_push::<M>(frame) {
            Err(e) => check_error(&e, frame),
            Ok(m) => {
                codec::encode_push(&m, &mut buf).map_err(|e| format!("{}: re-encode: {e}", M::TYPE))?;
                let back =
                    codec::decode_push::<M>(&buf).map_err(|e| format!("{}: re-decode: {e}", M::TYPE))?;
                same(&m, &back, M::TYPE).map(|()| None)
            }
        },
        Framing::Pub => match codec::decode_pub::<M>(frame) {
            Err(e) => check_error(&e, frame),
            Ok((topic, m)) => {
                codec::encode_pub(topic, &m, &mut buf).map_err(|e| format!("{}: re-encode: {e}", M::TYPE))?;
                let back =
                    codec::decode_pub::<M>(&buf).map_err(|e| format!("{}: re-decode: {e}", M::TYPE))?;
                same(&(topic, m), &back, M::TYPE).map(|()| None)
            }
        },
    }
}

fn same<T: PartialEq + std::fmt::Debug>(a: &T, b: &T, what: &str) -> Result<(), String> {
    if a == b {
        Ok(())
    } else {
        Err(format!("{what}: {a:?} came back as {b:?}"))
    }
}

/// Every built-in type's typed decoder.
pub fn check_typed(frame: &[u8], framing: Framing) -> Outcomes {
    macro_rules! each {
        ($($t:ty),*) => { Ok(vec![$(typed::<$t>(frame, framing)?),*]) };
    }
    each!(
        EraChanged,
        RenderRequest,
        IdleStatus,
        ImageReady,
        TransitionReady,
        LoopReady,
        AgentControlEvent,
        TransitionRequest,
        LoopRequest,
        Heartbeat
    )
}

/// The [`AnyMessage`] decoders.
pub fn check_any(frame: &[u8], framing: Framing) -> Outcomes {
    let mut buf = Vec::new();
    match framing {
        Framing::Push => match codec::decode_push::<AnyMessage>(frame) {
            Err(e) => Ok(vec![check_error(&e, frame)?]),
            Ok(m) => {
                codec::encode_push(&m, &mut buf).map_err(|e| format!("any: re-encode: {e}"))?;
                let back =
                    codec::decode_push::<AnyMessage>(&buf).map_err(|e| format!("any: re-decode: {e}"))?;
                same(&m, &back, "any")?;
                Ok(vec![None])
            }
        },
        Framing::Pub => match codec::decode_pub::<AnyMessage>(frame) {
            Err(e) => Ok(vec![check_error(&e, frame)?]),
            Ok((topic, m)) => {
                codec::encode_pub(topic, &m, &mut buf).map_err(|e| format!("any: re-encode: {e}"))?;
                let back =
                    codec::decode_pub::<AnyMessage>(&buf).map_err(|e| format!("any: re-decode: {e}"))?;
                same(&(topic, m), &back, "any")?;
                Ok(vec![None])
            }
        },
    }
}

/// The [`serde_json::Value`] decoders.
pub fn check_value(frame: &[u8], framing: Framing) -> Outcomes {
    let mut buf = Vec::new();
    match framing {
        Framing::Push => match codec::decode_push::<serde_json::Value>(frame) {
            Err(e) => Ok(vec![check_error(&e, frame)?]),
            Ok(v) => {
                codec::encode_push(&v, &mut buf).map_err(|e| format!("value: re-encode: {e}"))?;
                let back = codec::decode_push::<serde_json::Value>(&buf)
                    .map_err(|e| format!("value: re-decode: {e}"))?;
                same(&v, &back, "value").map(|()| vec![None])
            }
        },
        Framing::Pub => match codec::decode_pub::<serde_json::Value>(frame) {
            Err(e) => Ok(vec![check_error(&e, frame)?]),
            Ok((topic, v)) => {
                codec::encode_pub(topic, &v, &mut buf).map_err(|e| format!("value: re-encode: {e}"))?;
                let back = codec::decode_pub::<serde_json::Value>(&buf)
                    .map_err(|e| format!("value: re-decode: {e}"))?;
                same(&(topic, v), &back, "value").map(|()| vec![None])
            }
        },
    }
}

/// Every decoder on `frame` read as `framing`, and the checks before parsing agree: when
/// one decoder fails one of them, every decoder fails it the same way.
pub fn check_all(frame: &[u8], framing: Framing) -> Result<(), String> {
    let mut outcomes = check_typed(frame, framing)?;
    outcomes.extend(check_any(frame, framing)?);
    outcomes.extend(check_value(frame, framing)?);
    if framing == Framing::Push {
        if let Some(info) = lookup_type("EraChanged") {
            if let Err(e) = info.decode(frame) {
                outcomes.push(check_error(&e, frame)?);
            } else {
                outcomes.push(None);
            }
        }
    }
    if let Some(first) = outcomes.iter().flatten().next() {
        if outcomes.iter().any(|o| o.as_ref() != Some(first)) {
            return Err(format!("the decoders disagree before parsing: {outcomes:?}"));
        }
    }
    Ok(())
}

/// A fuzz target's body: `check` on `data` as a PUSH frame and as the JSON of a PUB
/// frame (`t <data>`); panics (what libFuzzer reports) on the first property broken.
pub fn push_and_pub(data: &[u8], check: fn(&[u8], Framing) -> Outcomes) {
    if let Err(e) = check(data, Framing::Push) {
        panic!("as a PUSH frame: {e}");
    }
    let frame = [&b"t "[..], data].concat();
    if let Err(e) = check(&frame, Framing::Pub) {
        panic!("as a PUB frame: {e}");
    }
}
