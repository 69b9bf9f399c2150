//! `exbus types`: the registered message types with their fields' wire types (JSON
//! types, and the values of the string enums), as a table or JSON.

use experimance_common::{Biome, Era, MessageInfo, TransitionStyle};

use crate::table::{Align, Table};

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
    let mut table = Table::new(&[
        ("type", Align::Left),
        ("field", Align::Left),
        ("wire type", Align::Left),
        ("values", Align::Left),
    ]);
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
