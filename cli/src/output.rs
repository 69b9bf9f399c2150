//! How messages are printed: readable on a terminal (colour only there), or one JSON
//! object per line.

use experimance_common::{DecodeError, MessageInfo};
use serde_json::{json, Value};

const BOLD: &str = "\x1b[1m";
const CYAN: &str = "\x1b[36m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour {
        format!("{code}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// One received message.
pub fn message(topic: Option<&str>, value: &Value, json: bool, colour: bool) -> String {
    let type_name = value.get("type").and_then(Value::as_str);
    if json {
        let mut line = serde_json::Map::new();
        if let Some(t) = topic {
            line.insert("topic".into(), json!(t));
        }
        line.insert("type".into(), json!(type_name));
        line.insert("message".into(), value.clone());
        return Value::Object(line).to_string();
    }
    let mut text = String::new();
    if let Some(t) = topic {
        text.push_str(&paint(&format!("[{t}]"), CYAN, colour));
        text.push(' ');
    }
    text.push_str(&paint(type_name.unwrap_or("(no type)"), BOLD, colour));
    if let Value::Object(fields) = value {
        for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "type") {
            text.push_str(&format!(" {k}={v}"));
        }
    }
    text
}

/// A frame that did not decode: its error and its raw bytes, never dropped.
pub fn undecodable(e: &DecodeError, json: bool, colour: bool) -> String {
    let raw = String::from_utf8_lossy(e.raw());
    let valid_utf8 = std::str::from_utf8(e.raw()).is_ok();
    if json {
        let mut line = serde_json::Map::new();
        if e.framing() == experimance_common::Framing::Pub {
            line.insert("topic".into(), json!(e.topic()));
        }
        line.insert("error".into(), json!(e.kind().to_string()));
        line.insert("raw".into(), json!(raw));
        if !valid_utf8 {
            line.insert("raw_hex".into(), json!(hex(e.raw())));
        }
        return Value::Object(line).to_string();
    }
    let mut text = paint(&format!("undecodable frame: {}", e.kind()), RED, colour);
    text.push_str(&format!(" raw={raw:?}"));
    if !valid_utf8 {
        text.push_str(&format!(" hex={}", hex(e.raw())));
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A registered type as JSON: name, aliases, Rust type, fields.
pub fn type_json(t: &MessageInfo) -> Value {
    json!({
        "type": t.type_name(),
        "aliases": t.aliases(),
        "rust_type": t.rust_name(),
        "fields": t.fields().iter().map(|f| json!({
            "name": f.name, "rust_type": f.rust_type, "optional": f.optional,
        })).collect::<Vec<_>>(),
    })
}

/// A registered type on one line.
pub fn type_line(t: &MessageInfo) -> String {
    let fields: Vec<String> = t
        .fields()
        .iter()
        .map(|f| format!("{}{}: {}", f.name, if f.optional { "?" } else { "" }, f.rust_type))
        .collect();
    let aliases =
        if t.aliases().is_empty() { String::new() } else { format!(" (alias {})", t.aliases().join(", ")) };
    format!("{}{aliases}  {{ {} }}", t.type_name(), fields.join(", "))
}
