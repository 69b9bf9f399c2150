//! `wire_enum!`: one table per string-valued enum (the wire value of each variant) from
//! which `ALL`, `as_str`, `Display`, `FromStr` and serde are generated, so they cannot
//! drift apart.

/// A name that is not one of an enum's wire values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} \"{value}\"")]
pub struct UnknownName {
    kind: &'static str,
    value: String,
}

impl UnknownName {
    pub(crate) fn new(kind: &'static str, value: &str) -> Self {
        UnknownName { kind, value: value.to_owned() }
    }

    /// What was being parsed (`"era"`, `"message type"`, ...).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The text that did not match.
    pub fn value(&self) -> &str {
        &self.value
    }
}

macro_rules! wire_enum {
    // Every wire value is the variant's own name.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) = names [$($variant:ident),* $(,)?]
    ) => {
        $crate::wire_enum::wire_enum! {
            $(#[$meta])*
            $vis enum $name ($kind) { $($variant = stringify!($variant)),* }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* #[doc = concat!("Wire value `\"", $wire, "\"`.")] $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value as written on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),* }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match $name::ALL.iter().find(|v| v.as_str() == s) {
                    Some(v) => Ok(*v),
                    None => Err($crate::UnknownName::new($kind, s)),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str(concat!("a ", $kind, " (", $($wire, " "),* , ")"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::core::result::Result<$name, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use crate::{Biome, Era, MessageType, TransitionStyle};

    /// Every value parses from its wire text and goes through serde as that text, for
    /// the enums with written wire values and for `MessageType`, whose are its names.
    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr,
        T: serde::Serialize + serde::de::DeserializeOwned,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for &v in all {
            let text = v.to_string();
            assert_eq!(text.parse::<T>().unwrap(), v);
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<T>(&format!("\"{text}\"")).unwrap(), v);
        }
    }

    #[test]
    fn every_value_round_trips_through_its_wire_text() {
        round_trips(Era::ALL);
        round_trips(Biome::ALL);
        round_trips(TransitionStyle::ALL);
        round_trips(MessageType::ALL);
        assert_eq!(Era::PreIndustrial.as_str(), "pre_industrial");
        assert_eq!(MessageType::AgentControlEvent.as_str(), "AgentControlEvent");
    }

    #[test]
    fn an_unknown_name_is_a_typed_error_that_lists_the_names() {
        let e = "ai".parse::<Era>().unwrap_err();
        assert_eq!((e.kind(), e.value()), ("era", "ai"));
        let e = serde_json::from_str::<MessageType>("\"Heartbeats\"").unwrap_err().to_string();
        assert!(e.starts_with(r#"unknown message type "Heartbeats""#), "{e}");
        let e = serde_json::from_str::<MessageType>("1").unwrap_err().to_string();
        assert!(e.contains("a message type (EraChanged RenderRequest IdleStatus"), "{e}");
        let e = serde_json::from_str::<Biome>("1").unwrap_err().to_string();
        assert!(e.contains("a biome (desert forest temperate_forest"), "{e}");
    }
}
