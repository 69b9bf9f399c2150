//! The fast path of the typed decode: a serde [`Deserializer`](serde::Deserializer) for the documents this
//! crate and Python's `json.dumps` write (the tag first, strings without escapes,
//! numbers serde_json reads exactly), which gives up ([`Fallback`]) at anything else.
//!
//! It drives the type's own `Deserialize` (derived or hand-written), calling the same
//! visitor methods with the same values that `serde_json::Deserializer` calls for the
//! same text, so a document it accepts decodes to what serde_json would give. Anything
//! it does not handle exactly as serde_json does, and every error (the document's or
//! the type's), is a [`Fallback`]: the caller then decodes the document with serde_json
//! from the start, so every error and its position are serde_json's. What it gives up
//! at: an escape in a string, a control character, an integer past `u64`, a float that
//! is not normal (zero aside), nesting deeper than [`MAX_DEPTH`], a repeated top-level
//! key, more than [`MAX_KEYS`] top-level keys, `f32`/`i128`/`u128`/bytes, enums that
//! are not a plain string, and any syntax error. `fast/tests.rs` compares it
//! with serde_json on random and mutated documents.
//!
//! This file holds the reader (tokens, strings, numbers); `fast/scan.rs` its byte loops,
//! and `fast/access.rs` the serde side (the `Deserializer` and its accesses).
//!
//! The input is the frame's bytes, not yet checked: a document the fast path takes is
//! valid UTF-8 (every byte outside a string is ASCII by the grammar, and a string with a
//! byte past ASCII is checked on its own) and has no escape at all, so no lone surrogate
//! escape; [`json_text`](super::json_text), which makes those checks for the general
//! path, need not run.

use std::fmt;

#[cfg(test)]
mod tests;

use serde::de::{self, Visitor};

/// The fast path gave up: decode the document with serde_json instead.
#[derive(Debug)]
pub(crate) struct Fallback;

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the general decoder")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Fallback
    }
}

type Fast<T> = Result<T, Fallback>;

/// Deserializer methods that give up at once.
macro_rules! fallback {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Fast<V::Value> {
            Err(Fallback)
        })*
    };
}

/// Deeper nesting gives up (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 64;
/// More top-level keys give up (they are checked for repeats in a small array).
const MAX_KEYS: usize = 16;

// After `fallback!`, which `access` uses.
mod access;
mod scan;

use access::{Elements, Members, TopLevel};
use scan::{digit_run, string_end};

/// Decodes into `T` the object `json` whose tag member ends at `after` (the offset past
/// the name's closing quote, from [`leading_tag`](super::tag::leading_tag)): the
/// remaining members as `T`'s fields, the tag hidden. `None`: decode it with serde_json.
pub(crate) fn decode_after_tag<'de, T: de::Deserialize<'de>>(json: &'de [u8], after: usize) -> Option<T> {
    let mut reader = Reader { text: json, at: after, depth: 1 };
    let value = T::deserialize(TopLevel(&mut reader)).ok()?;
    reader.close(b'}').ok()?;
    (reader.skip_ws() == reader.text.len()).then_some(value)
}

/// The parser: `text` read from `at`.
struct Reader<'de> {
    text: &'de [u8],
    at: usize,
    depth: u32,
}

enum Number {
    U64(u64),
    I64(i64),
    F64(f64),
}

