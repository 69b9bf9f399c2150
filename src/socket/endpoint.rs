//! Endpoint parsing and validation: every endpoint is checked when it is given, so a typo
//! fails at build time with an error naming it, not as a silent non-connection.

use std::fmt;
use std::str::FromStr;

use crate::DefaultPort;

/// Whether an endpoint is bound or connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The socket listens on the endpoint (`zmq_bind`).
    Bind,
    /// The socket connects to the endpoint (`zmq_connect`).
    Connect,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Bind => "bind",
            Role::Connect => "connect",
        })
    }
}

/// What is wrong with an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointProblem {
    /// No `transport://`.
    #[error("missing transport (write tcp://, ipc:// or inproc://)")]
    MissingTransport,
    /// A transport other than tcp, ipc and inproc.
    #[error("unknown transport \"{0}\" (use tcp, ipc or inproc)")]
    UnknownTransport(String),
    /// `tcp://host` without `:port`.
    #[error("missing port (write tcp://host:port)")]
    MissingPort,
    /// A port that is not a number in 1..=65535 nor a default port name.
    #[error(
        "invalid port \"{0}\" (a number from 1 to 65535, or a default port name such as coordinator_pub)"
    )]
    InvalidPort(String),
    /// `tcp://:5555`.
    #[error("empty host")]
    EmptyHost,
    /// `*` (any interface, or any port) used to connect.
    #[error("`*` is only valid when binding; to connect, name the host and port (tcp://localhost:5555)")]
    WildcardInConnect,
    /// `ipc://` or `inproc://` with nothing after it.
    #[error("empty address after the transport")]
    EmptyAddress,
}

/// An endpoint that cannot be used, with the endpoint as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {role} endpoint \"{endpoint}\": {problem}")]
pub struct EndpointError {
    /// The endpoint as given.
    pub endpoint: String,
    /// Whether it was to be bound or connected to.
    pub role: Role,
    /// What is wrong with it.
    pub problem: EndpointProblem,
}

/// The transport of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `tcp://host:port`.
    Tcp,
    /// `ipc://path` (a Unix domain socket).
    Ipc,
    /// `inproc://name` (between sockets of one context in one process).
    Inproc,
}

/// A validated endpoint, in the form libzmq takes (default port names resolved).
///
/// # Example
/// ```
/// use experimance_common::socket::{Endpoint, Role};
/// let e = Endpoint::parse("tcp://localhost:coordinator_pub", Role::Connect)?;
/// assert_eq!(e.as_str(), "tcp://localhost:5555");
/// assert!(Endpoint::parse("tcp://*:5555", Role::Connect).is_err());
/// assert!(Endpoint::parse("tcp://*:*", Role::Bind).is_ok());
/// # Ok::<(), experimance_common::socket::EndpointError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    text: String,
    transport: Transport,
    role: Role,
}

impl Endpoint {
    /// Validates `endpoint` for `role`.
    ///
    /// # Errors
    /// An [`EndpointError`] naming the endpoint and what is wrong: a missing or unknown
    /// transport, a missing or out-of-range port, an empty host or address, or a `*`
    /// in an endpoint to connect to.
    pub fn parse(endpoint: &str, role: Role) -> Result<Endpoint, EndpointError> {
        let fail = |problem| EndpointError { endpoint: endpoint.to_owned(), role, problem };
        let (scheme, rest) =
            endpoint.split_once("://").ok_or_else(|| fail(EndpointProblem::MissingTransport))?;
        let transport = match scheme {
            "tcp" => Transport::Tcp,
            "ipc" => Transport::Ipc,
            "inproc" => Transport::Inproc,
            other => return Err(fail(EndpointProblem::UnknownTransport(other.to_owned()))),
        };
        if transport != Transport::Tcp {
            if rest.is_empty() {
                return Err(fail(EndpointProblem::EmptyAddress));
            }
            if role == Role::Connect && rest.contains('*') {
                return Err(fail(EndpointProblem::WildcardInConnect));
            }
            return Ok(Endpoint { text: endpoint.to_owned(), transport, role });
        }
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| fail(EndpointProblem::MissingPort))?;
        // libzmq's "source;destination" form names the interface to connect from.
        let host_part = host.rsplit(';').next().unwrap_or(host);
        if host_part.is_empty() || host_part == "[]" {
            return Err(fail(EndpointProblem::EmptyHost));
        }
        if role == Role::Connect && (host_part == "*" || port == "*") {
            return Err(fail(EndpointProblem::WildcardInConnect));
        }
        let port_number = if port == "*" || port == "!" {
            None
        } else if let Ok(n) = port.parse::<u16>() {
            if n == 0 && role == Role::Connect {
                return Err(fail(EndpointProblem::InvalidPort(port.to_owned())));
            }
            Some(n)
        } else if let Ok(named) = port.parse::<DefaultPort>() {
            Some(named.port())
        } else if port.is_empty() {
            return Err(fail(EndpointProblem::MissingPort));
        } else {
            return Err(fail(EndpointProblem::InvalidPort(port.to_owned())));
        };
        let text = match port_number {
            Some(n) if n.to_string() != port => format!("tcp://{host}:{n}"),
            _ => endpoint.to_owned(),
        };
        Ok(Endpoint { text, transport, role })
    }

    /// The endpoint as libzmq takes it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Whether it is bound or connected to.
    pub fn role(&self) -> Role {
        self.role
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Role {
    type Err = crate::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bind" => Ok(Role::Bind),
            "connect" => Ok(Role::Connect),
            _ => Err(crate::UnknownName::new("endpoint role", s)),
        }
    }
}

/// The address a peer on this machine connects to, for an endpoint libzmq reports as
/// bound (`tcp://0.0.0.0:PORT` becomes `tcp://127.0.0.1:PORT`, `tcp://[::]:PORT`
/// becomes `tcp://[::1]:PORT`).
pub(crate) fn connectable(bound: &str) -> String {
    if let Some(port) = bound.strip_prefix("tcp://0.0.0.0:") {
        format!("tcp://127.0.0.1:{port}")
    } else if let Some(port) = bound.strip_prefix("tcp://[::]:") {
        format!("tcp://[::1]:{port}")
    } else {
        bound.to_owned()
    }
}
