//! `exbus types`: the registered message types with their fields' wire types (JSON
//! types, and the values of the string enums), as a table or JSON.

use experimance_common::registry::MessageInfo;
use experimance_common::{Biome, Era, TransitionStyle};

use crate::table::Table;

/// A field's type as it travels: a JSON type, and for a string enum its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireType {
    /// `string`, `integer`, `number`, `boolean`, `array of ...`, `object`, `any`, or
    /// `enum` (then `values` lists the strings).
    pub name: String,
    /// The allowed strings of an enum (or of a discriminating field, then `any other`
    /// when the type accepts unknown ones too).
    pub values: Option<Vec<String>>,
}

/// One field of a type's document as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireField {
    /// The key (`(other fields)` for a type that keeps any extra field).
    pub name: String,
    /// Whether the field may be absent (or null).
    pub optional: bool,
    /// Its wire type.
    pub wire: WireType,
}

/// The fields of a type's document: from its own schema where its serde is hand-written
/// ([`MessageInfo::wire_schema`]), else from the registry's fields.
pub fn wire_fields(t: &MessageInfo) -> Vec<WireField> {
    match t.wire_schema() {
        Some(def) => schema_fields(&def),
        None => t
            .fields()
            .iter()
            .map(|f| WireField {
                name: f.name.to_owned(),
                optional: f.optional,
                wire: wire_type(f.rust_type),
            })
            .collect(),
    }
}

/// A property's wire type, read from its JSON Schema.
fn described(schema: &serde_json::Value) -> WireType {
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str()).map(str::to_owned).collect()
    };
    if let Some(values) = schema.get("enum") {
        return WireType { name: "enum".into(), values: Some(strings(values)) };
    }
    match schema.get("type").and_then(|t| t.as_str()) {
        Some(name) => WireType { name: name.to_owned(), values: None },
        None => WireType { name: "any".into(), values: None },
    }
}

/// The fields of a hand-written schema: its properties (the `type` tag left out), a
/// `oneOf`'s discriminator with its values and the fields shaped by its cases, and
/// `(other fields)` when extra fields are kept.
fn schema_fields(def: &serde_json::Value) -> Vec<WireField> {
    let required: Vec<&str> =
        def["required"].as_array().into_iter().flatten().filter_map(|r| r.as_str()).collect();
    let cases: Vec<&serde_json::Value> = def["oneOf"].as_array().into_iter().flatten().collect();
    let title = |c: &serde_json::Value| c["title"].as_str().unwrap_or("?").to_owned();
    let mut discriminator = None;
    let mut fields = Vec::new();
    for (name, prop) in def["properties"].as_object().into_iter().flatten() {
        if name == "type" {
            continue;
        }
        let in_cases: Vec<&serde_json::Value> =
            cases.iter().filter_map(|c| c["properties"].get(name)).collect();
        let consts: Vec<String> =
            in_cases.iter().filter_map(|p| p["const"].as_str()).map(str::to_owned).collect();
        let mut wire = described(prop);
        if !consts.is_empty() {
            let mut values = consts;
            if in_cases.iter().any(|p| p.get("not").is_some()) {
                values.push("any other".into());
            }
            wire.values = Some(values);
            discriminator = Some(name.clone());
        } else if !in_cases.is_empty() {
            // Shaped by the case: each case's keys, `any` for a case that leaves it open.
            let by: Vec<String> = cases
                .iter()
                .map(|c| match c["properties"][name.as_str()]["properties"].as_object() {
                    Some(keys) => {
                        format!("{}: {}", title(c), keys.keys().cloned().collect::<Vec<_>>().join(", "))
                    }
                    None => format!("{}: any", title(c)),
                })
                .collect();
            wire = WireType { name: "object".into(), values: Some(by) };
        }
        fields.push(WireField { name: name.clone(), optional: !required.contains(&name.as_str()), wire });
    }
    if let Some(d) = discriminator {
        for f in fields.iter_mut().filter(|f| f.wire.values.is_some() && f.name != d) {
            f.wire.name = format!("object, by {d}");
        }
    }
    if def["additionalProperties"] == serde_json::Value::Bool(true) {
        fields.push(WireField {
            name: "(other fields)".into(),
            optional: true,
            wire: WireType { name: "any".into(), values: None },
        });
    }
    fields
}

