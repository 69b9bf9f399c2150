//! Configuration files: TOML read with a fallback to a default file, loaded into typed
//! serde structs, with a service's sockets described in them (the Python library's
//! `load_config` and `Config.from_file` / `Config.from_env`). The loader is here; its
//! error types are in `config/error.rs`, sockets in `config/sockets.rs`. (About 400
//! lines, most of them this documentation: the example and the table of keys.)
//!
//! ```
//! use experimance_common::config::{self, ConfigError, PublisherConfig, SubscriberConfig};
//! use experimance_common::Heartbeat;
//! use serde::Deserialize;
//!
//! #[derive(Debug, Deserialize)]
//! struct Sockets {
//!     heartbeat: PublisherConfig,
//!     events: SubscriberConfig,
//! }
//!
//! #[derive(Debug, Deserialize)]
//! struct Service {
//!     name: String,
//!     sockets: Sockets,
//! }
//!
//! let text = r#"
//! name = "demo"
//!
//! [sockets.heartbeat]
//! bind = "tcp://127.0.0.1:*"   # a free port
//! topic = "heartbeat"
//! send_timeout_ms = 500
//!
//! [sockets.events]
//! connect = "tcp://localhost"
//! port = "coordinator_pub"     # a default port by name
//! exact_topics = ["events"]
//! "#;
//! let file = std::env::temp_dir().join(format!("config-doc-{}.toml", std::process::id()));
//! std::fs::write(&file, text)?;
//!
//! // The file, or the default file when it is missing or unreadable.
//! let service: Service = config::from_file(&file, "/etc/experimance/demo.toml")?;
//! assert_eq!(service.name, "demo");
//! assert_eq!(service.sockets.events.endpoints()?[0].as_str(), "tcp://localhost:5555");
//!
//! // A configured socket is built by the typestate builder, with every option applied.
//! let mut heartbeat = service.sockets.heartbeat.build()?;
//! assert_eq!(heartbeat.topic(), "heartbeat");
//! assert!(heartbeat.endpoint().starts_with("tcp://127.0.0.1:"));
//! heartbeat.publish(&Heartbeat::now("demo"))?; // no subscriber yet: dropped, as ZeroMQ's PUB does
//!
//! // A typo is an error naming the key and the file, not a silently ignored setting.
//! let typo = text.replace("topic =", "topik =");
//! let err = config::from_str::<Service>(&typo, "demo.toml").unwrap_err();
//! assert!(matches!(err, ConfigError::UnknownKeys { .. }));
//! assert!(err.to_string().contains("demo.toml: unknown key `sockets.heartbeat.topik`"));
//!
//! // So is a socket the builder would refuse: here, `*` in an endpoint to connect to.
//! let wildcard = text.replace(r#"connect = "tcp://localhost""#, r#"connect = "tcp://*""#);
//! let err = config::from_str::<Service>(&wildcard, "demo.toml").unwrap_err();
//! assert!(err.to_string().contains("`sockets.events.connect`"), "{err}");
//! # std::fs::remove_file(&file)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Loading
//!
//! [`load_config`], [`from_file`] and [`from_env`] read the given file; only when it is
//! **missing or unreadable** (not found, permission denied, a directory, an I/O error)
//! do they fall back to the default file. A file that is read but broken (not UTF-8, a
//! TOML syntax error, an unknown key, an invalid value) is reported, never silently
//! replaced by the default: a deployed config with a typo must not quietly run with
//! defaults. When no file is usable, [`ConfigError::Unusable`] lists every path tried
//! and why each failed (a syntax error with its line and column).
//!
//! Unknown keys are an error ([`ConfigError::UnknownKeys`], with their dotted paths)
//! unless [`Loader::allow_unknown_keys`] says otherwise. They are found by the
//! `serde_ignored` crate, so a struct that uses `#[serde(flatten)]` cannot report the
//! unknown keys of its flattened part.
//!
//! # Sockets
//!
//! [`PublisherConfig`], [`SubscriberConfig`], [`PushConfig`] and [`PullConfig`] describe a
//! socket in a TOML table and [`build`](PublisherConfig::build) it through the typestate
//! [`SocketBuilder`](crate::socket::SocketBuilder). Every rule the builder enforces at
//! compile time is checked when the file is loaded, and the error names the key
//! (`sockets.events.connect`) and the file.
//!
//! | key | type | meaning (default: the builder's) |
//! |---|---|---|
//! | `bind` | string or list of strings | endpoints to bind (`tcp://*:5555`, `tcp://127.0.0.1:*` for a free port, `ipc://path`, `inproc://name`) |
//! | `connect` | string or list of strings | endpoints to connect to (`tcp://localhost:5555`); exactly one of `bind` and `connect`, and no `*` in `connect` |
//! | `port` | integer, default port name or `"*"` | the port of every `tcp://host` endpoint written without one: `{ bind = "tcp://*", port = "coordinator_pub" }`. A name also works in the endpoint: `tcp://localhost:coordinator_pub` |
//! | `topic` | string | publishers: the topic `publish` uses (no space) |
//! | `topics` | list of strings | subscribers: prefix subscriptions (`""` receives every topic) |
//! | `exact_topics` | list of strings | subscribers: exact subscriptions (`status` does not receive `status-updates`); a subscriber needs `topics` or `exact_topics` |
//! | `[sockets.NAME.security]` | table | the mechanism (`none`, `curve`, `plain`), key files and allowlist: see [`SecurityConfig`]; key files are read at load, and one that cannot be used is [`ConfigError::KeyFile`], naming it |
//! | every socket option | | one key per option, with its TOML type and default: the table in [`SocketOptions`](crate::socket::SocketOptions) (`send_timeout_ms`, `receive_hwm`, `lossless` for publishers, ...) |
//!
//! Durations are whole milliseconds, in keys ending in `_ms`. The option keys, the
//! builder setters and [`SocketOptions`](crate::socket::SocketOptions) are generated
//! from one table, so they cannot drift apart.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

