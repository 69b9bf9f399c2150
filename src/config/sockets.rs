//! Sockets described in configuration: the runtime twin of the typestate builders.
//!
//! Each config type is deserialized through a private twin (same fields, derived
//! `Deserialize`) and then checked by `validate`, so every rule the builder enforces at
//! compile time is enforced when the file is loaded. Values that are wrong on their own
//! (a `*` in `connect`, a bad port name, a topic with a space) fail while their key is
//! read, so the error's path ends in that key; rules between keys (both `bind` and
//! `connect`, no topics) fail on the socket's table.

use std::fmt;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::SecurityConfig;
use crate::socket::socket_options_table;
use crate::socket::{
    Bound, Connected, Endpoint, EndpointChosen, EndpointError, NoEndpoint, NoTopics, Publisher, PullSocket,
    PushSocket, Role, SocketBuilder, Subscriber,
};
use crate::{DefaultPort, TopicError};

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

fn de_bind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Endpoints>, D::Error> {
    EndpointsSeed(Some(Role::Bind)).deserialize(d).map(Some)
}

fn de_connect<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Endpoints>, D::Error> {
    EndpointsSeed(Some(Role::Connect)).deserialize(d).map(Some)
}

fn de_topic<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let topic = String::deserialize(d)?;
    crate::codec::validate_topic(&topic).map_err(de::Error::custom)?;
    Ok(Some(topic))
}

fn de_exact_topics<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let topics = Vec::<String>::deserialize(d)?;
    for t in &topics {
        crate::codec::validate_topic(t).map_err(de::Error::custom)?;
    }
    Ok(topics)
}

/// Whether `endpoint` is `tcp://host` with no port (the `port` key may give it).
fn tcp_without_port(endpoint: &str) -> bool {
    endpoint.strip_prefix("tcp://").is_some_and(|rest| rest.ends_with(']') || !rest.contains(':'))
}

/// Checks an endpoint as written for `role`; a tcp endpoint without a port is checked
/// but for its port, which the `port` key may give.
fn check_written(endpoint: &str, role: Role) -> Result<(), EndpointError> {
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

/// A socket description that breaks a rule of the typestate builders. Keys are those
/// of the socket's table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocketRuleError {
    /// `bind` and `connect` are both set.
    #[error("both `bind` and `connect` are set: a socket either binds or connects")]
    BindAndConnect,
    /// Neither `bind` nor `connect` is set.
    #[error(
        "neither `bind` nor `connect` is set: publishers and push sockets usually bind (bind = \"tcp://*:5555\"), \
         subscribers and pull sockets connect (connect = \"tcp://localhost:5555\")"
    )]
    NoEndpoint,
    /// `bind` or `connect` is an empty list.
    #[error("`{key}` is an empty list: give at least one endpoint")]
    EmptyEndpoints {
        /// `bind` or `connect`.
        key: &'static str,
    },
    /// An endpoint is malformed (or has a `*` to connect to).
    #[error("`{key}`: {error}")]
    Endpoint {
        /// The key at fault (`connect`, `connect[1]`, or `port` when the port made it
        /// invalid).
        key: String,
        /// What is wrong with it.
        error: EndpointError,
    },
    /// A tcp endpoint with no port and no `port` key.
    #[error("`{key}` = \"{endpoint}\" has no port: write tcp://host:port, or add a `port` key")]
    MissingPort {
        /// The key (`connect`, `bind[0]`, ...).
        key: String,
        /// The endpoint as written.
        endpoint: String,
    },
    /// A `port` key, and an endpoint that already has a port or is not tcp.
    #[error("`port` is set, but `{key}` = \"{endpoint}\" already has a port or is not a tcp endpoint: give the port once")]
    PortConflict {
        /// The key (`connect`, `bind[0]`, ...).
        key: String,
        /// The endpoint as written.
        endpoint: String,
    },
    /// A subscriber with no topic.
    #[error(
        "a subscriber needs `topics` (prefixes; \"\" receives every topic) or `exact_topics`: \
         without a subscription it receives nothing"
    )]
    NoTopics,
    /// A topic with a space.
    #[error("`{key}`: {error}")]
    Topic {
        /// `topic` or `exact_topics[i]`.
        key: String,
        /// What is wrong with it.
        error: TopicError,
    },
}