/// The wire values of the library's string enums, by Rust type name.
pub fn enum_values(rust_type: &str) -> Option<Vec<&'static str>> {
    match rust_type {
        "Era" => Some(Era::ALL.iter().map(|e| e.as_str()).collect()),
        "Biome" => Some(Biome::ALL.iter().map(|b| b.as_str()).collect()),
        "TransitionStyle" => Some(TransitionStyle::ALL.iter().map(|s| s.as_str()).collect()),
        _ => None,
    }
}

/// The wire type of a field written as `rust_type` in its struct.
pub fn wire_type(rust_type: &str) -> WireType {
    let t = rust_type.replace(' ', "");
    let plain = |name: &str| WireType { name: name.to_owned(), values: None };
    if let Some(inner) = t.strip_prefix("Option<").and_then(|r| r.strip_suffix('>')) {
        let mut w = wire_type(inner);
        w.name.push_str(" or null");
        return w;
    }
    if let Some(inner) = t.strip_prefix("Vec<").and_then(|r| r.strip_suffix('>')) {
        let w = wire_type(inner);
        return WireType { name: format!("array of {}", w.name), values: w.values };
    }
    if let Some(values) = enum_values(&t) {
        return WireType {
            name: "enum".into(),
            values: Some(values.into_iter().map(str::to_owned).collect()),
        };
    }
    match t.as_str() {
        "String" | "&str" | "Cow<str>" => plain("string"),
        "bool" => plain("boolean"),
        "f32" | "f64" => plain("number"),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => plain("integer"),
        "Value" | "serde_json::Value" => plain("any"),
        m if m.starts_with("Map<") || m.starts_with("HashMap<") || m.starts_with("BTreeMap<") => {
            plain("object")
        }
        other => plain(&format!("object ({other})")),
    }
}

/// The human listing: one table of every field of every type.
pub fn table(types: &[&MessageInfo]) -> String {
    let mut table = Table::new(&["type", "field", "wire type", "values"], &[]);
    for t in types {
        let name = match t.aliases() {
            [] => t.type_name().to_owned(),
            aliases => format!("{} (alias {})", t.type_name(), aliases.join(", ")),
        };
        let fields = wire_fields(t);
        if fields.is_empty() {
            table.row([name.as_str(), "", "", ""]);
        }
        for (i, f) in fields.iter().enumerate() {
            let field = format!("{}{}", f.name, if f.optional { "?" } else { "" });
            let values = f.wire.values.as_ref().map(|v| v.join(" | ")).unwrap_or_default();
            table.row([if i == 0 { name.as_str() } else { "" }, &field, &f.wire.name, &values]);
        }
    }
    format!("{table}(a `?` field may be absent or null)")
}

/// A JSON Schema (draft 2020-12) for a wire type.
fn schema_of(rust_type: &str) -> serde_json::Value {
    use serde_json::json;
    let t = rust_type.replace(' ', "");
    if let Some(inner) = t.strip_prefix("Option<").and_then(|r| r.strip_suffix('>')) {
        return json!({"anyOf": [schema_of(inner), {"type": "null"}]});
    }
    if let Some(inner) = t.strip_prefix("Vec<").and_then(|r| r.strip_suffix('>')) {
        return json!({"type": "array", "items": schema_of(inner)});
    }
    if let Some(values) = enum_values(&t) {
        return json!({"enum": values});
    }
    match wire_type(&t).name.as_str() {
        "any" => json!({}),
        name @ ("string" | "integer" | "number" | "boolean" | "object") => json!({"type": name}),
        _ => json!({"type": "object"}),
    }
}

