//! Configuration: loading with a fallback, every error with its content, unknown keys,
//! sockets described in TOML (every rule the typestate builder enforces is refused at
//! load time, naming the key and the file), TOML round trips, and configured sockets
//! exchanging messages.
//!
//! Every test writes into its own temporary directory and uses its own environment
//! variable names, so the tests run in parallel.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use experimance_common::config::{
    self, Attempt, BuildError, ConfigError, Endpoints, FileProblem, Loader, Port, Position, PublisherConfig,
    PullConfig, PushConfig, SocketRuleError, SubscriberConfig,
};
use experimance_common::socket::{EndpointProblem, Error, Operation};
use experimance_common::{Biome, DefaultPort, Era, EraChanged};
use proptest::prelude::*;
use serde::Deserialize;

mod support;
use support::READY;

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "exp-config-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct Simple {
    name: String,
    #[serde(default)]
    level: u32,
}

#[derive(Debug, Deserialize)]
struct Sockets {
    events: Option<SubscriberConfig>,
    heartbeat: Option<PublisherConfig>,
    results: Option<PushConfig>,
    requests: Option<PullConfig>,
}

#[derive(Debug, Deserialize)]
struct Service {
    #[allow(dead_code)]
    name: String,
    sockets: Sockets,
}

/// Loads `text` as a `Service` from a file and returns the error.
fn service_error(text: &str) -> (PathBuf, ConfigError, TempDir) {
    let dir = TempDir::new();
    let file = dir.write("service.toml", text);
    let err = config::from_file::<Service>(&file, dir.path("absent-default.toml")).unwrap_err();
    (file, err, dir)
}

/// Asserts `err` is `Invalid` at `key`, in `file`, with `needle` in its message, and
/// that its text names both.
fn assert_invalid(err: &ConfigError, file: &Path, key: &str, needle: &str) {
    let text = err.to_string();
    match err {
        ConfigError::Invalid { file: f, key: k, message, position, .. } => {
            assert_eq!(f, file, "{text}");
            assert_eq!(k, key, "{text}");
            assert!(message.contains(needle), "{needle:?} not in {message:?}");
            assert!(position.is_some(), "{text}");
        }
        other => panic!("expected Invalid at {key}, got {other:?}"),
    }
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains(&format!("`{key}`")), "{text}");
}

fn attempts(err: &ConfigError) -> &[Attempt] {
    match err {
        ConfigError::Unusable { attempts } => attempts,
        other => panic!("expected Unusable, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// Files and fallback

#[test]
fn the_primary_file_is_used_when_present() {
    let dir = TempDir::new();
    let primary = dir.write("a.toml", "name = \"primary\"");
    let default = dir.write("b.toml", "name = \"default\"");
    let loaded = Loader::new().load::<Simple>(&primary, &default).unwrap();
    assert_eq!(loaded.value, Simple { name: "primary".into(), level: 0 });
    assert_eq!(loaded.path, primary);
    assert!(loaded.skipped.is_empty());
}

#[test]
fn a_missing_primary_falls_back_to_the_default() {
    let dir = TempDir::new();
    let default = dir.write("default.toml", "name = \"default\"\nlevel = 3");
    let loaded = Loader::new().load::<Simple>(dir.path("missing.toml"), &default).unwrap();
    assert_eq!(loaded.value, Simple { name: "default".into(), level: 3 });
    assert_eq!(loaded.path, default);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].path, dir.path("missing.toml"));
    assert!(matches!(loaded.skipped[0].problem, FileProblem::Missing));
    assert!(loaded.skipped[0].to_string().ends_with("missing.toml: not found"), "{}", loaded.skipped[0]);
}

#[test]
fn an_unreadable_primary_falls_back_to_the_default() {
    // A directory cannot be read as a file, even by root (CI runs as root, where
    // chmod 000 does not stop reading).
    let dir = TempDir::new();
    std::fs::create_dir(dir.path("config.toml")).unwrap();
    let default = dir.write("default.toml", "name = \"default\"");
    let loaded = Loader::new().load::<Simple>(dir.path("config.toml"), &default).unwrap();
    assert_eq!(loaded.value.name, "default");
    assert!(matches!(loaded.skipped[0].problem, FileProblem::IsDirectory));
    assert!(loaded.skipped[0].to_string().contains("is a directory"));
}

#[cfg(unix)]
#[test]
fn a_file_without_read_permission_falls_back_unless_running_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    let primary = dir.write("secret.toml", "name = \"secret\"");
    std::fs::set_permissions(&primary, std::fs::Permissions::from_mode(0o000)).unwrap();
    let default = dir.write("default.toml", "name = \"default\"");
    if std::fs::read(&primary).is_ok() {
        // Root reads anything: the directory case above covers unreadable files there.
        eprintln!("running as root: chmod 000 does not stop reading, permission case skipped");
        return;
    }
    let loaded = Loader::new().load::<Simple>(&primary, &default).unwrap();
    assert_eq!(loaded.value.name, "default");
    assert!(matches!(loaded.skipped[0].problem, FileProblem::PermissionDenied));
    assert!(loaded.skipped[0].to_string().contains("permission denied"));

    // Neither usable: both named with their reasons.
    std::fs::set_permissions(&default, std::fs::Permissions::from_mode(0o000)).unwrap();
    let err = config::from_file::<Simple>(&primary, &default).unwrap_err();
    assert_eq!(attempts(&err).len(), 2);
    let text = err.to_string();
    assert!(text.contains("secret.toml: permission denied"), "{text}");
    assert!(text.contains("default.toml: permission denied"), "{text}");
}

