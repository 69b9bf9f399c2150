//! Typestate builders: a socket must bind or connect before `build()` exists, binding
//! and connecting cannot be mixed, and a subscriber must choose its topics. Misuse is a
//! compile error that says what to call.

use std::marker::PhantomData;
use std::time::Duration;

use super::endpoint::{Endpoint, EndpointError, Role};
use super::error::Result;
use super::options::{socket_options_table, PerKind, SocketOptions};
use super::state::{
    Bound, CanBind, CanConnect, Connected, EndpointChosen, NoEndpoint, NoTopics, Subscribed, TopicsChosen,
};

/// Everything a builder collected; consumed by the socket types' constructors.
#[doc(hidden)]
#[derive(Clone)]
pub struct Parts {
    pub(crate) options: SocketOptions,
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) topics: Vec<Vec<u8>>,
    pub(crate) default_topic: Option<String>,
    pub(crate) context: Option<zmq::Context>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("options", &self.options)
            .field("endpoints", &self.endpoints)
            .field("topics", &self.topics.iter().map(|t| String::from_utf8_lossy(t)).collect::<Vec<_>>())
            .field("default_topic", &self.default_topic)
            .field("context", &self.context.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// What a socket kind is to libzmq and to the options: its libzmq type, its framing,
/// and whether it sends (which decides its linger and dead-peer defaults) and pushes
/// (which decides `immediate`). The per-kind defaults of the options table are resolved
/// from it (see [`SocketOptions`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The name in log events (`"publisher"`).
    pub(crate) name: &'static str,
    /// The libzmq socket type.
    pub(crate) zmq: zmq::SocketType,
    /// How its frames are laid out.
    pub(crate) framing: crate::Framing,
    /// Whether it sends user messages (push socket, publisher).
    pub(crate) sends: bool,
    /// Whether it is a push socket.
    pub(crate) pushes: bool,
}

impl Kind {
    pub(crate) const PUBLISHER: Kind =
        Kind { name: "publisher", zmq: zmq::XPUB, framing: crate::Framing::Pub, sends: true, pushes: false };
    pub(crate) const SUBSCRIBER: Kind =
        Kind { name: "subscriber", zmq: zmq::SUB, framing: crate::Framing::Pub, sends: false, pushes: false };
    pub(crate) const PUSH: Kind =
        Kind { name: "push", zmq: zmq::PUSH, framing: crate::Framing::Push, sends: true, pushes: true };
    pub(crate) const PULL: Kind =
        Kind { name: "pull", zmq: zmq::PULL, framing: crate::Framing::Push, sends: false, pushes: false };
}

pub(crate) mod sealed {
    /// What the library needs of a socket kind, out of the public API: only the four
    /// socket types implement it (they are the only [`SocketKind`](super::SocketKind)s).
    pub trait BuildFromParts: Sized {
        /// Its libzmq type, framing and role.
        const KIND: super::Kind;
        /// Builds the socket from what the builder collected.
        fn from_parts(parts: super::Parts) -> super::Result<Self>;
    }
}

/// A socket type a [`SocketBuilder`] can build: [`Publisher`](super::Publisher),
/// [`Subscriber`](super::Subscriber), [`PushSocket`](super::PushSocket) or
/// [`PullSocket`](super::PullSocket). Sealed: a bound for generic code, not a trait to
/// implement.
pub trait SocketKind: sealed::BuildFromParts {}

/// Builds a socket of kind `K` (one of [`Publisher`](super::Publisher),
/// [`Subscriber`](super::Subscriber), [`PushSocket`](super::PushSocket),
/// [`PullSocket`](super::PullSocket)); start from `K::builder()`.
///
/// `E` records whether it binds or connects, `T` whether a subscriber has topics (the
/// types in [`state`](super::state)); the methods that would break a rule do not exist
/// in that state.
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct SocketBuilder<K, E = NoEndpoint, T = NoTopics> {
    parts: Parts,
    _state: PhantomData<State<K, E, T>>,
}

/// The type-level state of a builder; `fn() -> _` keeps the builder `Send` and `Sync`
/// whatever the markers are.
type State<K, E, T> = fn() -> (K, E, T);

impl<K, E, T> Clone for SocketBuilder<K, E, T> {
    fn clone(&self) -> Self {
        SocketBuilder { parts: self.parts.clone(), _state: PhantomData }
    }
}

