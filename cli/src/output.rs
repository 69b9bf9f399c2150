//! How messages are printed: readable (colour only where `NO_COLOR`, `--color` and the
//! terminal allow, long strings truncated), one JSON object per line, the selected
//! fields, or the frame's own bytes.

use std::borrow::Cow;
use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};
use experimance_common::registry::MessageInfo;
use experimance_common::DecodeError;
use serde_json::{json, Value};

/// Strings longer than this many characters are cut in human output (without --full).
pub const TRUNCATE_AT: usize = 120;
/// How many characters of a cut string are shown.
const SHOWN: usize = 80;

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set (or `CLICOLOR_FORCE` forces it).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// How received messages are printed.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// One JSON object per line: {"topic", "type", "message"} (or {"topic", "error",
    /// "raw"}); no "topic" for pull. `publish -` and `push -` read these lines back.
    #[arg(long)]
    pub json: bool,
    /// Print each frame exactly as received (escaped on a terminal).
    #[arg(long, conflicts_with_all = ["json", "pretty", "fields"])]
    pub raw: bool,
    /// Print each message as indented JSON.
    #[arg(long)]
    pub pretty: bool,
    /// Do not truncate long strings (human output cuts strings over 120 characters).
    #[arg(long)]
    pub full: bool,
    /// Print only this field of each message (repeatable): a dotted path such as
    /// `era` or `parameters.resolution.0`.
    #[arg(long = "field", value_name = "PATH")]
    pub fields: Vec<String>,
    /// Colour: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

/// Whether to colour stdout: the flag, then `NO_COLOR`/`CLICOLOR_FORCE` and whether
/// stdout is a terminal (anstream's rules).
pub fn colour_stdout(when: ColorWhen) -> bool {
    let choice = match when {
        ColorWhen::Always => return true,
        ColorWhen::Never => return false,
        ColorWhen::Auto => anstream::AutoStream::choice(&std::io::stdout()),
    };
    choice != anstream::ColorChoice::Never
}

fn paint(text: &str, style: Style, colour: bool) -> String {
    if colour {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

const TOPIC: Style = AnsiColor::Cyan.on_default();
const TYPE: Style = Style::new().bold();
const ERROR: Style = AnsiColor::Red.on_default();

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

/// `value` with every string longer than [`TRUNCATE_AT`] characters cut to its start
/// and a note of how much was left out.
pub fn truncated(value: &Value) -> Cow<'_, Value> {
    fn needs(v: &Value) -> bool {
        match v {
            Value::String(s) => s.chars().nth(TRUNCATE_AT).is_some(),
            Value::Array(a) => a.iter().any(needs),
            Value::Object(o) => o.values().any(needs),
            _ => false,
        }
    }
    fn cut(v: &Value) -> Value {
        match v {
            Value::String(s) if s.chars().nth(TRUNCATE_AT).is_some() => {
                let head: String = s.chars().take(SHOWN).collect();
                let rest = s.chars().count() - SHOWN;
                Value::String(format!("{head}... (+{rest} chars, --full shows all)"))
            }
            Value::Array(a) => Value::Array(a.iter().map(cut).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), cut(v))).collect()),
            other => other.clone(),
        }
    }
    if needs(value) {
        Cow::Owned(cut(value))
    } else {
        Cow::Borrowed(value)
    }
}

/// The value at a dotted `path` (object keys, array indices).
pub fn field<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(o) => o.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// One received message. Human output escapes everything that came from the network
/// ([`escape`]); `--json` output is JSON, whose strings escape control characters.
pub fn message(topic: Option<&str>, value: &Value, args: &OutputArgs, colour: bool) -> String {
    let type_name = value.get("type").and_then(Value::as_str);
    if args.json {
        let mut line = serde_json::Map::new();
        if let Some(t) = topic {
            line.insert("topic".into(), json!(t));
        }
        line.insert("type".into(), json!(type_name));
        if args.fields.is_empty() {
            line.insert("message".into(), value.clone());
        } else {
            let picked =
                args.fields.iter().map(|p| (p.clone(), field(value, p).cloned().unwrap_or(Value::Null)));
            line.insert("fields".into(), Value::Object(picked.collect()));
        }
        return Value::Object(line).to_string();
    }
    let shown = if args.full { Cow::Borrowed(value) } else { truncated(value) };
    let mut text = String::new();
    if let Some(t) = topic {
        text.push_str(&paint(&format!("[{}]", escape(t)), TOPIC, colour));
        text.push(' ');
    }
    text.push_str(&paint(&escape(type_name.unwrap_or("(no type)")), TYPE, colour));
    if !args.fields.is_empty() {
        for path in &args.fields {
            let v = field(&shown, path).map_or_else(|| "(absent)".to_owned(), Value::to_string);
            text.push_str(&format!(" {}={}", escape(path), escape(&v)));
        }
    } else if args.pretty {
        let pretty = serde_json::to_string_pretty(&*shown).unwrap_or_default();
        // Pretty JSON keeps its line feeds; everything else is escaped.
        for line in pretty.lines() {
            text.push('\n');
            text.push_str(&escape(line));
        }
    } else if let Value::Object(fields) = &*shown {
        for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "type") {
            // serde_json escapes C0 controls in strings, not C1 or bidi ones.
            text.push_str(&format!(" {}={}", escape(k), escape(&v.to_string())));
        }
    }
    text
}

/// `--raw`: the frame's exact bytes, or escaped text when stdout is a terminal.
pub fn raw(frame: &[u8]) -> Vec<u8> {
    if std::io::stdout().is_terminal() {
        escape(&String::from_utf8_lossy(frame)).into_owned().into_bytes()
    } else {
        frame.to_vec()
    }
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
    let mut text = paint("undecodable frame", ERROR, colour);
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

/// A registered type as JSON: name, aliases, Rust type, fields with their wire types.
pub fn type_json(t: &MessageInfo) -> Value {
    if t.wire_schema().is_some() {
        // Hand-written serde: the document's fields, which are not the struct's.
        let fields: Vec<Value> = crate::types::wire_fields(t)
            .into_iter()
            .map(|f| {
                let mut o = json!({"name": f.name, "optional": f.optional, "wire_type": f.wire.name});
                if let Some(values) = f.wire.values {
                    o["values"] = json!(values);
                }
                o
            })
            .collect();
        return json!({"type": t.type_name(), "aliases": t.aliases(), "rust_type": t.rust_name(), "fields": fields});
    }
    json!({
        "type": t.type_name(),
        "aliases": t.aliases(),
        "rust_type": t.rust_name(),
        "fields": t.fields().iter().map(|f| {
            let wire = crate::types::wire_type(f.rust_type);
            let mut o = json!({
                "name": f.name, "rust_type": f.rust_type, "optional": f.optional,
                "wire_type": wire.name,
            });
            if let Some(values) = wire.values {
                o["values"] = json!(values);
            }
            o
        }).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_cut_and_paths_select() {
        let v = json!({"type": "T", "png": "x".repeat(1000), "a": {"b": [1, 2]}});
        let cut = truncated(&v);
        let png = cut["png"].as_str().unwrap();
        assert!(png.starts_with(&"x".repeat(SHOWN)) && png.contains("+920 chars"), "{png}");
        assert_eq!(field(&v, "a.b.1"), Some(&json!(2)));
        assert_eq!(field(&v, "a.c"), None);
    }
}
