//! Typestate builders: a socket must bind or connect before `build()` exists, binding
//! and connecting cannot be mixed, and a subscriber must choose its topics. Misuse is a
//! compile error that says what to call.

use std::marker::PhantomData;
use std::time::Duration;

use super::endpoint::{Endpoint, EndpointError, Role};
use super::error::Result;
use super::options::{socket_options_table, PerKind, SocketOptions};

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

mod sealed {
    pub trait Sealed {}
}

/// The state of a builder that has no endpoint yet.
#[derive(Debug)]
pub enum NoEndpoint {}
/// The state of a builder that binds (one or more endpoints).
#[derive(Debug)]
pub enum Bound {}
/// The state of a builder that connects (one or more endpoints).
#[derive(Debug)]
pub enum Connected {}
/// The state of a subscriber builder with no topic yet.
#[derive(Debug)]
pub enum NoTopics {}
/// The state of a subscriber builder with at least one topic.
#[derive(Debug)]
pub enum Subscribed {}

impl sealed::Sealed for NoEndpoint {}
impl sealed::Sealed for Bound {}
impl sealed::Sealed for Connected {}
impl sealed::Sealed for NoTopics {}
impl sealed::Sealed for Subscribed {}

/// An endpoint state in which `build()` is allowed.
#[diagnostic::on_unimplemented(
    message = "the socket has no endpoint: call `.bind(endpoint)` or `.connect(endpoint)` before `.build()`",
    label = "this builder has neither bound nor connected",
    note = "publishers and push sockets usually bind (`tcp://*:5555`); subscribers and pull sockets usually connect (`tcp://localhost:5555`)"
)]
pub trait EndpointChosen: sealed::Sealed {}
impl EndpointChosen for Bound {}
impl EndpointChosen for Connected {}

/// An endpoint state in which `.bind()` is allowed.
#[diagnostic::on_unimplemented(
    message = "this socket already connects, so it cannot also bind",
    label = "`.connect()` was called on this builder",
    note = "a socket either binds or connects; it may add several endpoints of the same kind"
)]
pub trait CanBind: sealed::Sealed {}
impl CanBind for NoEndpoint {}
impl CanBind for Bound {}

/// An endpoint state in which `.connect()` is allowed.
#[diagnostic::on_unimplemented(
    message = "this socket already binds, so it cannot also connect",
    label = "`.bind()` was called on this builder",
    note = "a socket either binds or connects; it may add several endpoints of the same kind"
)]
pub trait CanConnect: sealed::Sealed {}
impl CanConnect for NoEndpoint {}
impl CanConnect for Connected {}

/// A topic state that lets socket kind `K` build.
#[diagnostic::on_unimplemented(
    message = "a subscriber needs topics: call `.subscribe(topic)`, `.subscribe_exact(topic)` or `.subscribe_all()` before `.build()`",
    label = "this subscriber has no topic yet",
    note = "without a subscription ZeroMQ delivers nothing to a subscriber"
)]
pub trait TopicsChosen<K>: sealed::Sealed {}
impl TopicsChosen<super::Subscriber> for Subscribed {}
impl TopicsChosen<super::Publisher> for NoTopics {}
impl TopicsChosen<super::PushSocket> for NoTopics {}
impl TopicsChosen<super::PullSocket> for NoTopics {}

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

/// A socket type a [`SocketBuilder`] can build.
pub trait SocketKind: Sized + sealed::Sealed {
    /// Its libzmq type, framing and role.
    #[doc(hidden)]
    const KIND: Kind;
    /// Builds the socket from what the builder collected.
    #[doc(hidden)]
    fn from_parts(parts: Parts) -> Result<Self>;
}

impl sealed::Sealed for super::Publisher {}
impl sealed::Sealed for super::Subscriber {}
impl sealed::Sealed for super::PushSocket {}
impl sealed::Sealed for super::PullSocket {}

/// Builds a socket of kind `K` (one of [`Publisher`](super::Publisher),
/// [`Subscriber`](super::Subscriber), [`PushSocket`](super::PushSocket),
/// [`PullSocket`](super::PullSocket)); start from `K::builder()`.
///
/// `E` records whether it binds or connects, `T` whether a subscriber has topics; the
/// methods that would break a rule do not exist in that state.
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

/// Generates a builder setter for every row of the options table.
macro_rules! option_setters {
    (
        common [$({
            field: [$(#[$meta:meta])* $field:ident : $ty:ty = $default:expr]
            setter: [$setter:ident ($arg:ident : $argty:ty) => $store:expr]
            config: [$($config:tt)*]
            zmq: [$($zmq:tt)*]
            doc: $doc:literal
        })*]
        publisher [$({
            field: [$(#[$pmeta:meta])* $pfield:ident : $pty:ty = $pdefault:expr]
            setter: [$psetter:ident ($parg:ident : $pargty:ty) => $pstore:expr]
            config: [$($pconfig:tt)*]
            zmq: [$($pzmq:tt)*]
            doc: $pdoc:literal
        })*]
    ) => {
        /// The option setters, one per [`SocketOptions`] field.
        impl<K, E, T> SocketBuilder<K, E, T> {
            $(
                #[doc = $doc]
                #[doc = ""]
                #[doc = concat!("See [`SocketOptions::", stringify!($field), "`].")]
                pub fn $setter(mut self, $arg: $argty) -> Self {
                    self.parts.options.$field = $store;
                    self
                }
            )*
        }

        /// The publisher's own options.
        impl<E, T> SocketBuilder<super::Publisher, E, T> {
            $(
                #[doc = $pdoc]
                #[doc = ""]
                #[doc = concat!("See [`SocketOptions::", stringify!($pfield), "`].")]
                pub fn $psetter(mut self, $parg: $pargty) -> Self {
                    self.parts.options.$pfield = $pstore;
                    self
                }
            )*
        }
    };
}
socket_options_table!(option_setters! {});
