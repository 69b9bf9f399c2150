//! `[sockets.NAME.security]`: a configured socket's security mechanism, its key files
//! (the certificate files pyzmq's `zmq.auth` and CZMQ write, see
//! [`CurveKeyPair::load`]) and the allowlist a server admits clients by. Every key file
//! is read when the configuration is loaded, so a missing, unreadable or malformed one
//! is a [`ConfigError::KeyFile`](super::ConfigError::KeyFile) naming it, not a failure at
//! the first connection.
//!
//! ```toml
//! [sockets.requests.security]       # a CURVE server admitting the keys in clients/
//! mechanism = "curve"
//! secret_key = "keys/server.key"
//! allow_keys_dir = "keys/clients"
//! allow = ["10.0.0.0/8"]            # and only from this network
//!
//! [sockets.results.security]        # a CURVE client of that server
//! mechanism = "curve"
//! server_key = "keys/server.pub"
//! secret_key = "keys/clients/worker-1.key"
//! ```
//!
//! Relative paths are resolved against the working directory, as
//! [`CurveKeyPair::load`] does.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::security::{AuthPolicy, CurveKeyPair, CurvePublicKey, KeyError};
use crate::socket::SocketBuilder;

/// The `mechanism` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// `"none"` (the default, as the Python services): no encryption; `allow`/`deny`
    /// still decide who may connect.
    #[default]
    None,
    /// `"curve"`: every message encrypted and both ends authenticated.
    Curve,
    /// `"plain"`: a user and password checked by the server, in plaintext.
    Plain,
}

/// `[sockets.NAME.security]`: how a configured socket secures its connections.
///
/// | key | type | meaning |
/// |---|---|---|
/// | `mechanism` | `"none"`, `"curve"` or `"plain"` | the mechanism (default `"none"`) |
/// | `secret_key` | path | CURVE: this socket's secret certificate (`NAME.key`); required |
/// | `server_key` | path | CURVE: the server's public certificate (`server.pub`); makes this socket a client |
/// | `user`, `password` | strings | PLAIN: this socket is a client with these credentials |
/// | `users` | table of user = password | PLAIN: this socket is a server admitting these users |
/// | `allow_keys_dir` | path | CURVE servers: admit only the client keys of the `*.pub` files in this directory |
/// | `allow`, `deny` | lists of addresses or CIDR networks | servers (any mechanism): admit only / refuse these client addresses |
///
/// A CURVE socket with `server_key` is a client, one without is a server; a PLAIN
/// socket with `user` is a client, one with `users` a server. A client has no allowlist
/// keys. A server with an allowlist (`allow_keys_dir`, `allow`, `deny`, `users`) has it
/// registered with the process's ZAP handler when the socket is built; refusals are
/// counted (`auth_failures()`) and logged.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecurityConfig {
    /// `mechanism`.
    pub mechanism: Mechanism,
    /// `secret_key`: this socket's secret certificate file (CURVE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<PathBuf>,
    /// `server_key`: the server's public certificate file (CURVE clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_key: Option<PathBuf>,
    /// `user`: the PLAIN client's user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `password`: the PLAIN client's password (never shown by `Debug`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `users`: the users a PLAIN server admits, with their passwords.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, String>,
    /// `allow_keys_dir`: the directory of `*.pub` client certificates a CURVE server
    /// admits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_keys_dir: Option<PathBuf>,
    /// `allow`: client addresses or networks admitted (all when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// `deny`: client addresses or networks refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

impl fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let users: Vec<&String> = self.users.keys().collect();
        f.debug_struct("SecurityConfig")
            .field("mechanism", &self.mechanism)
            .field("secret_key", &self.secret_key)
            .field("server_key", &self.server_key)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("users", &users)
            .field("allow_keys_dir", &self.allow_keys_dir)
            .field("allow", &self.allow)
            .field("deny", &self.deny)
            .finish()
    }
}