#[test]
fn neither_file_usable_names_every_path_and_reason() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.path("default.toml")).unwrap();
    let err = config::from_file::<Simple>(dir.path("missing.toml"), dir.path("default.toml")).unwrap_err();
    let tried = attempts(&err);
    assert_eq!(tried.len(), 2);
    assert_eq!(tried[0].path, dir.path("missing.toml"));
    assert!(matches!(tried[0].problem, FileProblem::Missing));
    assert_eq!(tried[1].path, dir.path("default.toml"));
    assert!(matches!(tried[1].problem, FileProblem::IsDirectory));
    let text = err.to_string();
    assert!(text.starts_with("no usable configuration file"), "{text}");
    assert!(text.contains(&format!("{}: not found", dir.path("missing.toml").display())), "{text}");
    assert!(text.contains(&format!("{}: is a directory", dir.path("default.toml").display())), "{text}");
}

#[test]
fn a_missing_primary_and_a_broken_default_name_both_with_line_and_column() {
    let dir = TempDir::new();
    let default = dir.write("default.toml", "name = \"x\"\nlevel = 1\nbroken = \n");
    let err = config::from_file::<Simple>(dir.path("missing.toml"), &default).unwrap_err();
    let tried = attempts(&err);
    assert_eq!(tried.len(), 2);
    assert!(matches!(tried[0].problem, FileProblem::Missing));
    match &tried[1].problem {
        FileProblem::Syntax { position, message } => {
            assert_eq!(*position, Position { line: 3, column: 10 });
            assert!(!message.is_empty() && !message.contains('\n'), "{message:?}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("missing.toml: not found"), "{text}");
    assert!(text.contains("default.toml: TOML syntax error at line 3, column 10"), "{text}");
}

#[test]
fn a_syntax_error_in_the_primary_is_reported_not_replaced_by_the_default() {
    // Decision: only a missing or unreadable file falls back. A deployed config with a
    // typo must not silently run with the defaults.
    let dir = TempDir::new();
    let primary = dir.write("config.toml", "name = \"x\"\n[table\nlevel = 2\n");
    let default = dir.write("default.toml", "name = \"default\"");
    let err = config::from_file::<Simple>(&primary, &default).unwrap_err();
    let tried = attempts(&err);
    assert_eq!(tried.len(), 1, "the default is not tried: {err}");
    assert_eq!(tried[0].path, primary);
    assert!(!tried[0].problem.falls_back());
    let FileProblem::Syntax { position, .. } = &tried[0].problem else { panic!("{err:?}") };
    assert_eq!(position.line, 2);
    assert!(err.to_string().contains("config.toml: TOML syntax error at line 2, column"), "{err}");
}

#[test]
fn a_file_that_is_not_utf8_is_reported() {
    let dir = TempDir::new();
    let primary = dir.write("config.toml", b"name = \"\xff\"\n");
    let default = dir.write("default.toml", "name = \"default\"");
    let err = config::from_file::<Simple>(&primary, &default).unwrap_err();
    assert!(matches!(attempts(&err)[0].problem, FileProblem::NotUtf8 { offset: 8 }), "{err:?}");
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn the_same_path_twice_is_tried_once() {
    let dir = TempDir::new();
    let err = config::from_file::<Simple>(dir.path("x.toml"), dir.path("x.toml")).unwrap_err();
    assert_eq!(attempts(&err).len(), 1);
}

#[test]
fn load_config_returns_the_table() {
    let dir = TempDir::new();
    let default = dir.write("default.toml", "name = \"default\"\n[extra]\nanything = [1, 2]\n");
    let table = config::load_config(dir.path("missing.toml"), &default).unwrap();
    assert_eq!(table["name"].as_str(), Some("default"));
    assert_eq!(table["extra"]["anything"].as_array().map(Vec::len), Some(2));

    let err = config::load_config(dir.path("missing.toml"), dir.path("also-missing.toml")).unwrap_err();
    assert_eq!(attempts(&err).len(), 2);
}

#[test]
fn a_syntax_error_in_a_string_names_the_label() {
    let err = config::from_str::<Simple>("name = 'x\n", "inline.toml").unwrap_err();
    let tried = attempts(&err);
    assert_eq!(tried[0].path, Path::new("inline.toml"));
    assert!(err.to_string().contains("inline.toml: TOML syntax error at line 1, column"), "{err}");
}

// ---------------------------------------------------------------------------------
// Typed configuration

#[test]
fn unknown_keys_are_refused_with_their_dotted_paths() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Nested {
        name: String,
        inner: Inner,
        items: Vec<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        value: i64,
    }
    let dir = TempDir::new();
    let file = dir.write(
        "nested.toml",
        "name = \"x\"\nnmae = \"typo\"\n[inner]\nvalue = 1\nvalu = 2\n[[items]]\nvalue = 1\n[[items]]\nvalue = 2\n\"odd key\" = 3\n",
    );
    let err = config::from_file::<Nested>(&file, dir.path("default.toml")).unwrap_err();
    match &err {
        ConfigError::UnknownKeys { file: f, keys } => {
            assert_eq!(f, &file);
            assert_eq!(keys, &["nmae", "inner.valu", "items[1].\"odd key\""]);
        }
        other => panic!("expected UnknownKeys, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("nested.toml: unknown keys `nmae`, `inner.valu`, `items[1].\"odd key\"`"),
        "{text}"
    );

    // The opt-out.
    let loaded: Nested =
        Loader::new().allow_unknown_keys(true).from_file(&file, dir.path("default.toml")).unwrap();
    assert_eq!(loaded.items.len(), 2);
}

#[test]
fn a_wrong_value_names_its_key_file_and_position() {
    let dir = TempDir::new();
    let file = dir.write("c.toml", "name = \"x\"\nlevel = \"high\"\n");
    let err = config::from_file::<Simple>(&file, dir.path("d.toml")).unwrap_err();
    assert_invalid(&err, &file, "level", "expected u32");
    let ConfigError::Invalid { position, .. } = &err else { unreachable!() };
    assert_eq!(*position, Some(Position { line: 2, column: 9 }));
}

#[test]
fn a_misspelt_required_key_reports_the_unknown_key_too() {
    let err = config::from_str::<Simple>("nmae = \"x\"", "c.toml").unwrap_err();
    let ConfigError::Invalid { key, message, unknown_keys, .. } = &err else { panic!("{err:?}") };
    assert_eq!(key, "");
    assert!(message.contains("missing field `name`"), "{message}");
    assert_eq!(unknown_keys, &["nmae"]);
    assert!(err.to_string().contains("`nmae`"), "{err}");
}

#[test]
fn from_env_reads_the_path_from_the_variable() {
    let dir = TempDir::new();
    let default = dir.write("default.toml", "name = \"default\"");
    let chosen = dir.write("chosen.toml", "name = \"chosen\"");
    let var = format!("EXP_CONFIG_TEST_SET_{}", std::process::id());
    std::env::set_var(&var, &chosen);
    let s: Simple = config::from_env(&var, &default).unwrap();
    assert_eq!(s.name, "chosen");
    let loaded = Loader::new().load_env::<Simple>(&var, &default).unwrap();
    assert_eq!(loaded.path, chosen);
    std::env::remove_var(&var);
}

#[test]
fn from_env_uses_the_default_when_the_variable_is_unset_or_empty() {
    let dir = TempDir::new();
    let default = dir.write("default.toml", "name = \"default\"");
    let var = format!("EXP_CONFIG_TEST_UNSET_{}", std::process::id());
    let loaded = Loader::new().load_env::<Simple>(&var, &default).unwrap();
    assert_eq!((loaded.value.name.as_str(), loaded.skipped.len()), ("default", 0));

    let empty = format!("EXP_CONFIG_TEST_EMPTY_{}", std::process::id());
    std::env::set_var(&empty, "");
    assert_eq!(config::from_env::<Simple>(&empty, &default).unwrap().name, "default");
    std::env::remove_var(&empty);

    let err = config::from_env::<Simple>(&var, dir.path("no-default.toml")).unwrap_err();
    assert_eq!(attempts(&err).len(), 1);
}

#[test]
fn from_env_naming_a_missing_file_falls_back_to_the_default() {
    let dir = TempDir::new();
    let default = dir.write("default.toml", "name = \"default\"");
    let var = format!("EXP_CONFIG_TEST_MISSING_{}", std::process::id());
    std::env::set_var(&var, dir.path("gone.toml"));
    let loaded = Loader::new().load_env::<Simple>(&var, &default).unwrap();
    assert_eq!(loaded.value.name, "default");
    assert_eq!(loaded.skipped[0].path, dir.path("gone.toml"));
    std::env::remove_var(&var);
}

// ---------------------------------------------------------------------------------
// Sockets: the builder's rules, refused when loaded

#[test]
fn a_socket_with_both_bind_and_connect_is_refused() {
    let (file, err, _dir) = service_error(
        "name = \"s\"\n[sockets.heartbeat]\nbind = \"tcp://*:5555\"\nconnect = \"tcp://localhost:5555\"\n",
    );
    assert_invalid(&err, &file, "sockets.heartbeat", "both `bind` and `connect`");
}

#[test]
fn a_socket_with_neither_bind_nor_connect_is_refused() {
    let (file, err, _dir) = service_error("name = \"s\"\n[sockets.requests]\nreceive_timeout_ms = 10\n");
    assert_invalid(&err, &file, "sockets.requests", "neither `bind` nor `connect`");
}

#[test]
fn a_subscriber_without_topics_is_refused() {
    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.events]\nconnect = \"tcp://localhost:coordinator_pub\"\n");
    assert_invalid(&err, &file, "sockets.events", "needs `topics`");
}

#[test]
fn a_wildcard_in_connect_is_refused() {
    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.events]\nconnect = \"tcp://*:5555\"\ntopics = [\"\"]\n");
    assert_invalid(&err, &file, "sockets.events.connect", "`*` is only valid when binding");
    let ConfigError::Invalid { position, .. } = err else { unreachable!() };
    assert_eq!(position, Some(Position { line: 3, column: 11 }));

    // A wildcard host with a separate port, and in a list.
    let (file, err, _dir) = service_error(
        "name = \"s\"\n[sockets.results]\nconnect = [\"tcp://localhost:1\", \"tcp://*\"]\nport = 5556\n",
    );
    assert_invalid(&err, &file, "sockets.results.connect[1]", "`*` is only valid when binding");

    // A `*` port given by the `port` key.
    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.requests]\nconnect = \"tcp://localhost\"\nport = \"*\"\n");
    assert_invalid(&err, &file, "sockets.requests", "`port`: invalid connect endpoint \"tcp://localhost:*\"");
}

