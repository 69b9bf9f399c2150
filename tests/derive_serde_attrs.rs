//! The `FieldInfo` that `#[derive(Message)]` registers agrees with what serde really does:
//! each struct below is serialized with serde_json, and decoded back with keys removed and
//! renamed, and what serde did is compared with the registered description (the names
//! serde writes, `optional`, `decode_names`) for every serde attribute that bears on the
//! wire: rename (both directions), every `rename_all` rule, skip, skip_serializing,
//! skip_deserializing, skip_serializing_if, flatten, default (field and container), alias,
//! `with` on an `Option`.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use experimance_common::registry::{lookup_type, FieldInfo};
use experimance_common::Message;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Checks `M`'s registered fields against what serde does with `value`, and returns them:
///
/// * the names are exactly the keys serde_json writes, in order, except `flattened` (the
///   keys a flattened field contributes, which are not described);
/// * `optional` is true exactly when an object without the field still decodes;
/// * `decode_names` are exactly the keys, among `candidates` and every name the struct's
///   fields describe, that decoding reads the field from.
///
/// `value` must hold in each field that decoding does not read its default value.
fn check<M: Message + PartialEq>(value: &M, flattened: &[&str], candidates: &[&str]) -> &'static [FieldInfo] {
    let ty = M::TYPE;
    let fields = lookup_type(ty).unwrap_or_else(|| panic!("{ty} is not registered")).fields();
    let Value::Object(written) = serde_json::to_value(value).unwrap() else { panic!("{ty}: not an object") };
    for key in flattened {
        assert!(written.contains_key(*key), "{ty}: the flattened key {key} is not written: {written:?}");
    }
    let keys: Vec<&str> = written.keys().map(String::as_str).filter(|k| !flattened.contains(k)).collect();
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    assert_eq!(names, keys, "{ty}: the described fields are not the keys serde writes");

    // The object decoding reads back: each field under a key it is read from.
    let read_key =
        |f: &FieldInfo| f.decode_names.iter().find(|&&n| n == f.name).or(f.decode_names.first()).copied();
    let mut base: Map<String, Value> =
        flattened.iter().map(|&k| (k.to_owned(), written[k].clone())).collect();
    for f in fields {
        assert!(f.decode_names.windows(2).all(|w| w[0] < w[1]), "{ty}.{}: decode names not sorted", f.name);
        if let Some(key) = read_key(f) {
            base.insert(key.to_owned(), written[f.name].clone());
        }
    }
    assert_eq!(decode::<M>(&base).as_ref(), Ok(value), "{ty}: the value does not come back from {base:?}");

    let mut pool: BTreeSet<&str> = candidates.iter().copied().collect();
    pool.extend(fields.iter().flat_map(|f| f.decode_names.iter().copied().chain([f.name])));
    for (i, f) in fields.iter().enumerate() {
        let mut without = base.clone();
        if let Some(key) = read_key(f) {
            without.remove(key);
        }
        let absent_ok = decode::<M>(&without).is_ok();
        assert_eq!(
            absent_ok, f.optional,
            "{ty}.{}: `optional` is not whether serde accepts it absent",
            f.name
        );

        // Keys that would collide with another field (or a flattened one) are not probed.
        let taken: BTreeSet<&str> = fields
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .flat_map(|(_, o)| o.decode_names.iter().copied())
            .chain(flattened.iter().copied())
            .collect();
        for &key in pool.iter().filter(|k| !taken.contains(*k)) {
            // Is `key` read as this field? An optional field read from it fails on a value
            // of the wrong type (otherwise the key is ignored and it decodes); a required
            // one decodes from it only if it is read.
            let read = if absent_ok {
                let mut probe = without.clone();
                probe.insert(key.to_owned(), Value::Array(vec![Value::Bool(true)]));
                decode::<M>(&probe).is_err()
            } else {
                let mut probe = without.clone();
                probe.insert(key.to_owned(), written[f.name].clone());
                decode::<M>(&probe).as_ref() == Ok(value)
            };
            assert_eq!(
                read,
                f.decode_names.contains(&key),
                "{ty}.{}: serde {} the key {key:?}, decode_names {:?}",
                f.name,
                if read { "reads it from" } else { "does not read it from" },
                f.decode_names,
            );
        }
    }
    fields
}