/// A security table that breaks a rule, or whose keys cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// A key that does not belong with the mechanism or the role.
    #[error("`{key}` {why}")]
    Rule {
        /// The key at fault.
        key: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// An address or network in `allow` or `deny` that does not parse.
    #[error("`{key}`: {error}")]
    Network {
        /// `allow[i]` or `deny[i]`.
        key: String,
        /// Why.
        error: crate::security::IpNetError,
    },
    /// A key file (or the allowlist directory) that is missing, unreadable or
    /// malformed; the error names the file.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The ZAP handler could not start.
    #[error(transparent)]
    Auth(#[from] crate::security::AuthError),
}

/// What a security table comes to: the keys read and the policy built.
enum Plan {
    None,
    CurveServer(CurveKeyPair),
    CurveClient { server: CurvePublicKey, own: CurveKeyPair },
    PlainServer,
    PlainClient { user: String, password: String },
}

impl SecurityConfig {
    /// The first CURVE-only key that is set.
    fn curve_key_set(&self) -> Option<&'static str> {
        [
            (self.secret_key.is_some(), "secret_key"),
            (self.server_key.is_some(), "server_key"),
            (self.allow_keys_dir.is_some(), "allow_keys_dir"),
        ]
        .into_iter()
        .find_map(|(set, key)| set.then_some(key))
    }

    /// The first PLAIN-only key that is set.
    fn plain_key_set(&self) -> Option<&'static str> {
        [
            (self.user.is_some(), "user"),
            (self.password.is_some(), "password"),
            (!self.users.is_empty(), "users"),
        ]
        .into_iter()
        .find_map(|(set, key)| set.then_some(key))
    }

    /// Checks the rules and reads every key file and the allowlist directory.
    fn plan(&self) -> Result<(Plan, Option<AuthPolicy>), SecurityError> {
        let rule = |key, why| SecurityError::Rule { key, why };
        let server_only = |set: bool, key| {
            if set {
                Err(rule(key, "is for servers; this socket is a client"))
            } else {
                Ok(())
            }
        };
        let client = match self.mechanism {
            Mechanism::None => {
                if let Some(key) = self.curve_key_set() {
                    return Err(rule(key, "needs mechanism = \"curve\""));
                }
                if let Some(key) = self.plain_key_set() {
                    return Err(rule(key, "needs mechanism = \"plain\""));
                }
                false
            }
            Mechanism::Curve => {
                if self.secret_key.is_none() {
                    return Err(rule(
                        "secret_key",
                        "is missing: a CURVE socket needs its secret certificate file",
                    ));
                }
                if let Some(key) = self.plain_key_set() {
                    return Err(rule(key, "needs mechanism = \"plain\""));
                }
                self.server_key.is_some()
            }
            Mechanism::Plain => {
                if let Some(key) = self.curve_key_set() {
                    return Err(rule(key, "needs mechanism = \"curve\""));
                }
                match (&self.user, &self.password) {
                    (Some(_), Some(_)) => true,
                    (None, None) if !self.users.is_empty() => false,
                    (None, None) => {
                        return Err(rule(
                            "users",
                            "is missing: a PLAIN server needs its users (a client, `user` and `password`)",
                        ))
                    }
                    (Some(_), None) => {
                        return Err(rule(
                            "password",
                            "is missing: a PLAIN client needs `user` and `password`",
                        ))
                    }
                    (None, Some(_)) => {
                        return Err(rule("user", "is missing: a PLAIN client needs `user` and `password`"))
                    }
                }
            }
        };
        if client {
            server_only(self.allow_keys_dir.is_some(), "allow_keys_dir")?;
            server_only(!self.allow.is_empty(), "allow")?;
            server_only(!self.deny.is_empty(), "deny")?;
            server_only(!self.users.is_empty(), "users")?;
        }
        let plan = match (self.mechanism, &self.secret_key, &self.server_key, &self.user, &self.password) {
            (Mechanism::Curve, Some(secret), Some(server), ..) => {
                Plan::CurveClient { server: CurvePublicKey::load(server)?, own: CurveKeyPair::load(secret)? }
            }
            (Mechanism::Curve, Some(secret), None, ..) => Plan::CurveServer(CurveKeyPair::load(secret)?),
            (Mechanism::Plain, _, _, Some(user), Some(password)) => {
                Plan::PlainClient { user: user.clone(), password: password.clone() }
            }
            (Mechanism::Plain, ..) => Plan::PlainServer,
            _ => Plan::None,
        };
        let listed = !self.allow.is_empty() || !self.deny.is_empty() || !self.users.is_empty();
        let policy = if listed || self.allow_keys_dir.is_some() {
            let mut p = AuthPolicy::new();
            for (i, network) in self.allow.iter().enumerate() {
                p = p
                    .allow(network)
                    .map_err(|error| SecurityError::Network { key: format!("allow[{i}]"), error })?;
            }
            for (i, network) in self.deny.iter().enumerate() {
                p = p
                    .deny(network)
                    .map_err(|error| SecurityError::Network { key: format!("deny[{i}]"), error })?;
            }
            for (user, password) in &self.users {
                p = p.plain_user(user, password);
            }
            if let Some(dir) = &self.allow_keys_dir {
                p = p.curve_allow_dir(dir)?;
            }
            Some(p)
        } else {
            None
        };
        Ok((plan, policy))
    }

    /// Checks the rules and reads every key file, as loading does.
    ///
    /// # Errors
    /// A [`SecurityError`]; a key file's names the file.
    pub fn validate(&self) -> Result<(), SecurityError> {
        self.plan().map(drop)
    }

    /// Sets the mechanism and its keys on `b`, and registers the allowlist with the
    /// process's ZAP handler.
    pub(super) fn apply<K, E, T>(
        &self,
        b: SocketBuilder<K, E, T>,
    ) -> Result<SocketBuilder<K, E, T>, SecurityError> {
        let (plan, policy) = self.plan()?;
        let b = match plan {
            Plan::None => b,
            Plan::CurveServer(own) => b.curve_server(own.secret()),
            Plan::CurveClient { server, own } => b.curve_client(&server, &own),
            Plan::PlainServer => b.plain_server(),
            Plan::PlainClient { user, password } => b.plain_client(&user, &password),
        };
        Ok(match policy {
            Some(policy) => b.auth(policy)?,
            None => b,
        })
    }
}

