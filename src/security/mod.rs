//! Securing the bus: CURVE keys (encryption, and server and client authentication) and
//! a ZAP handler that admits or refuses each connecting peer by address, PLAIN user, or
//! CURVE client key.

mod ipnet;
mod keys;
mod z85;
mod zap;

pub use ipnet::{IpNet, IpNetError};
pub use keys::{CurveKeyPair, CurvePublicKey, CurveSecretKey, KeyError, KeyFileProblem};
pub use z85::Z85Error;
pub use zap::{AuthCounts, AuthError, AuthPolicy, Authenticator, ZAP_ENDPOINT};

/// How a socket secures its connections (ZMTP's security mechanism). Set it with the
/// builder's `curve_server`, `curve_client`, `plain_server` or `plain_client`.
///
/// | mechanism | protects | does not protect |
/// |---|---|---|
/// | `Null` (default, as the Python services) | nothing | anything |
/// | PLAIN | lets a server's ZAP handler check a user and password | the password and every message travel in plaintext |
/// | CURVE | encrypts and authenticates every message; the client knows it talks to the server whose public key it holds; a ZAP allowlist admits only known client keys | who can reach the port (use an IP policy), traffic volume and timing |
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// No security (ZMTP NULL).
    #[default]
    Null,
    /// A PLAIN server: clients send a user and password, checked by the ZAP handler.
    PlainServer,
    /// A PLAIN client with its credentials.
    PlainClient {
        /// The user name.
        user: String,
        /// The password (never shown by `Debug`).
        password: String,
    },
    /// A CURVE server with its secret key.
    CurveServer {
        /// The server's secret key.
        secret: CurveSecretKey,
    },
    /// A CURVE client: the server's public key, and its own pair.
    CurveClient {
        /// The public key of the server it connects to.
        server: CurvePublicKey,
        /// Its own key pair (its public key is what a server's allowlist lists).
        client: CurveKeyPair,
    },
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Security::Null => f.write_str("Null"),
            Security::PlainServer => f.write_str("PlainServer"),
            Security::PlainClient { user, .. } => {
                f.debug_struct("PlainClient").field("user", user).field("password", &"<redacted>").finish()
            }
            Security::CurveServer { secret } => {
                f.debug_struct("CurveServer").field("secret", secret).finish()
            }
            Security::CurveClient { server, client } => {
                f.debug_struct("CurveClient").field("server", server).field("client", client).finish()
            }
        }
    }
}

impl Security {
    /// Sets the libzmq options of this mechanism on `socket` (before it binds or
    /// connects).
    pub(crate) fn apply(&self, socket: &zmq::Socket) -> crate::socket::Result<()> {
        use crate::socket::set_option as set;
        match self {
            Security::Null => Ok(()),
            Security::PlainServer => set("ZMQ_PLAIN_SERVER", socket.set_plain_server(true)),
            Security::PlainClient { user, password } => {
                set("ZMQ_PLAIN_USERNAME", socket.set_plain_username(Some(user)))?;
                set("ZMQ_PLAIN_PASSWORD", socket.set_plain_password(Some(password)))
            }
            Security::CurveServer { secret } => {
                set("ZMQ_CURVE_SERVER", socket.set_curve_server(true))?;
                set("ZMQ_CURVE_SECRETKEY", socket.set_curve_secretkey(secret.expose_bytes()))
            }
            Security::CurveClient { server, client } => {
                set("ZMQ_CURVE_SERVERKEY", socket.set_curve_serverkey(server.as_bytes()))?;
                set("ZMQ_CURVE_PUBLICKEY", socket.set_curve_publickey(client.public().as_bytes()))?;
                set("ZMQ_CURVE_SECRETKEY", socket.set_curve_secretkey(client.secret().expose_bytes()))
            }
        }
    }
}