fn decode<M: DeserializeOwned>(object: &Map<String, Value>) -> Result<M, String> {
    serde_json::from_value(Value::Object(object.clone())).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct Inner {
    inner_a: u32,
    inner_b: String,
}

fn seven() -> u32 {
    7
}

/// An `Option<u32>` written as a string.
mod as_string {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(n) => s.serialize_str(&n.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| t.parse().map_err(D::Error::custom)).transpose()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
#[message(type = "FieldAttrs")]
struct FieldAttrs {
    plain: u32,
    r#loop: u32,
    #[serde(rename = "renamed")]
    rename_me: u32,
    #[serde(rename(serialize = "ser_name"))]
    ser_renamed: u32,
    #[serde(rename(deserialize = "de_name"))]
    de_renamed: u32,
    #[serde(rename(serialize = "out", deserialize = "in"))]
    both_renamed: u32,
    #[serde(alias = "alias_b", alias = "alias_a")]
    aliased: u32,
    #[serde(rename = "r", alias = "r_alias")]
    renamed_aliased: u32,
    #[serde(skip)]
    skipped: u32,
    #[serde(skip_serializing)]
    not_written: Option<u32>,
    #[serde(skip_deserializing, alias = "not_read_alias")]
    not_read: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    written_if_some: Option<u32>,
    #[serde(default)]
    defaulted: u32,
    #[serde(default = "seven")]
    defaulted_by_path: u32,
    maybe: Option<u32>,
    #[serde(with = "as_string")]
    maybe_with: Option<u32>,
    #[serde(default, with = "as_string")]
    maybe_with_default: Option<u32>,
    #[serde(flatten)]
    inner: Inner,
    after_flatten: u32,
}

#[test]
fn field_attributes_agree_with_serde() {
    let value = FieldAttrs {
        plain: 1,
        r#loop: 2,
        rename_me: 3,
        ser_renamed: 4,
        de_renamed: 5,
        both_renamed: 6,
        aliased: 8,
        renamed_aliased: 9,
        skipped: 0,
        not_written: None,
        not_read: 0,
        written_if_some: Some(10),
        defaulted: 11,
        defaulted_by_path: 12,
        maybe: Some(13),
        maybe_with: Some(14),
        maybe_with_default: Some(15),
        inner: Inner { inner_a: 16, inner_b: "b".to_owned() },
        after_flatten: 17,
    };
    let candidates = [
        "rename_me",
        "ser_renamed",
        "de_renamed",
        "both_renamed",
        "renamed_aliased",
        "skipped",
        "not_read_alias",
        "inner",
        "r#loop",
        "Loop",
    ];
    let fields = check(&value, &["inner_a", "inner_b"], &candidates);

    // What the comparison established, spelled out.
    let described: Vec<(&str, bool, &[&str])> =
        fields.iter().map(|f| (f.name, f.optional, f.decode_names)).collect();
    let expected: Vec<(&str, bool, &[&str])> = vec![
        ("plain", false, &["plain"]),
        ("loop", false, &["loop"]),
        ("renamed", false, &["renamed"]),
        ("ser_name", false, &["ser_renamed"]),
        ("de_renamed", false, &["de_name"]),
        ("out", false, &["in"]),
        ("aliased", false, &["alias_a", "alias_b", "aliased"]),
        ("r", false, &["r", "r_alias"]),
        ("not_read", true, &[]),
        ("written_if_some", true, &["written_if_some"]),
        ("defaulted", true, &["defaulted"]),
        ("defaulted_by_path", true, &["defaulted_by_path"]),
        ("maybe", true, &["maybe"]),
        ("maybe_with", false, &["maybe_with"]),
        ("maybe_with_default", true, &["maybe_with_default"]),
        ("after_flatten", false, &["after_flatten"]),
    ];
    assert_eq!(described, expected);
    assert_eq!(fields[14].rust_type, "Option<u32>");
}

/// One struct per `rename_all` rule serde has, with the same fields.
macro_rules! rename_all_structs {
    ($($name:ident: $rule:literal => [$($key:literal),*];)*) => {$(
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
        #[serde(rename_all = $rule)]
        struct $name {
            door_open_count: u32,
            lamp: u32,
            r#loop: u32,
            x2_value: u32,
            #[serde(rename = "explicit_wins")]
            renamed_anyway: u32,
            #[serde(alias = "doorAlias")]
            aliased_field: u32,
            maybe_later: Option<u32>,
        }

        impl $name {
            fn check() {
                let value = $name {
                    door_open_count: 1,
                    lamp: 2,
                    r#loop: 3,
                    x2_value: 4,
                    renamed_anyway: 5,
                    aliased_field: 6,
                    maybe_later: Some(7),
                };
                let candidates = ["door_open_count", "x2_value", "renamed_anyway", "aliased_field", "maybe_later", "loop"];
                let fields = check(&value, &[], &candidates);
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                assert_eq!(names, [$($key),*], "{}", $rule);
            }
        }
    )*

        #[test]
        fn every_rename_all_rule_agrees_with_serde() {
            $($name::check();)*
        }
    };
}

rename_all_structs! {
    Lower: "lowercase" => ["door_open_count", "lamp", "loop", "x2_value", "explicit_wins", "aliased_field", "maybe_later"];
    Upper: "UPPERCASE" => ["DOOR_OPEN_COUNT", "LAMP", "LOOP", "X2_VALUE", "explicit_wins", "ALIASED_FIELD", "MAYBE_LATER"];
    Pascal: "PascalCase" => ["DoorOpenCount", "Lamp", "Loop", "X2Value", "explicit_wins", "AliasedField", "MaybeLater"];
    Camel: "camelCase" => ["doorOpenCount", "lamp", "loop", "x2Value", "explicit_wins", "aliasedField", "maybeLater"];
    Snake: "snake_case" => ["door_open_count", "lamp", "loop", "x2_value", "explicit_wins", "aliased_field", "maybe_later"];
    ScreamingSnake: "SCREAMING_SNAKE_CASE" => ["DOOR_OPEN_COUNT", "LAMP", "LOOP", "X2_VALUE", "explicit_wins", "ALIASED_FIELD", "MAYBE_LATER"];
    Kebab: "kebab-case" => ["door-open-count", "lamp", "loop", "x2-value", "explicit_wins", "aliased-field", "maybe-later"];
    ScreamingKebab: "SCREAMING-KEBAB-CASE" => ["DOOR-OPEN-COUNT", "LAMP", "LOOP", "X2-VALUE", "explicit_wins", "ALIASED-FIELD", "MAYBE-LATER"];
}

/// Different rules for the two directions: the names are the serialize rule's, the
/// decode names the deserialize rule's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
#[serde(rename_all(serialize = "camelCase", deserialize = "SCREAMING-KEBAB-CASE"))]
struct TwoRules {
    door_open_count: u32,
    maybe_later: Option<u32>,
}

#[test]
fn rename_all_per_direction_agrees_with_serde() {
    let value = TwoRules { door_open_count: 1, maybe_later: Some(2) };
    let fields = check(&value, &[], &["door_open_count", "door-open-count", "DOOR_OPEN_COUNT"]);
    let described: Vec<(&str, &[&str])> = fields.iter().map(|f| (f.name, f.decode_names)).collect();
    assert_eq!(
        described,
        [("doorOpenCount", &["DOOR-OPEN-COUNT"][..]), ("maybeLater", &["MAYBE-LATER"][..])]
    );
}

/// `#[serde(default)]` on the struct: every field may be absent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, Message)]
#[serde(default)]
struct AllDefault {
    count: u32,
    #[serde(with = "as_string")]
    maybe_with: Option<u32>,
    label: String,
}

#[test]
fn container_default_agrees_with_serde() {
    let value = AllDefault { count: 3, maybe_with: Some(4), label: "x".to_owned() };
    let fields = check(&value, &[], &["Count"]);
    assert!(fields.iter().all(|f| f.optional), "{fields:?}");
}
