//! How messages are printed: readable on a terminal (colour only there), or one JSON
//! object per line.

use std::borrow::Cow;

use experimance_common::registry::MessageInfo;
use experimance_common::DecodeError;
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

/// Text from the network made safe for a terminal: every control character (C0, DEL,
/// C1: ESC sequences, BEL, backspace, carriage return...) and every bidirectional
/// override or isolate written as a `\u{..}` escape, so a frame cannot retitle,
/// clear or recolour the terminal, or fake a line. Borrowed when nothing needs escaping.
pub fn escape(text: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
    }
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One received message. Human output escapes everything that came from the network
/// ([`escape`]); `--json` output is JSON, whose strings escape control characters.
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
        text.push_str(&paint(&format!("[{}]", escape(t)), CYAN, colour));
        text.push(' ');
    }
    text.push_str(&paint(&escape(type_name.unwrap_or("(no type)")), BOLD, colour));
    if let Value::Object(fields) = value {
        for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "type") {
            // serde_json escapes C0 controls in strings, not C1 or bidi ones.
            text.push_str(&format!(" {}={}", escape(k), escape(&v.to_string())));
        }
    }
    text
}

/// A frame that did not decode, never dropped: as JSON, its error and all its bytes; for
/// a human, the error's bounded text (its length and an escaped prefix) and, when it is
/// not UTF-8, the hex of that prefix.
pub fn undecodable(e: &DecodeError, json: bool, colour: bool) -> String {
    let valid_utf8 = std::str::from_utf8(e.raw()).is_ok();
    if json {
        let raw = String::from_utf8_lossy(e.raw());
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
    const HEX_SHOWN: usize = 64;
    let mut text = paint("undecodable frame", RED, colour);
    text.push_str(": ");
    text.push_str(&escape(&e.to_string()));
    if !valid_utf8 {
        let shown = &e.raw()[..e.raw().len().min(HEX_SHOWN)];
        let more = if shown.len() < e.raw().len() { "..." } else { "" };
        text.push_str(&format!(" hex={}{more}", hex(shown)));
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
