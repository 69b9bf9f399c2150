//! The serde side of the fast path: the [`Deserializer`] a value is read with, and the
//! map, sequence, key and variant accesses that serde_json's own deserializer has, each
//! calling the visitor as serde_json would for the same text.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use super::*;

/// The document's own object: its members after the tag, the tag itself hidden, every
/// key checked for repeats (the tag's included).
pub(super) struct TopLevel<'a, 'de>(pub(super) &'a mut Reader<'de>);

impl<'de> Deserializer<'de> for TopLevel<'_, 'de> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        let mut keys = ["type"; MAX_KEYS];
        visitor.visit_map(TopMembers { reader: self.0, keys: &mut keys, seen: 1 })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Fast<V::Value> {
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Fast<V::Value> {
        Err(Fallback)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct enum identifier
    }
}

struct TopMembers<'a, 'de> {
    reader: &'a mut Reader<'de>,
    keys: &'a mut [&'de str; MAX_KEYS],
    seen: usize,
}

impl<'de> MapAccess<'de> for TopMembers<'_, 'de> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Fast<Option<K::Value>> {
        match self.reader.peek() {
            Some(b'}') => return Ok(None),
            Some(b',') => self.reader.at += 1,
            _ => return Err(Fallback),
        }
        if self.reader.peek() != Some(b'"') || self.seen == MAX_KEYS {
            return Err(Fallback);
        }
        let key = self.reader.string()?;
        if self.keys[..self.seen].contains(&key) {
            return Err(Fallback);
        }
        self.keys[self.seen] = key;
        self.seen += 1;
        // The general path hands top-level keys over as borrowed strings.
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Fast<S::Value> {
        self.reader.expect(b':')?;
        seed.deserialize(&mut *self.reader)
    }
}

/// The members of a nested object.
pub(super) struct Members<'a, 'de> {
    pub(super) reader: &'a mut Reader<'de>,
    pub(super) first: bool,
}

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Fast<Option<K::Value>> {
        match self.reader.peek() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => {
                self.reader.at += 1;
                if self.reader.peek() != Some(b'"') {
                    return Err(Fallback);
                }
            }
            Some(b'"') if self.first => {}
            _ => return Err(Fallback),
        }
        self.first = false;
        seed.deserialize(Key(&mut *self.reader)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Fast<S::Value> {
        self.reader.expect(b':')?;
        seed.deserialize(&mut *self.reader)
    }
}

pub(super) struct Elements<'a, 'de> {
    pub(super) reader: &'a mut Reader<'de>,
    pub(super) first: bool,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = Fallback;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Fast<Option<S::Value>> {
        match self.reader.peek() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => self.reader.at += 1,
            Some(_) if self.first => {}
            _ => return Err(Fallback),
        }
        self.first = false;
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

/// A nested object's key, as serde_json's `MapKey` reads it (at its opening quote).
struct Key<'a, 'de>(&'a mut Reader<'de>);

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        visitor.visit_borrowed_str(self.0.string()?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Fast<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    // serde_json parses numeric and boolean keys, and reads enum and byte keys its own
    // way: left to it.
    fn deserialize_bool<V: Visitor<'de>>(self, _: V) -> Fast<V::Value> {
        Err(Fallback)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Fast<V::Value> {
        Err(Fallback)
    }

    serde::forward_to_deserialize_any! {
        char str string unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }

    fallback! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_bytes deserialize_byte_buf
    }
}

/// A value, as `serde_json::Deserializer` reads it.
impl<'de> Deserializer<'de> for &mut Reader<'de> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        match self.peek().ok_or(Fallback)? {
            b'n' => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'-' | b'0'..=b'9' => self.visit_number(visitor),
            b'"' => self.visit_str(visitor),
            b'[' => self.visit_array(visitor),
            b'{' => self.visit_object(visitor),
            _ => Err(Fallback),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        match self.peek() {
            Some(b't') => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_number(visitor)
    }

    // serde_json (with `float_roundtrip`) parses these its own way: left to it.
    fallback! { deserialize_f32 deserialize_i128 deserialize_u128 deserialize_bytes deserialize_byte_buf }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_str(visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_str(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_str(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.visit_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        if self.peek() != Some(b'n') {
            return Err(Fallback);
        }
        self.literal(b"null")?;
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Fast<V::Value> {
        self.deserialize_unit(visitor)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Fast<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        match self.peek() {
            Some(b'[') => self.visit_array(visitor),
            _ => Err(Fallback),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Fast<V::Value> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Fast<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        match self.peek() {
            Some(b'{') => self.visit_object(visitor),
            _ => Err(Fallback),
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Fast<V::Value> {
        match self.peek() {
            Some(b'{') => self.visit_object(visitor),
            Some(b'[') => self.visit_array(visitor),
            _ => Err(Fallback),
        }
    }

    /// A plain string is a unit variant, as serde_json reads it; an object (a variant
    /// with data) is left to serde_json.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Fast<V::Value> {
        match self.peek() {
            Some(b'"') => visitor.visit_enum(UnitVariant(self)),
            _ => Err(Fallback),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Fast<V::Value> {
        self.ignore()?;
        visitor.visit_unit()
    }
}

/// A unit variant written as a string (serde_json's `UnitVariantAccess`).
struct UnitVariant<'a, 'de>(&'a mut Reader<'de>);

impl<'de> de::EnumAccess<'de> for UnitVariant<'_, 'de> {
    type Error = Fallback;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Fast<(S::Value, Self)> {
        let variant = seed.deserialize(&mut *self.0)?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'_, 'de> {
    type Error = Fallback;

    fn unit_variant(self) -> Fast<()> {
        Ok(())
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, _: S) -> Fast<S::Value> {
        Err(Fallback)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Fast<V::Value> {
        Err(Fallback)
    }
    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], _: V) -> Fast<V::Value> {
        Err(Fallback)
    }
}