/// `types --schema`: one JSON Schema with a definition per registered type, generated
/// from the registry (names, aliases, fields, whether each is optional, wire types), or
/// the type's own [`wire_schema`](MessageInfo::wire_schema) where its serde is
/// hand-written.
pub fn schema(types: &[&MessageInfo]) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let mut defs = Map::new();
    for t in types {
        if let Some(def) = t.wire_schema() {
            // Hand-written serde (AgentControlEvent, Heartbeat): the library's own schema.
            defs.insert(t.type_name().into(), def);
            continue;
        }
        let mut names = vec![t.type_name()];
        names.extend(t.aliases());
        let mut properties = Map::new();
        properties.insert("type".into(), json!({"enum": names}));
        let mut required = vec![Value::from("type")];
        let mut unknown = Vec::new();
        for f in t.fields() {
            if wire_type(f.rust_type).name.starts_with("object (") {
                // A Rust type whose wire form the registry does not describe (it may
                // not even be one key: AgentControl travels as "sub_type" and "payload").
                unknown.push(format!("{} ({})", f.name, f.rust_type));
                continue;
            }
            properties.insert(f.name.into(), schema_of(f.rust_type));
            if !f.optional {
                required.push(f.name.into());
            }
        }
        let mut def = json!({"type": "object", "properties": properties, "required": required});
        if !unknown.is_empty() {
            def["description"] = json!(format!("not described by the registry: {}", unknown.join(", ")));
        }
        defs.insert(t.type_name().into(), def);
    }
    let any: Vec<Value> =
        types.iter().map(|t| json!({"$ref": format!("#/$defs/{}", t.type_name())})).collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Experimance bus messages",
        "oneOf": any,
        "$defs": defs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_types_become_wire_types() {
        assert_eq!(wire_type("Option<String>").name, "string or null");
        assert_eq!(wire_type("i64").name, "integer");
        assert_eq!(wire_type("Vec<f64>").name, "array of number");
        let era = wire_type("Era");
        assert_eq!(era.name, "enum");
        assert!(era.values.unwrap().contains(&"modern".to_owned()));
    }

    /// A type of the user's own (registered in this test binary only).
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, experimance_common::Message)]
    struct DoorOpened {
        door: String,
        #[serde(default)]
        note: Option<String>,
        era: Era,
        count: Vec<u32>,
    }

    #[test]
    #[allow(clippy::unwrap_used)] // a panic is a failed test
    fn a_user_type_is_described_from_its_registered_fields() {
        let info = experimance_common::registry::lookup_type("DoorOpened").unwrap();
        assert!(info.wire_schema().is_none());
        let schema = schema(&[info]);
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut frame = Vec::new();
        for note in [None, Some("left open".to_owned())] {
            let door = DoorOpened { door: "north".into(), note, era: Era::Ruins, count: vec![1, 2] };
            frame.clear();
            experimance_common::codec::encode_push(&door, &mut frame).unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&frame).unwrap();
            assert!(validator.is_valid(&doc), "{doc}");
        }
        for wrong in [
            serde_json::json!({"type": "DoorOpened", "door": "n", "era": "iron_age", "count": []}),
            serde_json::json!({"type": "DoorOpened", "era": "ruins", "count": []}),
            serde_json::json!({"type": "DoorOpened", "door": "n", "era": "ruins", "count": ["1"]}),
        ] {
            assert!(!validator.is_valid(&wrong), "{wrong}");
            assert!(info.decode(wrong.to_string().as_bytes()).is_err(), "{wrong}");
        }
        let rows = wire_fields(info);
        assert_eq!(
            rows.iter().map(|f| (f.name.as_str(), f.optional)).collect::<Vec<_>>(),
            [("door", false), ("note", true), ("era", false), ("count", false)]
        );
    }
}