mod endpoints;
mod error;
mod security;
mod sockets;

pub use endpoints::{Endpoints, Port};
pub use error::{Attempt, ConfigError, FileProblem, Position};
pub use security::{Mechanism, SecurityConfig, SecurityError};
pub use sockets::{BuildError, PublisherConfig, PullConfig, PushConfig, SocketRuleError, SubscriberConfig};

/// A configuration loaded, with the file it came from.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The configuration.
    pub value: T,
    /// The file it was read from.
    pub path: PathBuf,
    /// The files tried before it and why they were skipped (the primary file, when the
    /// default was used).
    pub skipped: Vec<Attempt>,
}

/// How configurations are loaded. The free functions use [`Loader::new()`]: unknown
/// keys are an error.
///
/// ```
/// use experimance_common::config::Loader;
/// #[derive(serde::Deserialize)]
/// struct Settings { name: String }
/// let s: Settings = Loader::new()
///     .allow_unknown_keys(true)
///     .from_str("name = \"x\"\nfuture_setting = 1", "settings.toml")?;
/// assert_eq!(s.name, "x");
/// # Ok::<(), experimance_common::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loader {
    allow_unknown_keys: bool,
}

/// `from_file` and `from_env`: `load` and `load_env`, keeping only the configuration.
macro_rules! value_only {
    ($($name:ident => $load:ident($arg:ident: $ty:ty)),* $(,)?) => {$(
        #[doc = concat!("[`", stringify!($load), "`](Self::", stringify!($load), "), keeping only the configuration.")]
        ///
        /// # Errors
        /// As [`load`](Self::load).
        pub fn $name<T: DeserializeOwned>(
            &self,
            $arg: $ty,
            default_path: impl AsRef<Path>,
        ) -> Result<T, ConfigError> {
            self.$load($arg, default_path).map(|l| l.value)
        }
    )*};
}

impl Loader {
    /// A loader that refuses unknown keys.
    pub const fn new() -> Self {
        Loader { allow_unknown_keys: false }
    }

