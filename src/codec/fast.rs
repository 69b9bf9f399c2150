//! The fast path of the typed decode: a serde [`Deserializer`] for the documents this
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
//! are not a plain string, and any syntax error. `tests/fast_decode.rs` compares it
//! with serde_json on random and mutated documents.
//!
//! The input is the frame's bytes, not yet checked: a document the fast path takes is
//! valid UTF-8 (every byte outside a string is ASCII by the grammar, and a string with a
//! byte past ASCII is checked on its own) and has no escape at all, so no lone surrogate
//! escape; [`json_text`](super::json_text), which makes those checks for the general
//! path, need not run.

use std::fmt;

#[cfg(test)]
mod tests;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

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

/// The digits of `b` from `at`, appended to `significand` (wrapping past 19 digits: the
/// caller counts them), and the offset after them. Eight at a time where it can
/// (fast_float's SWAR check and conversion).
fn digit_run(b: &[u8], mut at: usize, mut significand: u64) -> (u64, usize) {
    while let Some(chunk) = b.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        if (v.wrapping_add(0x4646_4646_4646_4646) | v.wrapping_sub(0x3030_3030_3030_3030))
            & 0x8080_8080_8080_8080
            != 0
        {
            break;
        }
        let mut v = v.wrapping_sub(0x3030_3030_3030_3030);
        v = v.wrapping_mul(10).wrapping_add(v >> 8);
        const MASK: u64 = 0x0000_00ff_0000_00ff;
        v = ((v & MASK).wrapping_mul(0x000f_4240_0000_0064))
            .wrapping_add(((v >> 16) & MASK).wrapping_mul(0x0000_2710_0000_0001))
            >> 32;
        significand = significand.wrapping_mul(100_000_000).wrapping_add(v & 0xffff_ffff);
        at += 8;
    }
    while let Some(&c @ b'0'..=b'9') = b.get(at) {
        significand = significand.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        at += 1;
    }
    (significand, at)
}

/// The offset of the first `"`, `\` or control character in `b` (`b.len()` if none),
/// and whether every byte before it is ASCII.
fn string_end(b: &[u8]) -> (usize, bool) {
    let mut i = 0;
    let mut high = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8, _mm_setzero_si128,
        };
        // SAFETY: SSE2 is part of x86_64; every load reads 16 bytes inside `b`.
        unsafe {
            let (quote, backslash, control) =
                (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x1f));
            // The 16 bytes at `p`, and those that end a string among them (`"`, `\`, and
            // <= 0x1f: those whose unsigned max with 0x1f is 0x1f).
            let stops = |p: *const u8| {
                let chunk = _mm_loadu_si128(p.cast::<__m128i>());
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                    _mm_cmpeq_epi8(_mm_max_epu8(chunk, control), control),
                );
                (chunk, hits)
            };
            // 16 bytes, and where a string ends among them (the high bits: bytes past
            // ASCII).
            let sixteen = |i: usize, high: &mut i32| {
                let (chunk, hits) = stops(b.as_ptr().add(i));
                let (mask, chunk_high) = (_mm_movemask_epi8(hits), _mm_movemask_epi8(chunk));
                if mask == 0 {
                    *high |= chunk_high;
                    return None;
                }
                let at = mask.trailing_zeros();
                *high |= chunk_high & ((1 << at) - 1);
                Some(i + at as usize)
            };
            // The first 16, where most strings end.
            if i + 16 <= b.len() {
                if let Some(end) = sixteen(i, &mut high) {
                    return (end, high == 0);
                }
                i += 16;
            }
            // Then 64 a round while nothing ends the string (a long base64 string), the
            // high bits gathered and looked at once.
            let mut past_ascii = _mm_setzero_si128();
            while i + 64 <= b.len() {
                let p = b.as_ptr().add(i);
                let (c0, h0) = stops(p);
                let (c1, h1) = stops(p.add(16));
                let (c2, h2) = stops(p.add(32));
                let (c3, h3) = stops(p.add(48));
                if _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(h0, h1), _mm_or_si128(h2, h3))) != 0 {
                    break;
                }
                past_ascii =
                    _mm_or_si128(past_ascii, _mm_or_si128(_mm_or_si128(c0, c1), _mm_or_si128(c2, c3)));
                i += 64;
            }
            high |= _mm_movemask_epi8(past_ascii);
            while i + 16 <= b.len() {
                if let Some(end) = sixteen(i, &mut high) {
                    return (end, high == 0);
                }
                i += 16;
            }
        }
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        high |= i32::from(c >= 0x80);
        i += 1;
    }
    (i, high == 0)
}

/// The document's own object: its members after the tag, the tag itself hidden, every
/// key checked for repeats (the tag's included).
struct TopLevel<'a, 'de>(&'a mut Reader<'de>);

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
struct Members<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
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

struct Elements<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
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
