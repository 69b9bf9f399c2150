//! The `#[derive(Message)]` macro of `experimance-common`.
//!
//! **Use it through the `experimance_common` crate** (`use experimance_common::Message;`),
//! never by depending on this crate directly: the generated code names
//! `::experimance_common::...` paths, and the two crates are released in lockstep.
//!
//! ```ignore
//! use experimance_common::Message;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize, Message)]
//! #[message(type = "IdleStatus", alias = "Idle")]
//! struct IdleStatus {
//!     idle: bool,
//!     #[serde(default)]
//!     since: Option<f64>,
//! }
//! ```
//!
//! The derive implements `experimance_common::Message` (its `TYPE` and `ALIASES`) and
//! registers the type, with a description of its fields, in the process-wide registry
//! (`experimance_common::registry::registered_types()`).
//!
//! # Requirements
//!
//! * The type is a struct with named fields (a message is a JSON object); `struct Name {}`
//!   is fine, enums, unions, tuple structs and unit structs are rejected.
//! * The struct is not generic: the registry needs one concrete type per wire name.
//! * No field may appear on the wire as `"type"` (a field `r#type`, or one renamed to
//!   `"type"`): the tag is written and checked by the library itself.
//! * The struct still derives (or implements) `Serialize`, `Deserialize` and `Debug`;
//!   `Message` requires them.
//!
//! A rejected input gets its errors and, beside them, an `impl Message` all the same (not
//! registered), so that the type's uses do not add an error each.
//!
//! # Attributes
//!
//! All keys go in `#[message(...)]` on the struct; several keys may share one attribute
//! (`#[message(type = "X", alias = "Y")]`) or be split over several attributes.
//!
//! * `type = "WireName"`: the wire name written into the `"type"` member when encoding
//!   and required when decoding. At most once. Defaults to the struct's name.
//! * `alias = "OtherName"`: another wire name accepted when decoding (encoding always
//!   writes `type`). Repeatable; an alias may not repeat another alias or the type name.
//!
//! Wire names (type and aliases) must be non-empty printable ASCII without whitespace,
//! `"` or `\`: the runtime writes them into JSON and topic strings unescaped.
//!
//! # Field descriptions
//!
//! The registered `FieldInfo` of each field is what serde does with it: the serde
//! attributes are read by serde_derive's own parser (`serde_derive_internals`), and
//! `tests/derive_serde_attrs.rs` compares the result with what serde_json really writes
//! and reads.
//!
//! * `name` is the key serde writes: `#[serde(rename = "x")]`, the `serialize` name of
//!   `rename(serialize = "x", deserialize = "y")`, or the struct's `rename_all` rule;
//! * fields serde does not write as a key of their own (`skip`, `skip_serializing`,
//!   `flatten`) are left out (a flattened field's members are not described);
//! * `decode_names` are the keys serde reads the field from (its deserialize name and its
//!   `alias`es, sorted), none for `skip_deserializing`;
//! * `optional` is true when serde accepts the field absent: a field or struct
//!   `#[serde(default)]`, `skip_deserializing`, or an `Option<_>` (last path segment
//!   `Option`) not read through `deserialize_with`/`with`;
//! * `rust_type` is the field's type as written, tidily stringified (`Option<String>`).
//!
//! Errors in serde attributes are left to serde's own derive to report.

// The layout follows thiserror's `impl/`: `ast` reads the input (with `attr` reading the
// attributes), `valid` checks it, `expand` writes the code (or `fallback`'s, beside the
// errors, when the check fails); `tidy` prints field types.
mod ast;
mod attr;
mod expand;
mod fallback;
mod tidy;
mod valid;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `experimance_common::Message` and registers the type in the process-wide
/// registry. Use it through `experimance_common` (`use experimance_common::Message;`).
///
/// Only non-generic structs with named fields (`struct Name {}` included) are accepted,
/// and no field may be named (or renamed to) `type`: the library writes that tag.
///
/// # Attributes (on the struct)
///
/// * `#[message(type = "WireName")]`: the `"type"` written on encode and required on
///   decode; at most once; defaults to the struct's name.
/// * `#[message(alias = "Other")]`: another name accepted on decode; repeatable.
///
/// Keys may share one attribute: `#[message(type = "IdleStatus", alias = "Idle")]`.
/// Names must be non-empty printable ASCII without whitespace, `"` or `\`.
///
/// The registered field descriptions are serde's: the key it writes, the keys it reads,
/// whether it accepts the field absent; fields it does not write (`skip`,
/// `skip_serializing`, `flatten`) are left out.
#[proc_macro_derive(Message, attributes(message))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