#[test]
fn a_bad_port_name_is_refused() {
    // In the endpoint.
    let (file, err, _dir) = service_error(
        "name = \"s\"\n[sockets.events]\nconnect = \"tcp://localhost:coordinater_pub\"\ntopics = [\"\"]\n",
    );
    assert_invalid(&err, &file, "sockets.events.connect", "invalid port \"coordinater_pub\"");

    // As the `port` key.
    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.heartbeat]\nbind = \"tcp://*\"\nport = \"transition_pubb\"\n");
    assert_invalid(&err, &file, "sockets.heartbeat.port", "unknown port name \"transition_pubb\"");
    assert!(err.to_string().contains("transition_pub,"), "the names are listed: {err}");

    // A number out of range.
    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.heartbeat]\nbind = \"tcp://*\"\nport = 70000\n");
    assert_invalid(&err, &file, "sockets.heartbeat.port", "70000");
}

#[test]
fn a_malformed_endpoint_is_refused() {
    for (endpoint, needle) in [
        ("localhost:5555", "missing transport"),
        ("udp://localhost:5555", "unknown transport"),
        ("tcp://:5555", "empty host"),
        ("ipc://", "empty address"),
    ] {
        let (file, err, _dir) =
            service_error(&format!("name = \"s\"\n[sockets.results]\nconnect = \"{endpoint}\"\n"));
        assert_invalid(&err, &file, "sockets.results.connect", needle);
    }
    let (file, err, _dir) = service_error("name = \"s\"\n[sockets.results]\nbind = []\n");
    assert_invalid(&err, &file, "sockets.results.bind", "empty list");
}