    /// Whether keys the configuration type does not know are accepted (and ignored).
    /// Default: `false`, they are an error.
    pub const fn allow_unknown_keys(mut self, allow: bool) -> Self {
        self.allow_unknown_keys = allow;
        self
    }

    /// Loads `path`, or `default_path` when `path` is missing or unreadable, into `T`,
    /// telling which file was used.
    ///
    /// # Errors
    /// [`ConfigError::Unusable`] when no file is usable (every path tried is named with
    /// its problem) or the file read is not valid TOML; [`ConfigError::UnknownKeys`];
    /// [`ConfigError::Invalid`] when a value does not fit `T` or breaks a rule.
    pub fn load<T: DeserializeOwned>(
        &self,
        path: impl AsRef<Path>,
        default_path: impl AsRef<Path>,
    ) -> Result<Loaded<T>, ConfigError> {
        self.load_paths(&[path.as_ref(), default_path.as_ref()])
    }

    /// Loads the file named by the environment variable `var` (falling back to
    /// `default_path` when that file is missing or unreadable), or `default_path` alone
    /// when `var` is unset or empty.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_env<T: DeserializeOwned>(
        &self,
        var: &str,
        default_path: impl AsRef<Path>,
    ) -> Result<Loaded<T>, ConfigError> {
        match std::env::var_os(var) {
            Some(path) if !path.is_empty() => self.load(PathBuf::from(path), default_path),
            _ => self.load_paths(&[default_path.as_ref()]),
        }
    }

    value_only!(from_file => load(path: impl AsRef<Path>), from_env => load_env(var: &str));

    /// Loads TOML text; `file` names it in errors.
    ///
    /// # Errors
    /// [`ConfigError::Unusable`] for a syntax error (with `file` and the position);
    /// otherwise as [`load`](Self::load).
    pub fn from_str<T: DeserializeOwned>(
        &self,
        text: &str,
        file: impl AsRef<Path>,
    ) -> Result<T, ConfigError> {
        let file = file.as_ref();
        if let Err(problem) = parse_table(text) {
            return Err(ConfigError::Unusable { attempts: vec![Attempt { path: file.to_owned(), problem }] });
        }
        self.deserialize(text, file)
    }

    fn load_paths<T: DeserializeOwned>(&self, paths: &[&Path]) -> Result<Loaded<T>, ConfigError> {
        let (path, text, skipped) = read_first(paths)?;
        let value = self.deserialize(&text, &path)?;
        Ok(Loaded { value, path, skipped })
    }

    fn deserialize<T: DeserializeOwned>(&self, text: &str, file: &Path) -> Result<T, ConfigError> {
        let mut unknown = Vec::new();
        let mut track = serde_path_to_error::Track::new();
        drop(security::take_key_error());
        let result: Result<T, toml::de::Error> = {
            let de = serde_path_to_error::Deserializer::new(toml::Deserializer::new(text), &mut track);
            serde_ignored::deserialize(de, |path| unknown.push(ignored_path(&path)))
        };
        if self.allow_unknown_keys {
            unknown.clear();
        }
        match result {
            Ok(value) if unknown.is_empty() => Ok(value),
            Ok(_) => Err(ConfigError::UnknownKeys { file: file.to_owned(), keys: unknown }),
            Err(e) => match security::take_key_error() {
                Some(source) => Err(ConfigError::KeyFile {
                    file: file.to_owned(),
                    key: error_path(&track.path()),
                    source,
                }),
                None => Err(ConfigError::Invalid {
                    file: file.to_owned(),
                    key: error_path(&track.path()),
                    position: e.span().map(|s| Position::at(text, s.start)),
                    message: one_line(e.message()),
                    unknown_keys: unknown,
                }),
            },
        }
    }
}

