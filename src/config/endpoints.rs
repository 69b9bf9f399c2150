//! The endpoint keys of a socket's table: `bind` / `connect` (one endpoint or a list,
//! each checked for its role while it is read) and `port`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::socket::{Endpoint, EndpointError, Role};
use crate::DefaultPort;

/// One endpoint or several, as written: `"tcp://..."` or `["tcp://...", ...]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoints {
    /// A single endpoint, written as a string.
    One(String),
    /// Endpoints written as a list.
    Many(Vec<String>),
}

impl Endpoints {
    /// The endpoints, as written.
    pub fn as_slice(&self) -> &[String] {
        match self {
            Endpoints::One(e) => std::slice::from_ref(e),
            Endpoints::Many(es) => es,
        }
    }
}

impl From<&str> for Endpoints {
    fn from(e: &str) -> Self {
        Endpoints::One(e.to_owned())
    }
}

impl From<String> for Endpoints {
    fn from(e: String) -> Self {
        Endpoints::One(e)
    }
}

impl From<Vec<String>> for Endpoints {
    fn from(es: Vec<String>) -> Self {
        Endpoints::Many(es)
    }
}

impl Serialize for Endpoints {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Endpoints::One(e) => s.serialize_str(e),
            Endpoints::Many(es) => es.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Endpoints {
    /// Accepts a string or a list of strings, without checking them (the socket configs
    /// check them for their role).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        EndpointsSeed(None).deserialize(d)
    }
}

/// Deserializes [`Endpoints`], checking each for `role` when given.
struct EndpointsSeed(Option<Role>);

impl<'de> DeserializeSeed<'de> for EndpointsSeed {
    type Value = Endpoints;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Endpoints, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EndpointsSeed {
    type Value = Endpoints;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an endpoint (\"tcp://host:port\") or a list of endpoints")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Endpoints, E> {
        if let Some(role) = self.0 {
            check_written(v, role).map_err(E::custom)?;
        }
        Ok(Endpoints::One(v.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Endpoints, A::Error> {
        let mut endpoints = Vec::new();
        while let Some(e) = seq.next_element_seed(EndpointSeed(self.0))? {
            endpoints.push(e);
        }
        if endpoints.is_empty() && self.0.is_some() {
            return Err(de::Error::custom("an empty list: give at least one endpoint"));
        }
        Ok(Endpoints::Many(endpoints))
    }
}

/// One endpoint of a list, checked for `role` when given.
struct EndpointSeed(Option<Role>);

impl<'de> DeserializeSeed<'de> for EndpointSeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let e = String::deserialize(d)?;
        if let Some(role) = self.0 {
            check_written(&e, role).map_err(de::Error::custom)?;
        }
        Ok(e)
    }
}

pub(super) fn de_bind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Endpoints>, D::Error> {
    EndpointsSeed(Some(Role::Bind)).deserialize(d).map(Some)
}

pub(super) fn de_connect<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Endpoints>, D::Error> {
    EndpointsSeed(Some(Role::Connect)).deserialize(d).map(Some)
}

pub(super) fn de_topic<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let topic = String::deserialize(d)?;
    crate::codec::validate_topic(&topic).map_err(de::Error::custom)?;
    Ok(Some(topic))
}

pub(super) fn de_exact_topics<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let topics = Vec::<String>::deserialize(d)?;
    for t in &topics {
        crate::codec::validate_topic(t).map_err(de::Error::custom)?;
    }
    Ok(topics)
}

/// Whether `endpoint` is `tcp://host` with no port (the `port` key may give it).
pub(super) fn tcp_without_port(endpoint: &str) -> bool {
    endpoint.strip_prefix("tcp://").is_some_and(|rest| rest.ends_with(']') || !rest.contains(':'))
}

/// Checks an endpoint as written for `role`; a tcp endpoint without a port is checked
/// but for its port, which the `port` key may give.
pub(super) fn check_written(endpoint: &str, role: Role) -> Result<(), EndpointError> {
    if tcp_without_port(endpoint) {
        Endpoint::parse(&format!("{endpoint}:1"), role)
            .map(drop)
            .map_err(|e| EndpointError { endpoint: endpoint.to_owned(), ..e })
    } else {
        Endpoint::parse(endpoint, role).map(drop)
    }
}

/// The `port` key: a number, a default port name (`"coordinator_pub"`), or `"*"` (any
/// free port, to bind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Port {
    /// A port number.
    Number(u16),
    /// A default port of the installation, by name.
    Named(DefaultPort),
    /// `*`: a free port chosen when binding.
    Any,
}

impl Port {
    /// The port number, if it is known before binding.
    pub fn number(self) -> Option<u16> {
        match self {
            Port::Number(n) => Some(n),
            Port::Named(p) => Some(p.port()),
            Port::Any => None,
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Number(n) => write!(f, "{n}"),
            Port::Named(p) => f.write_str(p.as_str()),
            Port::Any => f.write_str("*"),
        }
    }
}

impl From<u16> for Port {
    fn from(n: u16) -> Self {
        Port::Number(n)
    }
}

impl From<DefaultPort> for Port {
    fn from(p: DefaultPort) -> Self {
        Port::Named(p)
    }
}

impl Serialize for Port {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Port::Number(n) => s.serialize_u16(*n),
            Port::Named(p) => s.serialize_str(p.as_str()),
            Port::Any => s.serialize_str("*"),
        }
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PortVisitor;
        impl Visitor<'_> for PortVisitor {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number, a default port name such as \"coordinator_pub\", or \"*\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                u16::try_from(v)
                    .map(Port::Number)
                    .map_err(|_| E::custom(format!("port {v} is not in 0..=65535")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                u16::try_from(v)
                    .map(Port::Number)
                    .map_err(|_| E::custom(format!("port {v} is not in 0..=65535")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Port, E> {
                if v == "*" {
                    Ok(Port::Any)
                } else if let Ok(n) = v.parse::<u16>() {
                    Ok(Port::Number(n))
                } else {
                    v.parse::<DefaultPort>().map(Port::Named).map_err(|_| {
                        let names: Vec<_> = DefaultPort::ALL.iter().map(|p| p.as_str()).collect();
                        E::custom(format!(
                            "unknown port name \"{v}\" (a number, \"*\" to bind a free port, or one of: {})",
                            names.join(", ")
                        ))
                    })
                }
            }
        }
        d.deserialize_any(PortVisitor)
    }
}
