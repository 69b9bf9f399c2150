//! [`Topic`]: the topic of a received message, without an allocation per message; and
//! [`validate_topic`], what a topic must be to be sent.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;

/// A topic that cannot be written on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// A topic is split from the JSON at its first space, so it cannot contain one.
    #[error("topic {topic:?} contains a space (byte {at}); the wire format splits topic and JSON at the first space")]
    ContainsSpace {
        /// The offending topic.
        topic: String,
        /// Byte offset of the first space.
        at: usize,
    },
}

/// Checks that `topic` can be written in a PUB frame: valid UTF-8 (guaranteed by
/// `&str`) and no space. The empty topic is legal.
///
/// # Errors
/// [`TopicError::ContainsSpace`] when it has a space.
///
/// # Example
/// ```
/// use experimance_common::codec::validate_topic;
/// assert!(validate_topic("status-updates").is_ok());
/// assert!(validate_topic("").is_ok());
/// assert!(validate_topic("two words").is_err());
/// ```
pub fn validate_topic(topic: &str) -> Result<(), TopicError> {
    match topic.bytes().position(|b| b == b' ') {
        Some(at) => Err(TopicError::ContainsSpace { topic: topic.to_owned(), at }),
        None => Ok(()),
    }
}

/// The topic of a received PUB frame. Reads as a `&str` (`Deref`), compares with `&str`
/// and `String`, and stores topics of up to 24 bytes inline, so receiving does not
/// allocate for them.
///
/// # Example
/// ```
/// use experimance_common::Topic;
/// let topic = Topic::from("status-updates");
/// assert_eq!(topic, "status-updates");
/// assert!(topic.starts_with("status"));
/// let owned: String = topic.into();
/// assert_eq!(owned, "status-updates");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Topic(CompactString);

impl Topic {
    /// The topic as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The topic as an owned `String`.
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl From<&str> for Topic {
    fn from(s: &str) -> Self {
        Topic(CompactString::new(s))
    }
}

impl From<String> for Topic {
    fn from(s: String) -> Self {
        Topic(CompactString::from(s))
    }
}

impl From<Topic> for String {
    fn from(t: Topic) -> Self {
        t.into_string()
    }
}

impl Deref for Topic {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Topic {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Topic {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Compares a type that has `as_str()` with text: `$t => str, ...` compares `$t` with
/// each type on the right, `$t <=> ...` also the other way round.
macro_rules! eq_str {
    ($t:ident => $($other:ty),* $(,)?) => {$(
        impl PartialEq<$other> for $t {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
    )*};
    ($t:ident <=> $($other:ty),* $(,)?) => {
        eq_str!($t => $($other),*);
        $(impl PartialEq<$t> for $other {
            fn eq(&self, other: &$t) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        })*
    };
}
pub(crate) use eq_str;

eq_str!(Topic <=> str, &str, String);
