//! Z85 (ZeroMQ RFC 32), the text form of CURVE keys: 4 bytes as 5 printable
//! characters, so a 32-byte key is 40 characters.

/// The Z85 alphabet, by digit value.
const Z85: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
/// A key is 32 bytes, 40 characters of Z85.
pub(super) const KEY_BYTES: usize = 32;
pub(super) const KEY_CHARS: usize = 40;

/// Why a Z85 key does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Z85Error {
    /// A CURVE key is 40 characters of Z85.
    #[error("a Z85 CURVE key is 40 characters, this one has {found}")]
    WrongLength {
        /// How many characters it had.
        found: usize,
    },
    /// A character outside the Z85 alphabet.
    #[error("character {at} ({found:?}) is not in the Z85 alphabet")]
    InvalidCharacter {
        /// Its position (in characters).
        at: usize,
        /// The character.
        found: char,
    },
    /// A group of 5 characters whose value does not fit in 4 bytes.
    #[error("characters {at}..{} encode a value above 2^32", at + 5)]
    Overflow {
        /// Where the group starts.
        at: usize,
    },
}

pub(super) fn z85_encode(bytes: &[u8; KEY_BYTES]) -> String {
    let mut out = String::with_capacity(KEY_CHARS);
    for chunk in bytes.chunks_exact(4) {
        let mut value = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let mut group = [0u8; 5];
        for slot in group.iter_mut().rev() {
            *slot = Z85[(value % 85) as usize];
            value /= 85;
        }
        out.extend(group.iter().map(|&b| char::from(b)));
    }
    out
}

pub(super) fn z85_decode(text: &str) -> Result<[u8; KEY_BYTES], Z85Error> {
    let found = text.chars().count();
    if found != KEY_CHARS {
        return Err(Z85Error::WrongLength { found });
    }
    let mut digits = [0u8; KEY_CHARS];
    for ((at, found), digit) in text.chars().enumerate().zip(&mut digits) {
        let position = u8::try_from(found).ok().and_then(|c| Z85.iter().position(|&z| z == c));
        *digit = position.ok_or(Z85Error::InvalidCharacter { at, found })? as u8;
    }
    let mut out = [0u8; KEY_BYTES];
    for (g, group) in digits.chunks_exact(5).enumerate() {
        let value = group.iter().fold(0u64, |v, &d| v * 85 + u64::from(d));
        let value = u32::try_from(value).map_err(|_| Z85Error::Overflow { at: g * 5 })?;
        out[g * 4..g * 4 + 4].copy_from_slice(&value.to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z85_matches_the_rfc_test_vector() {
        // ZeroMQ RFC 32: 0x86 0x4F 0xD2 0x6F 0xB5 0x59 0xF7 0x5B encodes as "HelloWorld".
        let mut bytes = [0u8; KEY_BYTES];
        bytes[..8].copy_from_slice(&[0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]);
        let text = z85_encode(&bytes);
        assert!(text.starts_with("HelloWorld"), "{text}");
        assert_eq!(z85_decode(&text).unwrap(), bytes);
    }

    #[test]
    fn z85_errors_are_typed() {
        assert_eq!(z85_decode("abc"), Err(Z85Error::WrongLength { found: 3 }));
        let mut text = "0".repeat(KEY_CHARS);
        text.replace_range(7..8, "~");
        assert_eq!(z85_decode(&text), Err(Z85Error::InvalidCharacter { at: 7, found: '~' }));
        let text = format!("#####{}", "0".repeat(35));
        assert_eq!(z85_decode(&text), Err(Z85Error::Overflow { at: 0 }));
        // A multi-byte character counts as one character, and is not Z85.
        let text = format!("0é{}", "0".repeat(38));
        assert_eq!(z85_decode(&text), Err(Z85Error::InvalidCharacter { at: 1, found: 'é' }));
    }
}
