//! The process-wide registry of message types: every type `#[derive(Message)]` registers
//! (the built-in ones included), found by wire name for [`AnyMessage`](crate::AnyMessage),
//! the service dispatch and the `exbus` tool.
//!
//! ```
//! use experimance_common::registry;
//! let info = registry::lookup_type("Idle").unwrap(); // an alias
//! assert_eq!(info.type_name(), "IdleStatus");
//! registry::check_registry().expect("wire names are unique");
//! ```

use std::fmt;

use crate::error::{DecodeError, DecodeErrorKind, Framing};
use crate::message::{accepts, DynMessage, Message};

/// One field of a registered message type, as the derive saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field's name on the wire.
    pub name: &'static str,
    /// The field's Rust type, as written in the struct.
    pub rust_type: &'static str,
    /// Whether the field may be absent or null (`Option<_>` or `#[serde(default)]`).
    pub optional: bool,
    /// The keys decoding reads the field from, sorted: its deserialize name (`name` unless
    /// a `rename(deserialize = "...")` or a deserialize `rename_all` rule differs) and its
    /// `#[serde(alias = "...")]`es; empty for a `skip_deserializing` field.
    pub decode_names: &'static [&'static str],
}

/// Decodes a JSON document (checked UTF-8) into a boxed message of one registered type.
type DecodeFn = fn(&str) -> Result<Box<dyn DynMessage>, DecodeErrorKind>;

/// A registered message type: what the registry knows of it.
#[derive(Clone, Copy)]
pub struct MessageInfo {
    type_name: &'static str,
    aliases: &'static [&'static str],
    rust_name: &'static str,
    fields: &'static [FieldInfo],
    decode: DecodeFn,
}

impl MessageInfo {
    /// Used by `#[derive(Message)]`; not public API.
    #[doc(hidden)]
    pub const fn __new<M: Message>(rust_name: &'static str, fields: &'static [FieldInfo]) -> Self {
        MessageInfo { type_name: M::TYPE, aliases: M::ALIASES, rust_name, fields, decode: decode_dyn::<M> }
    }

    /// The wire name (`"type"` value) of this message type.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Other wire names accepted on decode.
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// The Rust path of the type (`module::path::Name`).
    pub fn rust_name(&self) -> &'static str {
        self.rust_name
    }

    /// The fields of the struct, in declaration order (the `type` tag excluded).
    pub fn fields(&self) -> &'static [FieldInfo] {
        self.fields
    }

    /// A JSON Schema (draft 2020-12) of the whole document, `type` tag included, for a
    /// type whose serde is hand-written so that [`fields`](Self::fields) does not
    /// describe its wire form: the built-in `AgentControlEvent` (its payload's shape
    /// depends on its `sub_type`) and `Heartbeat` (any extra field). `None` for every
    /// other type, whose document its fields describe.
    ///
    /// # Example
    /// ```
    /// use experimance_common::registry::lookup_type;
    /// let schema = lookup_type("AgentControlEvent").unwrap().wire_schema().unwrap();
    /// assert_eq!(schema["required"], serde_json::json!(["type", "sub_type"]));
    /// assert!(lookup_type("EraChanged").unwrap().wire_schema().is_none());
    /// ```
    pub fn wire_schema(&self) -> Option<serde_json::Value> {
        let mut schema = crate::schemas::hand_written_schema(self.rust_name)?;
        let names: Vec<&str> = std::iter::once(self.type_name).chain(self.aliases.iter().copied()).collect();
        schema["properties"]["type"] = serde_json::json!({ "enum": names });
        if let Some(required) = schema["required"].as_array_mut() {
            required.insert(0, "type".into());
        }
        Some(schema)
    }

    /// Whether `name` is this type's wire name or one of its aliases: the rule every
    /// typed decode of the type applies to a document's `"type"`.
    pub fn accepts(&self, name: &str) -> bool {
        accepts(self.type_name, self.aliases, name)
    }

    /// Decodes a JSON document into this type, checking its tag.
    ///
    /// # Errors
    /// [`DecodeError`] when the document is not valid JSON for the type or its `type`
    /// field is missing or names another type.
    pub fn decode(&self, json: &[u8]) -> Result<Box<dyn DynMessage>, DecodeError> {
        crate::codec::json_text(json, 0)
            .and_then(|text| self.decode_text(text))
            .map_err(|e| DecodeError::new(e, json, Framing::Push))
    }

    /// [`decode`](Self::decode) of a document already checked to be text, without a
    /// copy of the frame on failure.
    pub(crate) fn decode_text(&self, json: &str) -> Result<Box<dyn DynMessage>, DecodeErrorKind> {
        (self.decode)(json)
    }
}

impl fmt::Debug for MessageInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageInfo")
            .field("type_name", &self.type_name)
            .field("aliases", &self.aliases)
            .field("rust_name", &self.rust_name)
            .field("fields", &self.fields)
            .finish()
    }
}

fn decode_dyn<M: Message>(json: &str) -> Result<Box<dyn DynMessage>, DecodeErrorKind> {
    crate::codec::tag::decode_tagged::<M>(json).map(|m| Box::new(m) as Box<dyn DynMessage>)
}

inventory::collect!(MessageInfo);

/// Every message type registered in this process (built-in and user-defined), sorted by
/// wire name.
///
/// # Example
/// ```
/// let names: Vec<_> =
///     experimance_common::registry::registered_types().iter().map(|t| t.type_name()).collect();
/// assert!(names.contains(&"EraChanged"));
/// ```
pub fn registered_types() -> Vec<&'static MessageInfo> {
    let mut all: Vec<_> = inventory::iter::<MessageInfo>.into_iter().collect();
    all.sort_by(|a, b| a.type_name.cmp(b.type_name).then(a.rust_name.cmp(b.rust_name)));
    all
}

/// Looks a registered message type up by its wire name or one of its aliases.
///
/// # Example
/// ```
/// let info = experimance_common::registry::lookup_type("Idle").unwrap();
/// assert_eq!(info.type_name(), "IdleStatus");
/// ```
pub fn lookup_type(name: &str) -> Option<&'static MessageInfo> {
    inventory::iter::<MessageInfo>.into_iter().find(|info| info.accepts(name))
}

/// Two registered types claim the same wire name (or alias).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the wire name `{name}` is registered by both `{first}` and `{second}`")]
pub struct DuplicateTypeError {
    /// The contested wire name.
    pub name: &'static str,
    /// One Rust type claiming it.
    pub first: &'static str,
    /// The other.
    pub second: &'static str,
}

/// Checks that no two registered types share a wire name or alias. Call it once in a
/// test of any crate that defines its own message types.
///
/// # Errors
/// Every clash found, each as a [`DuplicateTypeError`].
///
/// # Example
/// ```
/// experimance_common::registry::check_registry().expect("wire names are unique");
/// ```
pub fn check_registry() -> Result<(), Vec<DuplicateTypeError>> {
    let mut seen: Vec<(&'static str, &'static str)> = Vec::new();
    let mut clashes = Vec::new();
    for info in registered_types() {
        for name in std::iter::once(info.type_name).chain(info.aliases.iter().copied()) {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                clashes.push(DuplicateTypeError { name, first, second: info.rust_name });
            } else {
                seen.push((name, info.rust_name));
            }
        }
    }
    if clashes.is_empty() {
        Ok(())
    } else {
        Err(clashes)
    }
}
