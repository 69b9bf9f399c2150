//! Finding a non-finite float in a message before it goes on the wire.
//!
//! serde_json writes NaN and the infinities as `null` without an error, so the message
//! would arrive changed. [`find_non_finite`] walks a value with a serializer that writes
//! nothing and stops at the first non-finite `f32`/`f64`, and `serde_path_to_error`
//! names where it stands (`timestamp`, `payload.x`, `samples[3]`). The encoder runs it
//! only when what serde_json wrote contains `null`, the only way such a float shows.

use std::fmt;

use serde::ser::{self, Serialize};

/// Where the first non-finite float of `value` stands, and the float; `None` when every
/// float is finite.
pub(crate) fn find_non_finite<T: Serialize + ?Sized>(value: &T) -> Option<(String, f64)> {
    match serde_path_to_error::serialize(value, Check) {
        Ok(()) => None,
        Err(e) => {
            let path = e.path().to_string();
            match e.into_inner() {
                Found::NonFinite(v) => Some((path, v)),
                // serde_json serialized this value already, so its Serialize impl
                // does not fail; if it did here, there is no float to report.
                Found::Custom => None,
            }
        }
    }
}

#[derive(Debug)]
enum Found {
    NonFinite(f64),
    Custom,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::NonFinite(v) => write!(f, "non-finite float {v}"),
            Found::Custom => f.write_str("the value refused to serialize"),
        }
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Found::Custom
    }
}

/// A serializer that writes nothing and fails on the first non-finite float.
#[derive(Clone, Copy)]
struct Check;

fn float(v: f64) -> Result<(), Found> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Found::NonFinite(v))
    }
}

macro_rules! accept {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), Found> { Ok(()) })*
    };
}

/// Starts a compound value (sequence, map, struct, ...) whose parts `Check` checks.
macro_rules! begin {
    ($($method:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $ty),*) -> Result<Check, Found> { Ok(self) })*
    };
}

impl ser::Serializer for Check {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Check;
    type SerializeTuple = Check;
    type SerializeTupleStruct = Check;
    type SerializeTupleVariant = Check;
    type SerializeMap = Check;
    type SerializeStruct = Check;
    type SerializeStructVariant = Check;

    accept!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_f32(self, v: f32) -> Result<(), Found> {
        float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Found> {
        float(v)
    }
    fn serialize_none(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }
    // A compound value: its parts are checked by the `Serialize*` impls below.
    begin!(
        serialize_seq(Option<usize>),
        serialize_tuple(usize),
        serialize_tuple_struct(&'static str, usize),
        serialize_tuple_variant(&'static str, u32, &'static str, usize),
        serialize_map(Option<usize>),
        serialize_struct(&'static str, usize),
        serialize_struct_variant(&'static str, u32, &'static str, usize),
    );
}

macro_rules! compound {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(impl ser::$trait for Check {
            type Ok = ();
            type Error = Found;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
                value.serialize(Check)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        })*
    };
}

compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Check {
    type Ok = ();
    type Error = Found;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Found> {
        key.serialize(Check)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        value.serialize(Check)
    }
    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(impl ser::$trait for Check {
            type Ok = ();
            type Error = Found;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &T) -> Result<(), Found> {
                value.serialize(Check)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        })*
    };
}

fields!(SerializeStruct, SerializeStructVariant);