#[test]
fn a_port_missing_or_given_twice_is_refused() {
    let (file, err, _dir) = service_error("name = \"s\"\n[sockets.results]\nconnect = \"tcp://localhost\"\n");
    assert_invalid(&err, &file, "sockets.results", "has no port");

    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.results]\nconnect = \"tcp://localhost:5556\"\nport = 5556\n");
    assert_invalid(&err, &file, "sockets.results", "already has a port");

    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.results]\nconnect = \"ipc:///tmp/x\"\nport = 1\n");
    assert_invalid(&err, &file, "sockets.results", "not a tcp endpoint");
}

#[test]
fn a_topic_with_a_space_is_refused() {
    let (file, err, _dir) =
        service_error("name = \"s\"\n[sockets.heartbeat]\nbind = \"tcp://*:1\"\ntopic = \"heart beat\"\n");
    assert_invalid(&err, &file, "sockets.heartbeat.topic", "contains a space");

    let (file, err, _dir) = service_error(
        "name = \"s\"\n[sockets.events]\nconnect = \"tcp://h:1\"\nexact_topics = [\"ok\", \"not ok\"]\n",
    );
    assert_invalid(&err, &file, "sockets.events.exact_topics", "contains a space");
}

#[test]
fn a_misspelt_socket_key_is_an_unknown_key() {
    let (file, err, _dir) = service_error(
        "name = \"s\"\n[sockets.heartbeat]\nbind = \"tcp://*:1\"\nsend_timout_ms = 10\n[sockets.requests]\nconnect = \"tcp://h:1\"\n",
    );
    let ConfigError::UnknownKeys { file: f, keys } = &err else { panic!("{err:?}") };
    assert_eq!((f, keys.as_slice()), (&file, &["sockets.heartbeat.send_timout_ms".to_owned()][..]));
    // A key that only another kind of socket has is unknown too.
    let (_, err, _dir) =
        service_error("name = \"s\"\n[sockets.requests]\nconnect = \"tcp://h:1\"\ntopic = \"x\"\n");
    assert!(err.to_string().contains("`sockets.requests.topic`"), "{err}");
}

// ---------------------------------------------------------------------------------
// Sockets: what is accepted

#[test]
fn default_ports_by_name_in_the_endpoint_or_as_a_key() {
    let text = r#"
        name = "s"
        [sockets.heartbeat]
        bind = "tcp://*"
        port = "coordinator_pub"
        [sockets.events]
        connect = "tcp://localhost:transition_pub"
        topics = [""]
        [sockets.results]
        connect = ["tcp://localhost", "tcp://10.0.0.2"]
        port = 5556
        [sockets.requests]
        bind = "tcp://127.0.0.1"
        port = "*"
    "#;
    let s: Service = config::from_str(text, "ports.toml").unwrap();
    let ends = |r: Vec<experimance_common::socket::Endpoint>| -> Vec<String> {
        r.iter().map(|e| e.as_str().to_owned()).collect()
    };
    let sockets = s.sockets;
    let heartbeat = sockets.heartbeat.unwrap();
    assert_eq!(heartbeat.port, Some(Port::Named(DefaultPort::CoordinatorPub)));
    assert_eq!(ends(heartbeat.endpoints().unwrap()), ["tcp://*:5555"]);
    assert_eq!(ends(sockets.events.unwrap().endpoints().unwrap()), ["tcp://localhost:5557"]);
    assert_eq!(
        ends(sockets.results.unwrap().endpoints().unwrap()),
        ["tcp://localhost:5556", "tcp://10.0.0.2:5556"]
    );
    assert_eq!(ends(sockets.requests.unwrap().endpoints().unwrap()), ["tcp://127.0.0.1:*"]);
}