/// The fields of [`SecurityConfig`], deserialized before the rules are checked.
#[derive(Deserialize)]
struct SecurityRaw {
    #[serde(default)]
    mechanism: Mechanism,
    secret_key: Option<PathBuf>,
    server_key: Option<PathBuf>,
    user: Option<String>,
    password: Option<String>,
    #[serde(default)]
    users: BTreeMap<String, String>,
    allow_keys_dir: Option<PathBuf>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

impl<'de> Deserialize<'de> for SecurityConfig {
    /// Deserializes, checks the rules and reads every key file: a key file that cannot
    /// be used becomes the loader's [`ConfigError::KeyFile`](super::ConfigError::KeyFile).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = SecurityRaw::deserialize(d)?;
        let config = SecurityConfig {
            mechanism: r.mechanism,
            secret_key: r.secret_key,
            server_key: r.server_key,
            user: r.user,
            password: r.password,
            users: r.users,
            allow_keys_dir: r.allow_keys_dir,
            allow: r.allow,
            deny: r.deny,
        };
        match config.validate() {
            Ok(()) => Ok(config),
            Err(SecurityError::Key(e)) => {
                let message = e.to_string();
                KEY_ERROR.with(|slot| *slot.borrow_mut() = Some(e));
                Err(de::Error::custom(message))
            }
            Err(e) => Err(de::Error::custom(e)),
        }
    }
}

thread_local! {
    /// The key error of the security table that failed to load on this thread, for
    /// the loader to return typed (serde's errors carry only a message).
    static KEY_ERROR: RefCell<Option<KeyError>> = const { RefCell::new(None) };
}

/// Takes the key error the last failed load on this thread left, if any.
pub(super) fn take_key_error() -> Option<KeyError> {
    KEY_ERROR.with(|slot| slot.borrow_mut().take())
}