impl<K, E, T> std::fmt::Debug for SocketBuilder<K, E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketBuilder").field("parts", &self.parts).finish()
    }
}

impl<K: SocketKind> SocketBuilder<K> {
    pub(crate) fn new() -> Self {
        SocketBuilder {
            parts: Parts {
                options: SocketOptions::default(),
                endpoints: Vec::new(),
                topics: Vec::new(),
                default_topic: None,
                context: None,
            },
            _state: PhantomData,
        }
    }
}

impl<K, E, T> SocketBuilder<K, E, T> {
    fn into_state<E2, T2>(self) -> SocketBuilder<K, E2, T2> {
        SocketBuilder { parts: self.parts, _state: PhantomData }
    }

    /// Binds to `endpoint` (`tcp://*:5555`, `tcp://127.0.0.1:*` for a free port,
    /// `ipc://path`, `inproc://name`). May be called again to bind several endpoints;
    /// cannot be mixed with [`connect`](Self::connect).
    ///
    /// # Errors
    /// An [`EndpointError`] naming `endpoint` when it is malformed.
    pub fn bind(mut self, endpoint: &str) -> Result<SocketBuilder<K, Bound, T>, EndpointError>
    where
        E: CanBind,
    {
        self.parts.endpoints.push(Endpoint::parse(endpoint, Role::Bind)?);
        Ok(self.into_state())
    }

    /// Connects to `endpoint` (`tcp://localhost:5555`, `ipc://path`, `inproc://name`;
    /// a default port name works as the port: `tcp://localhost:coordinator_pub`). May
    /// be called again to connect to several endpoints; cannot be mixed with
    /// [`bind`](Self::bind).
    ///
    /// # Errors
    /// An [`EndpointError`] naming `endpoint` when it is malformed or has a `*`.
    pub fn connect(mut self, endpoint: &str) -> Result<SocketBuilder<K, Connected, T>, EndpointError>
    where
        E: CanConnect,
    {
        self.parts.endpoints.push(Endpoint::parse(endpoint, Role::Connect)?);
        Ok(self.into_state())
    }

    /// Sets every option at once. The options left at their [`PerKind::KindDefault`]
    /// keep this socket kind's default (`SocketOptions::default()` keeps them all).
    pub fn options(mut self, options: SocketOptions) -> Self {
        self.parts.options = options;
        self
    }

    /// Sets both the send and the receive timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.parts.options.send_timeout = timeout;
        self.parts.options.receive_timeout = timeout;
        self
    }

    /// Encrypts and authenticates every connection with CURVE, as the server whose
    /// secret key this is (its public key goes to the clients). Usually the side that
    /// binds; any socket type may be the server.
    pub fn curve_server(mut self, secret: &crate::security::CurveSecretKey) -> Self {
        self.parts.options.security = crate::security::Security::CurveServer { secret: secret.clone() };
        self
    }

    /// Encrypts and authenticates every connection with CURVE, as a client of the
    /// server whose public key is `server`, with its own `client` pair (a server with an
    /// allowlist admits only listed client keys).
    pub fn curve_client(
        mut self,
        server: &crate::security::CurvePublicKey,
        client: &crate::security::CurveKeyPair,
    ) -> Self {
        self.parts.options.security =
            crate::security::Security::CurveClient { server: *server, client: client.clone() };
        self
    }

    /// Accepts PLAIN clients, whose user and password the ZAP handler checks (see
    /// [`auth`](Self::auth)). PLAIN is plaintext: for a trusted LAN only.
    pub fn plain_server(mut self) -> Self {
        self.parts.options.security = crate::security::Security::PlainServer;
        self
    }

    /// Connects as a PLAIN client with this user and password (sent in plaintext).
    pub fn plain_client(mut self, user: &str, password: &str) -> Self {
        self.parts.options.security =
            crate::security::Security::PlainClient { user: user.to_owned(), password: password.to_owned() };
        self
    }

    /// Admits only the peers `policy` admits: registers it with the ZAP handler of the
    /// shared context (started on first use) under a domain of its own. A socket on a
    /// [custom context](Self::context) registers its policy with that context's
    /// [`Authenticator`](crate::security::Authenticator) and names the domain with
    /// [`zap_domain`](Self::zap_domain) instead.
    ///
    /// # Errors
    /// An [`AuthError`](crate::security::AuthError) when the handler cannot start.
    pub fn auth(mut self, policy: crate::security::AuthPolicy) -> Result<Self, crate::security::AuthError> {
        let auth = crate::security::Authenticator::global()?;
        self.parts.options.zap_domain = Some(auth.register(policy));
        Ok(self)
    }

    /// The ZAP domain this server's peers are judged in (`ZMQ_ZAP_DOMAIN`), for a
    /// policy registered with [`Authenticator::register`](crate::security::Authenticator::register).
    pub fn zap_domain(mut self, domain: &str) -> Self {
        self.parts.options.zap_domain = Some(domain.to_owned());
        self
    }

    /// Use this ZeroMQ context instead of the process-wide one.
    pub fn context(mut self, context: zmq::Context) -> Self {
        self.parts.context = Some(context);
        self
    }

    /// Builds the socket: creates it, applies the options, binds or connects.
    ///
    /// # Errors
    /// [`Error::Bind`](super::Error::Bind) (for example the address is in use),
    /// [`Error::Connect`](super::Error::Connect), or
    /// [`Error::SetOption`](super::Error::SetOption).
    pub fn build(self) -> Result<K>
    where
        K: SocketKind,
        E: EndpointChosen,
        T: TopicsChosen<K>,
    {
        K::from_parts(self.parts)
    }
}