/// Reads `path`, or `default_path` when `path` is missing or unreadable, as a TOML
/// table (the Python library's `load_config`).
///
/// # Errors
/// [`ConfigError::Unusable`] naming every path tried and why it failed: missing,
/// permission denied, a directory, not UTF-8, or a TOML syntax error with its line
/// and column. A file that is read but broken is reported, not replaced by the default.
pub fn load_config(
    path: impl AsRef<Path>,
    default_path: impl AsRef<Path>,
) -> Result<toml::Table, ConfigError> {
    Loader::new().from_file(path, default_path)
}

/// Loads `path`, or `default_path` when `path` is missing or unreadable, into `T`;
/// unknown keys are an error (see [`Loader`] to allow them).
///
/// # Errors
/// As [`Loader::load`].
pub fn from_file<T: DeserializeOwned>(
    path: impl AsRef<Path>,
    default_path: impl AsRef<Path>,
) -> Result<T, ConfigError> {
    Loader::new().from_file(path, default_path)
}

/// Loads the file named by the environment variable `var`, or `default_path` when it is
/// unset or empty (or names a missing or unreadable file), into `T`.
///
/// # Errors
/// As [`Loader::load`].
pub fn from_env<T: DeserializeOwned>(var: &str, default_path: impl AsRef<Path>) -> Result<T, ConfigError> {
    Loader::new().from_env(var, default_path)
}

/// Loads TOML text into `T`; `file` names it in errors.
///
/// # Errors
/// As [`Loader::from_str`].
pub fn from_str<T: DeserializeOwned>(text: &str, file: impl AsRef<Path>) -> Result<T, ConfigError> {
    Loader::new().from_str(text, file)
}

/// The first usable file of `paths` (duplicates tried once): its path, its text, and
/// the files skipped before it.
fn read_first(paths: &[&Path]) -> Result<(PathBuf, String, Vec<Attempt>), ConfigError> {
    let mut attempts: Vec<Attempt> = Vec::new();
    for &path in paths {
        if attempts.iter().any(|a| a.path == path) {
            continue;
        }
        let problem = match read_text(path) {
            Ok(text) => match parse_table(&text) {
                Ok(_) => return Ok((path.to_owned(), text, attempts)),
                Err(problem) => problem,
            },
            Err(problem) => problem,
        };
        let falls_back = problem.falls_back();
        attempts.push(Attempt { path: path.to_owned(), problem });
        if !falls_back {
            break;
        }
    }
    Err(ConfigError::Unusable { attempts })
}

fn read_text(path: &Path) -> Result<String, FileProblem> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|e| FileProblem::NotUtf8 { offset: e.utf8_error().valid_up_to() }),
        Err(_) if path.is_dir() => Err(FileProblem::IsDirectory),
        Err(e) => Err(match e.kind() {
            std::io::ErrorKind::NotFound => FileProblem::Missing,
            std::io::ErrorKind::PermissionDenied => FileProblem::PermissionDenied,
            _ => FileProblem::Io(e),
        }),
    }
}

fn parse_table(text: &str) -> Result<toml::Table, FileProblem> {
    text.parse::<toml::Table>().map_err(|e| FileProblem::Syntax {
        position: Position::at(text, e.span().map_or(0, |s| s.start)),
        message: one_line(e.message()),
    })
}

/// The parser's message on one line (it may list what it expected on a second one).
fn one_line(message: &str) -> String {
    message.trim().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// Appends a key to a dotted path, quoted as TOML quotes it when it is not a bare key.
fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        out.push_str(key);
    } else {
        out.push_str(&format!("{key:?}"));
    }
}

fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    fn walk(path: &serde_ignored::Path<'_>, out: &mut String) {
        match path {
            serde_ignored::Path::Root => {}
            serde_ignored::Path::Seq { parent, index } => {
                walk(parent, out);
                out.push_str(&format!("[{index}]"));
            }
            serde_ignored::Path::Map { parent, key } => {
                walk(parent, out);
                push_key(out, key);
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => walk(parent, out),
        }
    }
    let mut out = String::new();
    walk(path, &mut out);
    out
}

fn error_path(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key } => push_key(&mut out, key),
            serde_path_to_error::Segment::Enum { variant } => push_key(&mut out, variant),
            serde_path_to_error::Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    out
}
