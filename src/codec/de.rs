//! The serde pieces every decoder shares: the top-level key check ([`KeySet`]), a skip
//! that keeps serde_json's depth limit ([`DeepIgnore`]), borrowed strings ([`CowStr`]),
//! and the two untyped readers, [`peek_type`] (dispatch by `"type"`) and
//! [`parse_object`] (a free-form object).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserializer;
use serde_json::Value;

use crate::error::DecodeErrorKind;

/// The keys of one object seen so far: a short list, a hash set past 16 keys (so a
/// hostile object of 100,000 keys costs no quadratic time).
#[derive(Default)]
pub(crate) struct KeySet<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<std::collections::HashSet<Cow<'de, str>>>,
}

impl<'de> KeySet<'de> {
    /// Adds `key` (a clone of a borrowed key costs nothing); `false` if it was there
    /// already.
    pub(crate) fn insert(&mut self, key: Cow<'de, str>) -> bool {
        const FEW: usize = 16;
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        if self.few.len() < FEW {
            self.few.push(key);
        } else {
            let mut many: std::collections::HashSet<_> = self.few.drain(..).collect();
            many.insert(key);
            self.many = Some(many);
        }
        true
    }
}

/// Skips a value like [`de::IgnoredAny`], but through `deserialize_any` at every level,
/// so serde_json's depth limit (128) applies as it does to every value it parses.
pub(crate) struct DeepIgnore;

impl<'de> DeserializeSeed<'de> for DeepIgnore {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(DeepIgnore)
    }
}

impl<'de> Visitor<'de> for DeepIgnore {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while seq.next_element_seed(DeepIgnore)?.is_some() {}
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while map.next_key_seed(DeepIgnore)?.is_some() {
            map.next_value_seed(DeepIgnore)?;
        }
        Ok(())
    }
}

/// Deserializes a string, borrowing it from the input when it has no escapes.
pub(crate) struct CowStr;

impl<'de> DeserializeSeed<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(CowStrVisitor)
    }
}

struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Like [`CowStr`], but any non-string value yields `None` instead of an error (the
/// caller reports it as [`DecodeErrorKind::TypeNotAString`]).
pub(crate) struct MaybeCowStr;

impl<'de> DeserializeSeed<'de> for MaybeCowStr {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(MaybeCowStrVisitor)
    }
}

struct MaybeCowStrVisitor;

impl<'de> Visitor<'de> for MaybeCowStrVisitor {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Reads only the top-level `"type"` of a JSON object (skipping everything else), for
/// dispatch by [`AnyMessage`](crate::AnyMessage), checking the top-level keys for
/// repeats as every decoder does. `Ok(None)`: an object without a string `"type"`.
pub(crate) fn peek_type(json: &str) -> Result<Option<Cow<'_, str>>, DecodeErrorKind> {
    struct Peek<'a>(&'a Cell<Option<String>>);
    impl<'de> Visitor<'de> for Peek<'_> {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut found = None;
            let mut keys = KeySet::default();
            while let Some(key) = map.next_key_seed(CowStr)? {
                if !keys.insert(key.clone()) {
                    self.0.set(Some(crate::error::clip(&key)));
                    return Err(de::Error::custom("a repeated key"));
                }
                if key == "type" {
                    found = map.next_value_seed(MaybeCowStr)?;
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let duplicate = Cell::new(None);
    read_object(json, Peek(&duplicate), &duplicate)
}

/// Parses a JSON object (checked text), rejecting a repeated top-level key.
pub(crate) fn parse_object(json: &str) -> Result<Value, DecodeErrorKind> {
    /// Set to the key that occurs twice.
    struct Object<'a>(&'a Cell<Option<String>>);
    impl<'de> Visitor<'de> for Object<'_> {
        type Value = serde_json::Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = serde_json::Map::new();
            while let Some(key) = access.next_key::<String>()? {
                let value = access.next_value::<Value>()?;
                match map.entry(key) {
                    serde_json::map::Entry::Vacant(slot) => {
                        slot.insert(value);
                    }
                    serde_json::map::Entry::Occupied(slot) => {
                        self.0.set(Some(crate::error::clip(slot.key())));
                        return Err(de::Error::custom("a repeated key"));
                    }
                }
            }
            Ok(map)
        }
    }
    let duplicate = Cell::new(None);
    read_object(json, Object(&duplicate), &duplicate).map(Value::Object)
}

/// Reads `json` (checked text) as one object with `visitor`, and names what went wrong
/// as every decoder does; `duplicate` is where the visitor put a repeated top-level key.
fn read_object<'de, V: Visitor<'de>>(
    json: &'de str,
    visitor: V,
    duplicate: &Cell<Option<String>>,
) -> Result<V::Value, DecodeErrorKind> {
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed = de.deserialize_map(visitor).and_then(|v| de.end().map(|()| v));
    match (parsed, duplicate.take()) {
        (_, Some(key)) => Err(DecodeErrorKind::DuplicateKey { key }),
        (Ok(v), None) => Ok(v),
        // deserialize_map refuses anything but an object as invalid data, at once.
        (Err(e), None) if e.is_data() => Err(DecodeErrorKind::NotAnObject),
        (Err(e), None) => Err(DecodeErrorKind::Json(e)),
    }
}
