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
    /// The allowed strings of an enum.
    pub values: Option<Vec<&'static str>>,
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
        return WireType { name: "enum".into(), values: Some(values) };
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
        if t.fields().is_empty() {
            table.row([name.as_str(), "", "", ""]);
        }
        for (i, f) in t.fields().iter().enumerate() {
            let w = wire_type(f.rust_type);
            let field = format!("{}{}", f.name, if f.optional { "?" } else { "" });
            let values = w.values.map(|v| v.join(" | ")).unwrap_or_default();
            table.row([if i == 0 { name.as_str() } else { "" }, &field, &w.name, &values]);
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
        assert!(era.values.unwrap().contains(&"modern"));
    }
}