/// A configured socket that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The description breaks a rule (only for a config made in code: a loaded one has
    /// been checked).
    #[error("invalid socket configuration: {0}")]
    Rule(#[from] SocketRuleError),
    /// Creating, binding or connecting the socket failed.
    #[error(transparent)]
    Socket(#[from] crate::socket::Error),
    /// The `security` table breaks a rule, a key file cannot be used (the error names
    /// it), or the ZAP handler cannot start.
    #[error("`security`: {0}")]
    Security(#[from] super::SecurityError),
}

/// The validated endpoints of `bind` / `connect` / `port`.
fn resolve(
    bind: &Option<Endpoints>,
    connect: &Option<Endpoints>,
    port: Option<Port>,
) -> Result<Vec<Endpoint>, SocketRuleError> {
    let (key, role, endpoints) = match (bind, connect) {
        (Some(_), Some(_)) => return Err(SocketRuleError::BindAndConnect),
        (None, None) => return Err(SocketRuleError::NoEndpoint),
        (Some(b), None) => ("bind", Role::Bind, b),
        (None, Some(c)) => ("connect", Role::Connect, c),
    };
    if endpoints.as_slice().is_empty() {
        return Err(SocketRuleError::EmptyEndpoints { key });
    }
    let many = matches!(endpoints, Endpoints::Many(_));
    endpoints
        .as_slice()
        .iter()
        .enumerate()
        .map(|(i, written)| {
            let key = if many { format!("{key}[{i}]") } else { key.to_owned() };
            check_written(written, role)
                .map_err(|error| SocketRuleError::Endpoint { key: key.clone(), error })?;
            let full = match port {
                Some(p) if tcp_without_port(written) => format!("{written}:{p}"),
                Some(_) => return Err(SocketRuleError::PortConflict { key, endpoint: written.clone() }),
                None if tcp_without_port(written) => {
                    return Err(SocketRuleError::MissingPort { key, endpoint: written.clone() })
                }
                None => written.clone(),
            };
            Endpoint::parse(&full, role)
                .map_err(|error| SocketRuleError::Endpoint { key: "port".to_owned(), error })
        })
        .collect()
}

/// Binds every endpoint (at least one).
fn bind_all<K, T>(
    b: SocketBuilder<K, NoEndpoint, T>,
    endpoints: &[Endpoint],
) -> Result<SocketBuilder<K, Bound, T>, BuildError> {
    let (first, rest) = endpoints.split_first().ok_or(SocketRuleError::EmptyEndpoints { key: "bind" })?;
    let mut b = b.bind(first.as_str()).map_err(crate::socket::Error::from)?;
    for e in rest {
        b = b.bind(e.as_str()).map_err(crate::socket::Error::from)?;
    }
    Ok(b)
}

/// Connects to every endpoint (at least one).
fn connect_all<K, T>(
    b: SocketBuilder<K, NoEndpoint, T>,
    endpoints: &[Endpoint],
) -> Result<SocketBuilder<K, Connected, T>, BuildError> {
    let (first, rest) = endpoints.split_first().ok_or(SocketRuleError::EmptyEndpoints { key: "connect" })?;
    let mut b = b.connect(first.as_str()).map_err(crate::socket::Error::from)?;
    for e in rest {
        b = b.connect(e.as_str()).map_err(crate::socket::Error::from)?;
    }
    Ok(b)
}

/// A `_ms` key: whole milliseconds.
fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// A `_ms` key where 0 turns the option off.
fn ms_or_off(v: u64) -> Option<Duration> {
    (v > 0).then(|| ms(v))
}

/// A key whose value is the setter's argument.
fn same<T>(v: T) -> T {
    v
}

/// Defines a socket config: the public struct (with the endpoint keys, the given
/// fields, and a key per row of the options table), its private `Deserialize` twin, and
/// the shared methods. Expanded through `socket_options_table!`, which appends the
/// table's rows; a config that `builds Publisher` takes the publisher rows too.
macro_rules! socket_config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($raw:ident) builds Publisher { $($fields:tt)* }
        common [$($common:tt)*] publisher [$($publisher:tt)*]
    ) => {
        socket_config! { @emit $(#[$meta])* pub struct $name ($raw) builds Publisher { $($fields)* }
            [$($common)* $($publisher)*] }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($raw:ident) builds $kind:ident { $($fields:tt)* }
        common [$($common:tt)*] publisher [$($publisher:tt)*]
    ) => {
        socket_config! { @emit $(#[$meta])* pub struct $name ($raw) builds $kind { $($fields)* } [$($common)*] }
    };
    (
        @emit
        $(#[$meta:meta])*
        pub struct $name:ident ($raw:ident) builds $kind:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )*
        }
        [$({
            field: [$(#[$ometa:meta])* $ofield:ident : $oty:ty = $odefault:expr]
            setter: [$setter:ident ($arg:ident : $argty:ty) => $store:expr]
            config: [$key:ident : $cty:ty => $conv:ident, $ctext:literal]
            zmq: [$($zmq:tt)*]
            doc: $doc:literal
        })*]
    ) => {
        $(#[$meta])*
        ///
        /// The option keys are those of the table in
        /// [`SocketOptions`](crate::socket::SocketOptions); each defaults to the builder's.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        pub struct $name {
            /// `bind`: endpoints to bind (`tcp://*:5555`, `tcp://127.0.0.1:*` for a free
            /// port, `ipc://path`, `inproc://name`).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub bind: Option<Endpoints>,
            /// `connect`: endpoints to connect to (`tcp://localhost:coordinator_pub`); no `*`.
            /// Exactly one of `bind` and `connect` is set.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub connect: Option<Endpoints>,
            /// `port`: the port of every tcp endpoint written without one.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub port: Option<Port>,
            $( $(#[$fmeta])* pub $field: $ty, )*
            $(
                #[doc = concat!("`", stringify!($key), "` (", $ctext, "): ", $doc)]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $key: Option<$cty>,
            )*
            /// `[sockets.NAME.security]`: the mechanism, its key files and the allowlist
            /// (see [`SecurityConfig`]). Default: none, as the Python services.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub security: Option<SecurityConfig>,
        }

        /// The fields of the public struct, deserialized before the rules are checked.
        #[derive(Deserialize)]
        struct $raw {
            #[serde(default, deserialize_with = "de_bind")]
            bind: Option<Endpoints>,
            #[serde(default, deserialize_with = "de_connect")]
            connect: Option<Endpoints>,
            port: Option<Port>,
            $( $(#[$fmeta])* $field: $ty, )*
            $( $key: Option<$cty>, )*
            security: Option<SecurityConfig>,
        }

        impl<'de> Deserialize<'de> for $name {
            /// Deserializes and checks every rule of the builder.
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = $raw::deserialize(d)?;
                let config = $name {
                    bind: raw.bind,
                    connect: raw.connect,
                    port: raw.port,
                    $( $field: raw.$field, )*
                    $( $key: raw.$key, )*
                    security: raw.security,
                };
                config.validate().map_err(de::Error::custom)?;
                Ok(config)
            }
        }

        impl $name {
            /// The endpoints it binds or connects to, checked, with default port names
            /// and the `port` key resolved.
            ///
            /// # Errors
            /// A [`SocketRuleError`] naming the key at fault.
            pub fn endpoints(&self) -> Result<Vec<Endpoint>, SocketRuleError> {
                resolve(&self.bind, &self.connect, self.port)
            }

            /// Applies the options that are set; the others keep the builder's defaults.
            fn apply_options<E, T>(&self, mut b: SocketBuilder<$kind, E, T>) -> SocketBuilder<$kind, E, T> {
                $(
                    if let Some(v) = self.$key {
                        b = b.$setter($conv(v));
                    }
                )*
                b
            }

            /// Builds the socket by driving its typestate builder: binds or connects
            /// every endpoint and applies every option that is set.
            ///
            /// # Errors
            /// [`BuildError::Rule`] when the description breaks a rule (a config made
            /// in code; a loaded one was checked when loaded); [`BuildError::Socket`]
            /// when binding (for example, the address is in use), connecting or
            /// setting an option fails.
            pub fn build(&self) -> Result<$kind, BuildError> {
                self.validate()?;
                let endpoints = self.endpoints()?;
                let b = self.apply_options($kind::builder());
                let b = match &self.security {
                    Some(security) => security.apply(b)?,
                    None => b,
                };
                if self.bind.is_some() {
                    self.finish(bind_all(b, &endpoints)?)
                } else {
                    self.finish(connect_all(b, &endpoints)?)
                }
            }
        }
    };
}

socket_options_table!(socket_config! {
    /// A publisher in configuration (`[sockets.heartbeat]`): `bind` or `connect`, a
    /// default `topic`, and the options (`lossless` among them).
    ///
    /// ```
    /// use experimance_common::config::{self, PublisherConfig};
    /// let cfg: PublisherConfig = config::from_str(
    ///     "bind = \"tcp://127.0.0.1:*\"\ntopic = \"status\"\nlinger_ms = 200",
    ///     "status.toml",
    /// )?;
    /// let publisher = cfg.build()?;
    /// assert_eq!(publisher.topic(), "status");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct PublisherConfig (PublisherRaw) builds Publisher {
        /// `topic`: the topic `publish` uses (no space). Default: the empty topic.
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_topic")]
        topic: Option<String>,
    }
});

socket_options_table!(socket_config! {
    /// A subscriber in configuration (`[sockets.events]`): `bind` or `connect`,
    /// `topics` and/or `exact_topics` (at least one topic), and the common options.
    pub struct SubscriberConfig (SubscriberRaw) builds Subscriber {
        /// `topics`: prefix subscriptions (`status` also receives `status-updates`;
        /// `""` receives every topic).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        topics: Vec<String>,
        /// `exact_topics`: exact subscriptions (no space).
        #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "de_exact_topics")]
        exact_topics: Vec<String>,
    }
});

socket_options_table!(socket_config! {
    /// A push socket in configuration (`[sockets.results]`): `bind` or `connect` and the
    /// common options.
    pub struct PushConfig (PushRaw) builds PushSocket {}
});

socket_options_table!(socket_config! {
    /// A pull socket in configuration (`[sockets.requests]`): `bind` or `connect` and the
    /// common options.
    pub struct PullConfig (PullRaw) builds PullSocket {}
});

impl PublisherConfig {
    /// Checks every rule of the builder.
    ///
    /// # Errors
    /// A [`SocketRuleError`] naming the key at fault.
    pub fn validate(&self) -> Result<(), SocketRuleError> {
        self.endpoints()?;
        if let Some(topic) = &self.topic {
            crate::codec::validate_topic(topic)
                .map_err(|error| SocketRuleError::Topic { key: "topic".to_owned(), error })?;
        }
        Ok(())
    }

    fn finish<E: EndpointChosen>(
        &self,
        b: SocketBuilder<Publisher, E, NoTopics>,
    ) -> Result<Publisher, BuildError> {
        let mut b = b;
        if let Some(topic) = &self.topic {
            b = b.topic(topic).map_err(|error| SocketRuleError::Topic { key: "topic".to_owned(), error })?;
        }
        Ok(b.build()?)
    }
}

impl SubscriberConfig {
    /// Checks every rule of the builder, including that there is a topic.
    ///
    /// # Errors
    /// A [`SocketRuleError`] naming the key at fault.
    pub fn validate(&self) -> Result<(), SocketRuleError> {
        self.endpoints()?;
        for (i, topic) in self.exact_topics.iter().enumerate() {
            crate::codec::validate_topic(topic)
                .map_err(|error| SocketRuleError::Topic { key: format!("exact_topics[{i}]"), error })?;
        }
        if self.topics.is_empty() && self.exact_topics.is_empty() {
            return Err(SocketRuleError::NoTopics);
        }
        Ok(())
    }

    fn finish<E: EndpointChosen>(
        &self,
        b: SocketBuilder<Subscriber, E, NoTopics>,
    ) -> Result<Subscriber, BuildError> {
        let exact_error =
            |i: usize| move |error| SocketRuleError::Topic { key: format!("exact_topics[{i}]"), error };
        // The first topic moves the builder to the state where `build()` exists.
        let (mut b, exact_done) = match (self.topics.first(), self.exact_topics.first()) {
            (Some(prefix), _) => (b.subscribe(prefix), 0),
            (None, Some(topic)) => (b.subscribe_exact(topic).map_err(exact_error(0))?, 1),
            (None, None) => return Err(SocketRuleError::NoTopics.into()),
        };
        for prefix in self.topics.iter().skip(1) {
            b = b.subscribe(prefix);
        }
        for (i, topic) in self.exact_topics.iter().enumerate().skip(exact_done) {
            b = b.subscribe_exact(topic).map_err(exact_error(i))?;
        }
        Ok(b.build()?)
    }
}

impl PushConfig {
    /// Checks every rule of the builder.
    ///
    /// # Errors
    /// A [`SocketRuleError`] naming the key at fault.
    pub fn validate(&self) -> Result<(), SocketRuleError> {
        self.endpoints().map(drop)
    }

    fn finish<E: EndpointChosen>(
        &self,
        b: SocketBuilder<PushSocket, E, NoTopics>,
    ) -> Result<PushSocket, BuildError> {
        Ok(b.build()?)
    }
}

impl PullConfig {
    /// Checks every rule of the builder.
    ///
    /// # Errors
    /// A [`SocketRuleError`] naming the key at fault.
    pub fn validate(&self) -> Result<(), SocketRuleError> {
        self.endpoints().map(drop)
    }

    fn finish<E: EndpointChosen>(
        &self,
        b: SocketBuilder<PullSocket, E, NoTopics>,
    ) -> Result<PullSocket, BuildError> {
        Ok(b.build()?)
    }
}
