//! JSON written the way Python's `json.dumps` writes it by default: `", "` and `": "`
//! separators, non-ASCII escaped as `\uXXXX` (`ensure_ascii=True`), floats as `repr`.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// A serde_json formatter with `json.dumps`'s default output.
struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        // repr(float): shortest round trip, like ryu, but an exponent is written `e+NN`
        // / `e-NN` with at least two digits, and integral values below 1e16 keep `.0`.
        let text = match serde_json::Number::from_f64(value) {
            Some(n) => n.to_string(),
            None => {
                return w.write_all(if value.is_nan() {
                    b"NaN"
                } else if value > 0.0 {
                    b"Infinity"
                } else {
                    b"-Infinity"
                })
            }
        };
        match text.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ("-", d),
                    None => ("+", exp),
                };
                let mantissa = mantissa.strip_suffix(".0").unwrap_or(mantissa);
                write!(w, "{mantissa}e{sign}{digits:0>2}")
            }
            None => w.write_all(text.as_bytes()),
        }
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        if fragment.is_ascii() {
            return w.write_all(fragment.as_bytes());
        }
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// `value` as Python's `json.dumps(value)` writes it (default arguments).
///
/// # Errors
/// serde_json's error when `value` does not serialize (for example a map with
/// non-string keys).
///
/// # Example
/// ```
/// use experimance_common::service::to_python_json;
/// let v = serde_json::json!({"type": "Heartbeat", "timestamp": 1.5, "service": "café", "n": [1, 2]});
/// assert_eq!(
///     to_python_json(&v)?,
///     r#"{"type": "Heartbeat", "timestamp": 1.5, "service": "caf\u00e9", "n": [1, 2]}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn to_python_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut ser)?;
    // The formatter writes ASCII only.
    Ok(String::from_utf8_lossy(&out).into_owned())
}
