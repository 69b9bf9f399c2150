//! Sockets described in configuration: the runtime twin of the typestate builders.
//! (Over 400 lines: the one macro that defines all four socket configs, and the rules
//! each checks, are kept together; the endpoint keys are in `endpoints.rs`, the
//! security table in `security.rs`.)
//!
//! Each config type is deserialized through a private twin (same fields, derived
//! `Deserialize`) and then checked by `validate`, so every rule the builder enforces at
//! compile time is enforced when the file is loaded. Values that are wrong on their own
//! (a `*` in `connect`, a bad port name, a topic with a space) fail while their key is
//! read, so the error's path ends in that key; rules between keys (both `bind` and
//! `connect`, no topics) fail on the socket's table.

use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use super::endpoints::{check_written, de_bind, de_connect, de_exact_topics, de_topic, tcp_without_port};
use super::{Endpoints, Port, SecurityConfig};
use crate::socket::socket_options_table;
use crate::socket::state::{Bound, Connected, EndpointChosen, NoEndpoint, NoTopics};
use crate::socket::{
    Endpoint, EndpointError, Publisher, PullSocket, PushSocket, Role, SocketBuilder, Subscriber,
};
use crate::TopicError;

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

/// `bind_all` binds every endpoint, `connect_all` connects to every endpoint (at least
/// one: the first moves the builder to its bound or connected state).
macro_rules! every_endpoint {
    ($($fn:ident: $method:ident -> $state:ident),* $(,)?) => {$(
        fn $fn<K, T>(
            b: SocketBuilder<K, NoEndpoint, T>,
            endpoints: &[Endpoint],
        ) -> Result<SocketBuilder<K, $state, T>, BuildError> {
            let key = stringify!($method);
            let (first, rest) = endpoints.split_first().ok_or(SocketRuleError::EmptyEndpoints { key })?;
            let mut b = b.$method(first.as_str()).map_err(crate::socket::Error::from)?;
            for e in rest {
                b = b.$method(e.as_str()).map_err(crate::socket::Error::from)?;
            }
            Ok(b)
        }
    )*};
}
every_endpoint!(bind_all: bind -> Bound, connect_all: connect -> Connected);

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

/// The rules and the build of a config whose socket has no rule of its own (push,
/// pull): its endpoints, then the builder as it is.
macro_rules! endpoints_only {
    ($($config:ident => $socket:ident),* $(,)?) => {$(
        impl $config {
            /// Checks every rule of the builder.
            ///
            /// # Errors
            /// A [`SocketRuleError`] naming the key at fault.
            pub fn validate(&self) -> Result<(), SocketRuleError> {
                self.endpoints().map(drop)
            }

            fn finish<E: EndpointChosen>(
                &self,
                b: SocketBuilder<$socket, E, NoTopics>,
            ) -> Result<$socket, BuildError> {
                Ok(b.build()?)
            }
        }
    )*};
}
endpoints_only!(PushConfig => PushSocket, PullConfig => PullSocket);