#[test]
fn every_key_is_read() {
    let text = r#"
        bind = ["tcp://127.0.0.1:*", "inproc://every-key"]
        topic = "status"
        lossless = true
        send_timeout_ms = 1
        receive_timeout_ms = 2
        linger_ms = 3
        send_hwm = 4
        receive_hwm = 5
        conflate = false
        heartbeat_interval_ms = 0
        heartbeat_timeout_ms = 7
        heartbeat_ttl_ms = 8
        reconnect_interval_ms = 9
        reconnect_interval_max_ms = 10
        immediate = true
        max_message_size = 11
        tcp_max_retransmit_ms = 12
        tcp_keepalive_ms = 13000
    "#;
    let cfg: PublisherConfig = config::from_str(text, "every.toml").unwrap();
    let expected = PublisherConfig {
        bind: Some(Endpoints::Many(vec!["tcp://127.0.0.1:*".into(), "inproc://every-key".into()])),
        topic: Some("status".into()),
        lossless: Some(true),
        send_timeout_ms: Some(1),
        receive_timeout_ms: Some(2),
        linger_ms: Some(3),
        send_hwm: Some(4),
        receive_hwm: Some(5),
        conflate: Some(false),
        heartbeat_interval_ms: Some(0),
        heartbeat_timeout_ms: Some(7),
        heartbeat_ttl_ms: Some(8),
        reconnect_interval_ms: Some(9),
        reconnect_interval_max_ms: Some(10),
        immediate: Some(true),
        max_message_size: Some(11),
        tcp_max_retransmit_ms: Some(12),
        tcp_keepalive_ms: Some(13000),
        ..PublisherConfig::default()
    };
    assert_eq!(cfg, expected);
    let publisher = cfg.build().unwrap();
    assert_eq!(publisher.topic(), "status");
    assert_eq!(publisher.endpoints().len(), 2);
}

#[test]
fn the_shipped_example_configuration_loads() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Worker {
        service: toml::Table,
        sockets: WorkerSockets,
    }
    #[derive(Debug, Deserialize)]
    struct WorkerSockets {
        events: SubscriberConfig,
        requests: PullConfig,
        results: PushConfig,
        heartbeat: PublisherConfig,
    }
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config/transition_worker.toml");
    let w: Worker = config::from_file(&shipped, &shipped).unwrap();
    let first = |e: Vec<experimance_common::socket::Endpoint>| e[0].as_str().to_owned();
    assert_eq!(first(w.sockets.events.endpoints().unwrap()), "tcp://localhost:5555");
    assert_eq!(first(w.sockets.requests.endpoints().unwrap()), "tcp://localhost:5558");
    assert_eq!(first(w.sockets.results.endpoints().unwrap()), "tcp://localhost:5556");
    assert_eq!(first(w.sockets.heartbeat.endpoints().unwrap()), "tcp://*:5557");
}