impl<E, T> SocketBuilder<super::Publisher, E, T> {
    /// The topic [`publish`](super::Publisher::publish) uses. Default: the empty topic.
    ///
    /// # Errors
    /// A [`TopicError`](crate::TopicError) when the topic has a space.
    pub fn topic(mut self, topic: &str) -> Result<Self, crate::TopicError> {
        crate::codec::validate_topic(topic)?;
        self.parts.default_topic = Some(topic.to_owned());
        Ok(self)
    }
}

impl<E, T> SocketBuilder<super::Subscriber, E, T> {
    /// Subscribes to every frame that starts with `prefix` (ZeroMQ's prefix match:
    /// `status` also receives `status-updates`).
    pub fn subscribe(mut self, prefix: &str) -> SocketBuilder<super::Subscriber, E, Subscribed> {
        self.parts.topics.push(prefix.as_bytes().to_vec());
        self.into_state()
    }

    /// Subscribes to exactly `topic` (the subscription is `"<topic> "`, so `status`
    /// does not receive `status-updates`).
    ///
    /// # Errors
    /// A [`TopicError`](crate::TopicError) when the topic has a space.
    pub fn subscribe_exact(
        mut self,
        topic: &str,
    ) -> Result<SocketBuilder<super::Subscriber, E, Subscribed>, crate::TopicError> {
        crate::codec::validate_topic(topic)?;
        self.parts.topics.push(exact_subscription(topic));
        Ok(self.into_state())
    }

    /// Subscribes to every topic.
    pub fn subscribe_all(mut self) -> SocketBuilder<super::Subscriber, E, Subscribed> {
        self.parts.topics.push(Vec::new());
        self.into_state()
    }
}

pub(crate) fn exact_subscription(topic: &str) -> Vec<u8> {
    let mut s = Vec::with_capacity(topic.len() + 1);
    s.extend_from_slice(topic.as_bytes());
    s.push(b' ');
    s
}

/// Generates the builder setters of some rows of the options table.
macro_rules! setters {
    ($({
        field: [$(#[$meta:meta])* $field:ident : $ty:ty = $default:expr]
        setter: [$setter:ident ($arg:ident : $argty:ty) => $store:expr]
        config: [$($config:tt)*]
        zmq: [$($zmq:tt)*]
        doc: $doc:literal
    })*) => {
        $(
            #[doc = $doc]
            #[doc = ""]
            #[doc = concat!("See [`SocketOptions::", stringify!($field), "`].")]
            pub fn $setter(mut self, $arg: $argty) -> Self {
                self.parts.options.$field = $store;
                self
            }
        )*
    };
}

/// Generates a builder setter for every row of the options table: the common rows on
/// every builder, the publisher rows on a publisher's.
macro_rules! option_setters {
    (common [$($common:tt)*] publisher [$($publisher:tt)*]) => {
        /// The option setters, one per [`SocketOptions`] field.
        impl<K, E, T> SocketBuilder<K, E, T> {
            setters!($($common)*);
        }

        /// The publisher's own options.
        impl<E, T> SocketBuilder<super::Publisher, E, T> {
            setters!($($publisher)*);
        }
    };
}
socket_options_table!(option_setters! {});