impl<'de> Reader<'de> {
    fn bytes(&self) -> &'de [u8] {
        self.text
    }

    /// Skips JSON whitespace; the new offset.
    fn skip_ws(&mut self) -> usize {
        let b = self.bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(self.at) {
            self.at += 1;
        }
        self.at
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let at = self.skip_ws();
        self.bytes().get(at).copied()
    }

    fn expect(&mut self, byte: u8) -> Fast<()> {
        if self.peek() != Some(byte) {
            return Err(Fallback);
        }
        self.at += 1;
        Ok(())
    }

    /// The closing bracket of an object or array, and one level up.
    fn close(&mut self, byte: u8) -> Fast<()> {
        self.expect(byte)?;
        self.depth -= 1;
        Ok(())
    }

    /// One level down, at the opening bracket (already peeked).
    fn open(&mut self) -> Fast<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Fallback);
        }
        self.depth += 1;
        self.at += 1;
        Ok(())
    }

    /// A string without escapes or control characters, at its opening quote (peeked).
    fn string(&mut self) -> Fast<&'de str> {
        let start = self.at + 1;
        let (len, ascii) = string_end(&self.bytes()[start..]);
        let end = start + len;
        if self.bytes().get(end) != Some(&b'"') {
            return Err(Fallback);
        }
        self.at = end + 1;
        let raw = &self.text[start..end];
        if ascii {
            // SAFETY: every byte of `raw` is ASCII (`string_end` checked), so it is UTF-8.
            Ok(unsafe { std::str::from_utf8_unchecked(raw) })
        } else {
            std::str::from_utf8(raw).map_err(|_| Fallback)
        }
    }

    /// `true`, `false` or `null`, at its first letter (peeked).
    fn literal(&mut self, word: &[u8]) -> Fast<()> {
        if !self.bytes()[self.at..].starts_with(word) {
            return Err(Fallback);
        }
        self.at += word.len();
        Ok(())
    }

    /// A number as serde_json classifies it (an integer that fits a `u64`, or a negative
    /// one as its parser turns it into `i64` or `f64`; a fraction or exponent: `f64`),
    /// at its first character (peeked).
    fn number(&mut self) -> Fast<Number> {
        let b = self.bytes();
        let start = self.at;
        let negative = b[start] == b'-';
        let digits = start + usize::from(negative);
        // Every digit, the fraction's included, into one significand (exact up to 19).
        let (mut significand, mut i) = digit_run(b, digits, 0);
        let int_digits = i - digits;
        // One digit at least, and no leading zero.
        if int_digits == 0 || (b[digits] == b'0' && int_digits > 1) {
            return Err(Fallback);
        }
        let mut count = int_digits;
        let mut exponent: i64 = 0;
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            float = true;
            let from = i + 1;
            (significand, i) = digit_run(b, from, significand);
            if i == from {
                return Err(Fallback);
            }
            count += i - from;
            exponent = -((i - from) as i64);
        }
        if let Some(b'e' | b'E') = b.get(i) {
            float = true;
            i += 1;
            let minus = b.get(i) == Some(&b'-');
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let from = i;
            let mut e: i64 = 0;
            while let Some(&c @ b'0'..=b'9') = b.get(i) {
                e = (e * 10 + i64::from(c - b'0')).min(1_000_000);
                i += 1;
            }
            if i == from {
                return Err(Fallback);
            }
            exponent += if minus { -e } else { e };
        }
        self.at = i;
        if !float {
            if count > 19 {
                return Err(Fallback); // past u64 (serde_json reads it as a float)
            }
            if !negative {
                return Ok(Number::U64(significand));
            }
            // serde_json's conversion of a negative integer, exactly (`-0` is `-0.0`).
            let neg = (significand as i64).wrapping_neg();
            return Ok(if neg >= 0 { Number::F64(-(significand as f64)) } else { Number::I64(neg) });
        }
        // Clinger's fast path: an exact significand below 2^53 and a power of ten below
        // 10^23 are both exact doubles, so one IEEE multiply or divide rounds the exact
        // value correctly, which is what serde_json's `float_roundtrip` parser returns.
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
            1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        if count <= 19 && significand < 1 << 53 && exponent.unsigned_abs() < 23 {
            let w = significand as f64;
            let p = POW10[exponent.unsigned_abs() as usize];
            let value = if exponent < 0 { w / p } else { w * p };
            return Ok(Number::F64(if negative { -value } else { value }));
        }
        // Otherwise core's parser, which rounds correctly too; a result that is not
        // normal (zero, subnormal, infinite: serde_json's range error) is left to
        // serde_json unless the significand is zero.
        let text = std::str::from_utf8(&b[start..i]).map_err(|_| Fallback)?;
        let value: f64 = text.parse().map_err(|_| Fallback)?;
        let zero =
            b[digits..i].iter().take_while(|c| !matches!(c, b'e' | b'E')).all(|&c| matches!(c, b'0' | b'.'));
        if value.is_normal() || (zero && value == 0.0) {
            Ok(Number::F64(value))
        } else {
            Err(Fallback)
        }
    }

    /// Skips a value, checking it as serde_json checks an ignored one.
    fn ignore(&mut self) -> Fast<()> {
        match self.peek().ok_or(Fallback)? {
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b'[' => {
                self.open()?;
                if self.peek() != Some(b']') {
                    loop {
                        self.ignore()?;
                        if self.peek() != Some(b',') {
                            break;
                        }
                        self.at += 1;
                    }
                }
                self.close(b']')
            }
            b'{' => {
                self.open()?;
                if self.peek() != Some(b'}') {
                    loop {
                        if self.peek() != Some(b'"') {
                            return Err(Fallback);
                        }
                        self.string()?;
                        self.expect(b':')?;
                        self.ignore()?;
                        if self.peek() != Some(b',') {
                            break;
                        }
                        self.at += 1;
                    }
                }
                self.close(b'}')
            }
            _ => Err(Fallback),
        }
    }

    fn visit_number<V: Visitor<'de>>(&mut self, visitor: V) -> Fast<V::Value> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => match self.number()? {
                Number::U64(n) => visitor.visit_u64(n),
                Number::I64(n) => visitor.visit_i64(n),
                Number::F64(n) => visitor.visit_f64(n),
            },
            _ => Err(Fallback),
        }
    }

    fn visit_str<V: Visitor<'de>>(&mut self, visitor: V) -> Fast<V::Value> {
        match self.peek() {
            Some(b'"') => visitor.visit_borrowed_str(self.string()?),
            _ => Err(Fallback),
        }
    }

    fn visit_object<V: Visitor<'de>>(&mut self, visitor: V) -> Fast<V::Value> {
        self.open()?;
        let value = visitor.visit_map(Members { reader: self, first: true })?;
        self.close(b'}')?;
        Ok(value)
    }

    fn visit_array<V: Visitor<'de>>(&mut self, visitor: V) -> Fast<V::Value> {
        self.open()?;
        let value = visitor.visit_seq(Elements { reader: self, first: true })?;
        self.close(b']')?;
        Ok(value)
    }
}