#[test]
fn a_config_made_in_code_is_checked_when_built() {
    let err = PublisherConfig::default().build().unwrap_err();
    assert!(matches!(err, BuildError::Rule(SocketRuleError::NoEndpoint)), "{err:?}");

    let both = PushConfig {
        bind: Some("tcp://*:1".into()),
        connect: Some("tcp://localhost:1".into()),
        ..PushConfig::default()
    };
    assert_eq!(both.validate(), Err(SocketRuleError::BindAndConnect));

    let no_topics =
        SubscriberConfig { connect: Some("tcp://localhost:1".into()), ..SubscriberConfig::default() };
    assert!(matches!(no_topics.build(), Err(BuildError::Rule(SocketRuleError::NoTopics))));

    let wildcard = PullConfig {
        connect: Some(vec!["tcp://h:1".into(), "tcp://*:1".into()].into()),
        ..PullConfig::default()
    };
    match wildcard.validate() {
        Err(SocketRuleError::Endpoint { key, error }) => {
            assert_eq!(key, "connect[1]");
            assert_eq!(error.problem, EndpointProblem::WildcardInConnect);
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// Configured sockets at work

#[test]
fn a_configured_publisher_and_subscriber_exchange_a_message() {
    let publisher_cfg: PublisherConfig = config::from_str(
        "bind = \"tcp://127.0.0.1:*\"\ntopic = \"era\"\nlinger_ms = 200\n",
        "publisher.toml",
    )
    .unwrap();
    let mut publisher = publisher_cfg.build().unwrap();
    let subscriber_cfg: SubscriberConfig = config::from_str(
        &format!(
            "connect = \"{}\"\nexact_topics = [\"era\"]\nreceive_timeout_ms = 2000\n",
            publisher.endpoint()
        ),
        "subscriber.toml",
    )
    .unwrap();
    let mut subscriber = subscriber_cfg.build().unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();
    let sent = EraChanged { era: Era::AiFuture, biome: Biome::Tundra };
    publisher.publish(&sent).unwrap();
    let (topic, got): (experimance_common::Topic, EraChanged) = subscriber.receive().unwrap();
    assert_eq!((topic.as_str(), got), ("era", sent));
}

#[test]
fn configured_push_and_pull_exchange_a_message_and_apply_their_timeouts() {
    let pull_cfg: PullConfig =
        config::from_str("bind = \"tcp://127.0.0.1:*\"\nreceive_timeout_ms = 150\n", "pull.toml").unwrap();
    let mut pull = pull_cfg.build().unwrap();

    // The configured receive timeout bounds a pull with nothing to pull.
    let start = Instant::now();
    let err = pull.pull::<EraChanged>().unwrap_err();
    assert!(
        matches!(err, Error::Timeout { op: Operation::Pull, after } if after == Duration::from_millis(150)),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(1));

    let push_cfg: PushConfig = config::from_str(
        &format!("connect = [\"{}\"]\nsend_timeout_ms = 1000\n", pull.endpoint()),
        "push.toml",
    )
    .unwrap();
    let mut push = push_cfg.build().unwrap();
    push.wait_connected(READY).unwrap();
    let sent = EraChanged { era: Era::Modern, biome: Biome::Desert };
    push.push(&sent).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), sent);
}

// ---------------------------------------------------------------------------------
// Round trips: any socket configuration written with toml::to_string loads back equal

fn bind_endpoint() -> BoxedStrategy<String> {
    prop_oneof![
        Just("tcp://*:5555".to_owned()),
        Just("tcp://127.0.0.1:*".to_owned()),
        Just("tcp://*:coordinator_pub".to_owned()),
        (1u16..).prop_map(|p| format!("tcp://0.0.0.0:{p}")),
        "[a-z][a-z0-9_-]{0,12}".prop_map(|n| format!("inproc://{n}")),
        "[a-z][a-z0-9_/-]{0,12}".prop_map(|n| format!("ipc:///tmp/{n}")),
    ]
    .boxed()
}

fn connect_endpoint() -> BoxedStrategy<String> {
    prop_oneof![
        Just("tcp://localhost:coordinator_pub".to_owned()),
        ("[a-z][a-z0-9.-]{0,12}", 1u16..).prop_map(|(h, p)| format!("tcp://{h}:{p}")),
        (proptest::sample::select(DefaultPort::ALL), "[a-z]{1,8}")
            .prop_map(|(p, h)| format!("tcp://{h}:{}", p.as_str())),
        Just("tcp://[::1]:5555".to_owned()),
        "[a-z][a-z0-9_-]{0,12}".prop_map(|n| format!("inproc://{n}")),
    ]
    .boxed()
}

fn endpoints(one: BoxedStrategy<String>) -> impl Strategy<Value = Endpoints> {
    prop_oneof![
        one.clone().prop_map(Endpoints::One),
        proptest::collection::vec(one, 1..4).prop_map(Endpoints::Many)
    ]
}

/// `(bind, connect, port)`: exactly one of bind and connect; with `port`, hosts only.
fn endpoint_keys() -> impl Strategy<Value = (Option<Endpoints>, Option<Endpoints>, Option<Port>)> {
    let named = proptest::sample::select(DefaultPort::ALL).prop_map(Port::Named);
    let connect_port = prop_oneof![(1u16..).prop_map(Port::Number), named.clone()];
    let bind_port = prop_oneof![(0u16..).prop_map(Port::Number), named, Just(Port::Any)];
    let bind_host = proptest::sample::select(vec!["tcp://*", "tcp://127.0.0.1", "tcp://[::1]", "tcp://eth0"])
        .prop_map(str::to_owned)
        .boxed();
    let connect_host = proptest::sample::select(vec!["tcp://localhost", "tcp://10.0.0.1", "tcp://[::1]"])
        .prop_map(str::to_owned)
        .boxed();
    prop_oneof![
        endpoints(bind_endpoint()).prop_map(|b| (Some(b), None, None)),
        endpoints(connect_endpoint()).prop_map(|c| (None, Some(c), None)),
        (endpoints(bind_host), bind_port).prop_map(|(b, p)| (Some(b), None, Some(p))),
        (endpoints(connect_host), connect_port).prop_map(|(c, p)| (None, Some(c), Some(p))),
    ]
}

/// The common options, each set or not.
#[derive(Debug, Clone)]
struct Options {
    ms: [Option<u64>; 8],
    hwm: [Option<u32>; 2],
    flags: [Option<bool>; 2],
    max_message_size: Option<u64>,
}

fn options() -> impl Strategy<Value = Options> {
    let ms = proptest::option::of(0u64..=i64::MAX as u64);
    (
        proptest::array::uniform8(ms.clone()),
        proptest::array::uniform2(proptest::option::of(any::<u32>())),
        proptest::array::uniform2(proptest::option::of(any::<bool>())),
        ms,
    )
        .prop_map(|(ms, hwm, flags, max_message_size)| Options { ms, hwm, flags, max_message_size })
}

macro_rules! with_options {
    ($cfg:expr, $o:expr) => {{
        let mut c = $cfg;
        let o = $o;
        [
            c.send_timeout_ms,
            c.receive_timeout_ms,
            c.linger_ms,
            c.heartbeat_interval_ms,
            c.heartbeat_timeout_ms,
            c.heartbeat_ttl_ms,
            c.reconnect_interval_ms,
            c.reconnect_interval_max_ms,
        ] = o.ms;
        [c.send_hwm, c.receive_hwm] = o.hwm;
        [c.conflate, c.immediate] = o.flags;
        c.max_message_size = o.max_message_size;
        c
    }};
}

fn publisher_config() -> impl Strategy<Value = PublisherConfig> {
    (endpoint_keys(), proptest::option::of("[!-~]{0,12}"), proptest::option::of(any::<bool>()), options())
        .prop_map(|((bind, connect, port), topic, lossless, o)| {
            with_options!(PublisherConfig { bind, connect, port, topic, lossless, ..Default::default() }, o)
        })
}

fn subscriber_config() -> impl Strategy<Value = SubscriberConfig> {
    let prefixes = proptest::collection::vec("\\PC{0,8}", 0..3);
    let exact = proptest::collection::vec("[!-~]{0,8}", 0..3);
    (endpoint_keys(), prefixes, exact, options()).prop_map(
        |((bind, connect, port), mut topics, exact_topics, o)| {
            if topics.is_empty() && exact_topics.is_empty() {
                topics.push(String::new());
            }
            with_options!(
                SubscriberConfig { bind, connect, port, topics, exact_topics, ..Default::default() },
                o
            )
        },
    )
}

fn push_config() -> impl Strategy<Value = PushConfig> {
    (endpoint_keys(), options()).prop_map(|((bind, connect, port), o)| {
        with_options!(PushConfig { bind, connect, port, ..Default::default() }, o)
    })
}

fn pull_config() -> impl Strategy<Value = PullConfig> {
    (endpoint_keys(), options()).prop_map(|((bind, connect, port), o)| {
        with_options!(PullConfig { bind, connect, port, ..Default::default() }, o)
    })
}

proptest! {
    #[test]
    fn publisher_configs_round_trip(cfg in publisher_config()) {
        cfg.validate().unwrap();
        let text = toml::to_string(&cfg).unwrap();
        let back: PublisherConfig = config::from_str(&text, "publisher.toml").unwrap();
        prop_assert_eq!(back, cfg, "{}", text);
    }

    #[test]
    fn subscriber_configs_round_trip(cfg in subscriber_config()) {
        cfg.validate().unwrap();
        let text = toml::to_string(&cfg).unwrap();
        let back: SubscriberConfig = config::from_str(&text, "subscriber.toml").unwrap();
        prop_assert_eq!(back, cfg, "{}", text);
    }

    #[test]
    fn push_configs_round_trip(cfg in push_config()) {
        cfg.validate().unwrap();
        let text = toml::to_string(&cfg).unwrap();
        let back: PushConfig = config::from_str(&text, "push.toml").unwrap();
        prop_assert_eq!(back, cfg, "{}", text);
    }

    #[test]
    fn pull_configs_round_trip(cfg in pull_config()) {
        cfg.validate().unwrap();
        let text = toml::to_string(&cfg).unwrap();
        let back: PullConfig = config::from_str(&text, "pull.toml").unwrap();
        prop_assert_eq!(back, cfg, "{}", text);
    }

    /// Nested in a service's file, as `[sockets.NAME]` tables.
    #[test]
    fn nested_socket_configs_round_trip(
        events in subscriber_config(),
        heartbeat in publisher_config(),
        results in push_config(),
        requests in pull_config(),
    ) {
        #[derive(Debug, PartialEq, serde::Serialize, Deserialize)]
        struct All { sockets: AllSockets }
        #[derive(Debug, PartialEq, serde::Serialize, Deserialize)]
        struct AllSockets {
            events: SubscriberConfig,
            heartbeat: PublisherConfig,
            results: PushConfig,
            requests: PullConfig,
        }
        let all = All { sockets: AllSockets { events, heartbeat, results, requests } };
        let text = toml::to_string(&all).unwrap();
        let back: All = config::from_str(&text, "service.toml").unwrap();
        prop_assert_eq!(back, all, "{}", text);
    }
}

// ---------------------------------------------------------------------------------
// [sockets.NAME.security]

/// A TOML string holding `path`.
fn toml_path(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

/// Waits (bounded) until `count()` reaches `n`; the count is read from the socket's
/// monitor, which may lag the refused client's error by one event.
fn wait_count(mut count: impl FnMut() -> u64, n: u64) -> u64 {
    let deadline = Instant::now() + READY;
    loop {
        let c = count();
        if c >= n || Instant::now() > deadline {
            return c;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn configured_curve_server_and_client_talk_and_a_stranger_is_refused() {
    use experimance_common::security::CurveKeyPair;
    let dir = TempDir::new();
    let clients = dir.0.join("clients");
    std::fs::create_dir_all(&clients).unwrap();
    CurveKeyPair::generate().unwrap().save(&dir.0, "server").unwrap();
    CurveKeyPair::generate().unwrap().save(&clients, "worker").unwrap();
    CurveKeyPair::generate().unwrap().save(&dir.0, "stranger").unwrap();

    #[derive(Debug, Deserialize)]
    struct Server {
        sockets: ServerSockets,
    }
    #[derive(Debug, Deserialize)]
    struct ServerSockets {
        tasks: PushConfig,
    }
    let server_text = format!(
        "[sockets.tasks]\nbind = \"tcp://127.0.0.1:*\"\n[sockets.tasks.security]\nmechanism = \"curve\"\n\
         secret_key = {}\nallow_keys_dir = {}\nallow = [\"127.0.0.0/8\"]\n",
        toml_path(&dir.0.join("server.key")),
        toml_path(&clients),
    );
    let server: Server = config::from_str(&server_text, "server.toml").unwrap();
    let mut push = server.sockets.tasks.build().unwrap();

    let endpoint = push.endpoint();
    let client_text = |secret: &Path| {
        format!(
            "connect = \"{}\"\nreceive_timeout_ms = 5000\n[security]\nmechanism = \"curve\"\n\
             server_key = {}\nsecret_key = {}\n",
            endpoint,
            toml_path(&dir.0.join("server.pub")),
            toml_path(secret),
        )
    };
    let worker: PullConfig =
        config::from_str(&client_text(&clients.join("worker.key")), "worker.toml").unwrap();
    let mut pull = worker.build().unwrap();
    pull.wait_connected(READY).unwrap();
    push.wait_connected(READY).unwrap();
    let sent = EraChanged { era: Era::AiFuture, biome: Biome::Coastal };
    push.push(&sent).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), sent);

    // A client whose key is not in clients/ is refused, with a typed error, and the
    // server counts it.
    let stranger: PullConfig =
        config::from_str(&client_text(&dir.0.join("stranger.key")), "stranger.toml").unwrap();
    let mut stranger = stranger.build().unwrap();
    let refused = stranger.wait_connected(READY);
    assert!(matches!(refused, Err(Error::AuthFailed { status: 400 })), "{refused:?}");
    assert_eq!(wait_count(|| push.auth_failures(), 1), 1);
    assert_eq!(push.peer_count(), 1);
}

#[test]
fn a_missing_key_file_is_a_typed_error_naming_its_path() {
    use experimance_common::security::KeyError;
    let dir = TempDir::new();
    let missing = dir.0.join("nowhere").join("server.key");
    let text = format!(
        "[sockets.tasks]\nbind = \"tcp://127.0.0.1:*\"\n[sockets.tasks.security]\nmechanism = \"curve\"\nsecret_key = {}\n",
        toml_path(&missing)
    );
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Service {
        sockets: std::collections::BTreeMap<String, PushConfig>,
    }
    let err = config::from_str::<Service>(&text, "svc.toml").unwrap_err();
    match &err {
        ConfigError::KeyFile { file, key, source: KeyError::Io { path, .. } } => {
            assert_eq!(file, Path::new("svc.toml"));
            assert_eq!(key, "sockets.tasks.security");
            assert_eq!(path, &missing);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");

    // A missing allowlist directory too.
    let server = dir.write("server.key", "");
    std::fs::remove_file(&server).unwrap();
    experimance_common::security::CurveKeyPair::generate().unwrap().save(&dir.0, "server").unwrap();
    let no_dir = dir.0.join("no-clients");
    let text = format!(
        "bind = \"tcp://127.0.0.1:*\"\n[security]\nmechanism = \"curve\"\nsecret_key = {}\nallow_keys_dir = {}\n",
        toml_path(&server),
        toml_path(&no_dir)
    );
    match config::from_str::<PushConfig>(&text, "svc.toml").unwrap_err() {
        ConfigError::KeyFile { source: KeyError::Io { path, .. }, .. } => assert_eq!(path, no_dir),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_malformed_key_file_is_a_typed_error_naming_its_path() {
    use experimance_common::security::{KeyError, KeyFileProblem};
    let dir = TempDir::new();
    let bad = dir.write("server.pub", "curve\n    public-key = \"not a z85 key\"\n");
    let own = dir.write("client.key", "# no keys at all\n");
    let text = format!(
        "connect = \"tcp://127.0.0.1:5555\"\n[security]\nmechanism = \"curve\"\nserver_key = {}\nsecret_key = {}\n",
        toml_path(&bad),
        toml_path(&own)
    );
    let err = config::from_str::<PullConfig>(&text, "client.toml").unwrap_err();
    match &err {
        ConfigError::KeyFile { key, source: KeyError::KeyFile { path, problem }, .. } => {
            assert_eq!(key, "security");
            assert_eq!(path, &bad);
            assert!(matches!(problem, KeyFileProblem::BadKey { line: 2, .. }), "{problem:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&bad.display().to_string()), "{err}");
}

#[test]
fn security_tables_that_break_a_rule_name_the_key() {
    let cases = [
        ("mechanism = \"curve\"\n", "`secret_key` is missing"),
        ("mechanism = \"plain\"\nuser = \"u\"\n", "`password` is missing"),
        ("mechanism = \"plain\"\n", "`users` is missing"),
        (
            "mechanism = \"plain\"\nuser = \"u\"\npassword = \"p\"\nallow = [\"10.0.0.0/8\"]\n",
            "`allow` is for servers",
        ),
        ("secret_key = \"x.key\"\n", "`secret_key` needs mechanism = \"curve\""),
        ("allow = [\"10.0.0.300/8\"]\n", "`allow[0]`"),
        ("mechanism = \"rsa\"\n", "unknown variant `rsa`"),
    ];
    for (table, expected) in cases {
        let text = format!("bind = \"tcp://127.0.0.1:*\"\n[security]\n{table}");
        let err = config::from_str::<PullConfig>(&text, "rules.toml").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{table}: {err:?}");
        assert!(err.to_string().contains(expected), "{table}: {err}");
    }
    // IP rules alone work without encryption; a typo is still an unknown key.
    let ok: PullConfig =
        config::from_str("bind = \"tcp://127.0.0.1:*\"\n[security]\ndeny = [\"10.0.0.0/8\"]\n", "ip.toml")
            .unwrap();
    assert_eq!(ok.security.unwrap().deny, ["10.0.0.0/8"]);
    let err =
        config::from_str::<PullConfig>("bind = \"tcp://127.0.0.1:*\"\n[security]\nalow = []\n", "t.toml");
    assert!(matches!(err, Err(ConfigError::UnknownKeys { .. })), "{err:?}");
}

#[test]
fn configured_plain_and_ip_policies_admit_and_refuse() {
    let server: PushConfig = config::from_str(
        "bind = \"tcp://127.0.0.1:*\"\n[security]\nmechanism = \"plain\"\nusers = { display = \"sand-table\" }\n",
        "plain.toml",
    )
    .unwrap();
    let mut push = server.build().unwrap();
    let endpoint = push.endpoint();
    let client = |password: &str| -> PullConfig {
        let text = format!(
            "connect = \"{endpoint}\"\n[security]\nmechanism = \"plain\"\nuser = \"display\"\npassword = \"{password}\"\n"
        );
        config::from_str(&text, "client.toml").unwrap()
    };
    let mut good = client("sand-table").build().unwrap();
    good.wait_connected(READY).unwrap();
    let mut wrong = client("guess").build().unwrap();
    assert!(matches!(wrong.wait_connected(READY), Err(Error::AuthFailed { .. })));
    assert_eq!(wait_count(|| push.auth_failures(), 1), 1);

    // Denied by address, with no mechanism at all.
    let server: PushConfig =
        config::from_str("bind = \"tcp://127.0.0.1:*\"\n[security]\ndeny = [\"127.0.0.0/8\"]\n", "ip.toml")
            .unwrap();
    let mut push = server.build().unwrap();
    let mut denied =
        PullConfig { connect: Some(push.endpoint().into()), ..PullConfig::default() }.build().unwrap();
    assert!(matches!(denied.wait_connected(READY), Err(Error::AuthFailed { .. })));
    assert_eq!(wait_count(|| push.auth_failures(), 1), 1);
}
