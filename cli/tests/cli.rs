//! End-to-end tests of the `exbus` binary: real processes over tcp loopback on free ports.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

fn exbus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exbus"))
}

/// Spawns `exbus ARGS` and returns it with the endpoint it reports on stderr
/// ("exbus: <verb> on <endpoint>"); the rest of stderr is collected.
fn spawn_bound(args: &[&str]) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = exbus().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("the bound side reports its endpoint");
    let endpoint = line.rsplit(' ').next().unwrap().to_owned();
    assert!(endpoint.starts_with("tcp://127.0.0.1:"), "{line}");
    (child, endpoint, rx)
}

/// Waits for a child with a bound, killing it if it hangs.
fn finish(mut child: Child, limit: Duration) -> Output {
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("exbus did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdout = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    Output { status: child.wait().unwrap(), stdout, stderr: Vec::new() }
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object per line: {l:?}: {e}"))
        })
        .collect()
}

#[test]
fn publish_then_listen_json() {
    let msg = r#"{"type": "EraChanged", "era": "modern", "biome": "tundra"}"#;
    let (publisher, endpoint, _err) = spawn_bound(&[
        "publish",
        "@tcp://127.0.0.1:*",
        "--topic",
        "events",
        "--wait-subscribers",
        "1",
        "--count",
        "3",
        "--strict",
        msg,
    ]);
    let listen = exbus()
        .args([
            "listen",
            &format!(">{endpoint}"),
            "--topic",
            "events",
            "--json",
            "--count",
            "3",
            "--timeout",
            "20",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish(listen, Duration::from_secs(30));
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    for line in lines {
        assert_eq!(
            line,
            json!({"topic": "events", "type": "EraChanged", "message": {"type": "EraChanged", "era": "modern", "biome": "tundra"}})
        );
    }
    assert!(finish(publisher, Duration::from_secs(30)).status.success());
}

#[test]
fn push_then_pull_json_from_stdin_lines() {
    let (mut pusher, endpoint, _err) = {
        let mut child = exbus()
            .args(["push", "@tcp://127.0.0.1:*", "--wait-peers", "1", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            r#"{{"type": "RenderRequest", "id": "task-1", "parameters": {{"resolution": [800, 600]}}}}"#
        )
        .unwrap();
        writeln!(stdin, r#"{{"type": "IdleStatus", "status": true}}"#).unwrap();
        drop(stdin);
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        (child, line.rsplit(' ').next().unwrap().to_owned(), rx)
    };
    let pull = exbus()
        .args(["pull", &endpoint, "--json", "--count", "2", "--timeout", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish(pull, Duration::from_secs(30));
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(
        lines,
        [
            json!({"type": "RenderRequest", "message": {"type": "RenderRequest", "id": "task-1", "parameters": {"resolution": [800, 600]}}}),
            json!({"type": "IdleStatus", "message": {"type": "IdleStatus", "status": true}}),
        ]
    );
    assert!(pusher.wait().unwrap().success());
}

#[test]
fn strict_rejects_a_missing_field_and_sends_nothing() {
    let (listener, endpoint, _err) =
        spawn_bound(&["listen", "@tcp://127.0.0.1:*", "--json", "--timeout", "1.5"]);
    let out = exbus()
        .args(["publish", &format!(">{endpoint}"), "--strict", r#"{"type": "EraChanged", "era": "modern"}"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("biome"), "the error names the missing field: {err}");
    let heard = finish(listener, Duration::from_secs(20));
    assert_eq!(heard.status.code(), Some(3), "the listener heard nothing and timed out");
    assert!(heard.stdout.is_empty(), "nothing was sent: {:?}", String::from_utf8_lossy(&heard.stdout));
}

#[test]
fn invalid_json_and_non_objects_are_rejected_before_sending() {
    let (puller, endpoint, _err) = spawn_bound(&["pull", "@tcp://127.0.0.1:*", "--json", "--timeout", "1.5"]);
    for bad in [r#"{"type": "Idle"#, "[1, 2]", "\"text\""] {
        let out = exbus().args(["push", &format!(">{endpoint}"), bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("JSON"), "{err}");
    }
    let heard = finish(puller, Duration::from_secs(20));
    assert_eq!(heard.status.code(), Some(3));
    assert!(heard.stdout.is_empty());
}

#[test]
fn timeout_exit_code_is_3() {
    let start = std::time::Instant::now();
    let out = exbus().args(["pull", ">tcp://127.0.0.1:1", "--timeout", "0.3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no message"));
}

#[test]
fn bad_endpoints_are_usage_errors() {
    for (args, needle) in [
        (vec!["listen", "tcp://*:5555"], "`*` is only valid when binding"),
        (vec!["pull", "udp://host:1"], "unknown transport"),
        (vec!["listen", "tcp://localhost:no_such_port"], "invalid port"),
    ] {
        let out = exbus().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle), "{args:?}: {:?}", out);
    }
}

#[test]
fn undecodable_frames_are_printed_with_their_bytes() {
    let (listener, endpoint, _err) =
        spawn_bound(&["listen", "@tcp://127.0.0.1:*", "--json", "--count", "2", "--timeout", "20"]);
    // A frame with no JSON after the topic, then a good one; both must be printed.
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::XPUB).unwrap();
    publisher.connect(&endpoint).unwrap();
    let mut subscription = zmq::Message::new();
    publisher.recv(&mut subscription, 0).unwrap();
    publisher.send("news {broken", 0).unwrap();
    publisher.send(r#"news {"type": "IdleStatus", "status": false}"#, 0).unwrap();
    let out = finish(listener, Duration::from_secs(30));
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["topic"], "news");
    assert_eq!(lines[0]["raw"], "news {broken");
    assert!(lines[0]["error"].as_str().unwrap().contains("JSON"), "{}", lines[0]);
    assert_eq!(lines[1]["type"], "IdleStatus");
}

#[test]
fn types_and_ports() {
    let out = exbus().args(["types", "--json"]).output().unwrap();
    assert!(out.status.success());
    let types: Value = serde_json::from_slice(&out.stdout).unwrap();
    let render = types.as_array().unwrap().iter().find(|t| t["type"] == "RenderRequest").unwrap();
    let fields: Vec<&str> =
        render["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(fields, ["request_id", "era", "biome", "prompt", "depth_map_png"]);
    let out = exbus().args(["ports", "--json"]).output().unwrap();
    let ports: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ports["coordinator_pub"], 5555);
    assert_eq!(ports.as_object().unwrap().len(), 14);
}

#[test]
fn every_command_has_help() {
    for cmd in ["listen", "publish", "push", "pull", "types", "ports", "hz", "demo"] {
        let out = exbus().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: exbus"), "{cmd}");
    }
}

#[test]
fn demo_runs_with_zero_loss() {
    let out = exbus().args(["demo", "--seconds", "2"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let mut rows = 0;
    for line in stdout.lines().filter(|l| l.contains("PUSH/PULL") || l.contains("PUB/SUB")) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (sent, received, lost): (u64, u64, u64) = (
            cols[cols.len() - 4].parse().unwrap(),
            cols[cols.len() - 3].parse().unwrap(),
            cols[cols.len() - 2].parse().unwrap(),
        );
        assert!(sent > 0, "{line}");
        assert_eq!((received, lost), (sent, 0), "{line}");
        rows += 1;
    }
    assert_eq!(rows, 4, "{stdout}");
}

#[test]
fn hz_reports_rate_and_sizes_per_topic() {
    let (hz, endpoint, _err) = spawn_bound(&["hz", "@tcp://127.0.0.1:*", "--seconds", "2.5"]);
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::XPUB).unwrap();
    publisher.connect(&endpoint).unwrap();
    let mut subscription = zmq::Message::new();
    publisher.recv(&mut subscription, 0).unwrap();
    let short = r#"a {"type": "IdleStatus", "status": true}"#;
    let long = r#"bb {"type": "Heartbeat", "timestamp": 1.0, "service": "core"}"#;
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        publisher.send(short, 0).unwrap();
        publisher.send(long, 0).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = finish(hz, Duration::from_secs(20));
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    // The summary at exit: one row per topic and type, columns found by their header.
    let summary = text.split("summary: ").nth(1).unwrap_or_else(|| panic!("no summary: {text}"));
    let header = summary.lines().nth(1).unwrap();
    let col = |name: &str| {
        let start = header.find(name).unwrap_or_else(|| panic!("no {name} column: {header}"));
        header[..start].split("  ").filter(|c| !c.trim().is_empty()).count()
    };
    let (msgs, min, avg, max, rate, bytes_rate, gap_std) = (
        col("msgs"),
        col("min B"),
        col("avg B"),
        col("max B"),
        col("rate/s"),
        col("bytes/s"),
        col("gap std ms"),
    );
    for (topic, type_name, len) in [("a", "IdleStatus", short.len()), ("bb", "Heartbeat", long.len())] {
        let row = summary
            .lines()
            .find(|l| l.split_whitespace().next() == Some(topic))
            .unwrap_or_else(|| panic!("{text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[1], type_name, "{row}");
        let total: u64 = cols[msgs].parse().unwrap();
        assert!(total > 10, "{row}");
        assert_eq!(
            [cols[min], cols[avg], cols[max]],
            [len.to_string(), len.to_string(), len.to_string()],
            "{row}"
        );
        let per_s: f64 = cols[rate].parse().unwrap();
        let bytes_per_s: f64 = cols[bytes_rate].parse().unwrap();
        assert!((bytes_per_s - per_s * len as f64).abs() <= per_s * len as f64 * 0.02 + 1.0, "{row}");
        let std: f64 = cols[gap_std].parse().unwrap();
        assert!(std >= 0.0, "{row}");
    }
}

#[test]
fn hz_says_no_messages_when_quiet_and_ends_with_a_summary() {
    let (hz, _endpoint, _err) = spawn_bound(&["hz", "@tcp://127.0.0.1:*", "--seconds", "1500ms"]);
    let out = finish(hz, Duration::from_secs(20));
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("no messages for"), "{text}");
    assert!(!text.contains("topic"), "no empty table: {text}");
    assert!(text.contains("summary: 0 message(s)"), "{text}");
}

/// Every character of `bytes` that a terminal would act on: C0 controls but the line
/// feed, DEL, C1 controls, bidirectional overrides. Undecodable UTF-8 counts too.
fn terminal_controls(bytes: &[u8]) -> Vec<char> {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .filter(|&c| (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{fffd}'))
        .collect()
}

/// The rest of a child's stderr, once it has exited (the reader thread ends with it).
fn rest_of(stderr: mpsc::Receiver<String>) -> String {
    let mut text = String::new();
    while let Ok(line) = stderr.recv_timeout(Duration::from_secs(10)) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// Frames whose topic, type, keys, values or raw bytes carry terminal escapes (a title
/// change, a clear, a fake red alert, a C1 CSI, a bidi override).
const HOSTILE_JSON: [&str; 4] = [
    r#"{"type": "\u001b]0;pwned\u0007", "status": true}"#,
    r#"{"type": "IdleStatus", "\u001b[2J\u001b[31mALERT": 1}"#,
    r#"{"type": "Custom", "v": "\u009b31m red \u202e evil"}"#,
    "{\"type\": \x1b[2J broken",
];

#[test]
fn hostile_frames_reach_the_terminal_escaped_in_listen_pull_and_hz() {
    // listen: hostile topics (also not UTF-8) and documents, human output.
    let n = HOSTILE_JSON.len() + 2;
    let count = n.to_string();
    let (listener, endpoint, err) =
        spawn_bound(&["listen", "@tcp://127.0.0.1:*", "--count", &count, "--timeout", "20"]);
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::XPUB).unwrap();
    publisher.connect(&endpoint).unwrap();
    let mut subscription = zmq::Message::new();
    publisher.recv(&mut subscription, 0).unwrap();
    publisher.send(&b"\x1b]0;title\x07 {\"type\": \"IdleStatus\", \"status\": true}"[..], 0).unwrap();
    publisher.send(&b"\x1b[31m\xff {}"[..], 0).unwrap();
    for json in HOSTILE_JSON {
        publisher.send(format!("news {json}").as_bytes(), 0).unwrap();
    }
    let out = finish(listener, Duration::from_secs(30));
    let stderr = rest_of(err);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{out:?} {stderr}");
    assert_eq!(stdout.lines().count(), n, "{stdout}");
    assert_eq!(terminal_controls(&out.stdout), [], "listen stdout: {stdout}");
    assert_eq!(terminal_controls(stderr.as_bytes()), [], "listen stderr: {stderr}");
    assert!(stdout.contains(r"[\u{1b}]0;title\u{7}] IdleStatus"), "{stdout}");
    assert!(stdout.contains(r"\u{1b}[2J\u{1b}[31mALERT=1"), "{stdout}");
    assert!(stdout.contains(r"\u{9b}31m red \u{202e} evil"), "{stdout}");

    // pull: the same documents over PUSH.
    let count = HOSTILE_JSON.len().to_string();
    let (puller, endpoint, err) =
        spawn_bound(&["pull", "@tcp://127.0.0.1:*", "--count", &count, "--timeout", "20"]);
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.set_linger(5000).unwrap();
    push.connect(&endpoint).unwrap();
    for json in HOSTILE_JSON {
        push.send(json.as_bytes(), 0).unwrap();
    }
    let out = finish(puller, Duration::from_secs(30));
    let stderr = rest_of(err);
    assert!(out.status.success(), "{out:?} {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), HOSTILE_JSON.len());
    assert_eq!(terminal_controls(&out.stdout), [], "pull stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(terminal_controls(stderr.as_bytes()), [], "pull stderr: {stderr}");

    // hz: a hostile topic name in the table.
    let (hz, endpoint, err) = spawn_bound(&["hz", "@tcp://127.0.0.1:*", "--seconds", "2.5"]);
    let publisher = ctx.socket(zmq::XPUB).unwrap();
    publisher.connect(&endpoint).unwrap();
    publisher.recv(&mut subscription, 0).unwrap();
    for _ in 0..200 {
        publisher.send(&b"\x1b]0;hz\x07 {\"type\": \"IdleStatus\", \"status\": true}"[..], 0).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = finish(hz, Duration::from_secs(20));
    let stderr = rest_of(err);
    assert!(out.status.success(), "{out:?} {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(terminal_controls(&out.stdout), [], "hz stdout: {stdout}");
    assert_eq!(terminal_controls(stderr.as_bytes()), [], "hz stderr: {stderr}");
    assert!(stdout.contains(r"\u{1b}]0;hz\u{7}"), "{stdout}");
}

#[test]
fn keygen_then_push_and_pull_over_curve_with_an_allowlist() {
    let dir = std::env::temp_dir().join(format!("exbus-keys-{}", std::process::id()));
    let allowed = dir.join("allowed");
    std::fs::create_dir_all(&allowed).unwrap();
    let keygen = |name: &str, dir: &std::path::Path| {
        let out = exbus().args(["keygen", name, "--dir"]).arg(dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let server_public = keygen("server", &dir);
    keygen("client", &allowed);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("server.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the secret certificate is private");
    let public_file = std::fs::read_to_string(dir.join("server.pub")).unwrap();
    assert!(public_file.contains(&server_public) && !public_file.contains("secret-key"), "{public_file}");

    let server_key = dir.join("server.key");
    let (push, endpoint, _err) = spawn_bound(&[
        "push",
        "@tcp://127.0.0.1:*",
        "--curve-secret",
        server_key.to_str().unwrap(),
        "--curve-allow",
        allowed.to_str().unwrap(),
        "--wait-peers",
        "1",
        r#"{"type": "IdleStatus", "status": true}"#,
    ]);
    let server_pub = dir.join("server.pub");
    let client_key = allowed.join("client.key");
    // A stranger (a new key each run) is refused and gets nothing.
    let stranger = exbus()
        .args(["pull", &endpoint, "--curve-server", server_pub.to_str().unwrap(), "--timeout", "1", "--json"])
        .output()
        .unwrap();
    assert_eq!(stranger.status.code(), Some(3), "{}", String::from_utf8_lossy(&stranger.stderr));
    assert!(stranger.stdout.is_empty());
    let pull = exbus()
        .args(["pull", &endpoint, "--curve-server", server_pub.to_str().unwrap()])
        .args(["--curve-secret", client_key.to_str().unwrap(), "--count", "1", "--json", "--timeout", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish(pull, Duration::from_secs(30));
    assert!(out.status.success());
    assert_eq!(json_lines(&out)[0]["message"], json!({"type": "IdleStatus", "status": true}));
    assert!(finish(push, Duration::from_secs(30)).status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A running `exbus` with its stdout and stderr read line by line on threads.
struct Proc {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

const LIMIT: Duration = Duration::from_secs(20);

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        Proc::start(exbus().args(args).stdin(Stdio::null()))
    }

    fn start(cmd: &mut Command) -> Proc {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        Proc { child, stdout, stderr, seen: Vec::new() }
    }

    /// The next stderr line that contains `needle` (the readiness and state lines).
    fn stderr_with(&mut self, needle: &str) -> String {
        let start = std::time::Instant::now();
        while let Some(left) = LIMIT.checked_sub(start.elapsed()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        panic!("no stderr line with {needle:?}; saw {:?}", self.seen);
    }

    /// The endpoint from the "exbus: <verb> on <endpoint>" readiness line.
    fn endpoint(&mut self) -> String {
        let line = self.stderr_with(" on tcp://");
        line.rsplit(' ').next().unwrap().to_owned()
    }

    fn stdout_line(&self) -> String {
        self.stdout.recv_timeout(LIMIT).expect("a line on stdout")
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid, which has not been waited for.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits for the exit; returns the code and the rest of stdout and stderr.
    /// Sends `signal`, waits, and checks the documented exit code of an interrupted
    /// command (130); returns stdout and stderr.
    fn interrupt(self, signal: i32) -> (String, String) {
        self.signal(signal);
        let (code, out, err) = self.wait();
        assert_eq!(code, Some(130), "{err}");
        (out, err)
    }

    fn wait(mut self) -> (Option<i32>, String, String) {
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > LIMIT {
                self.child.kill().unwrap();
                panic!("exbus did not exit within {LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let rest = |rx: &mpsc::Receiver<String>| {
            let mut text = String::new();
            while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
                text.push_str(&line);
                text.push('\n');
            }
            text
        };
        let out = rest(&self.stdout);
        let mut err = self.seen.join("\n");
        err.push('\n');
        err.push_str(&rest(&self.stderr));
        (status.code(), out, err)
    }
}

/// A raw XPUB connected to `endpoint`, once the subscriber there has subscribed.
fn xpub_to(ctx: &zmq::Context, endpoint: &str) -> zmq::Socket {
    let publisher = ctx.socket(zmq::XPUB).unwrap();
    // What is queued for a peer that has gone must not hold up the context's end.
    publisher.set_linger(0).unwrap();
    publisher.connect(endpoint).unwrap();
    let mut subscription = zmq::Message::new();
    publisher.recv(&mut subscription, 0).unwrap();
    publisher
}

/// A raw SUB bound on a free port, subscribed to everything, and its endpoint.
fn bound_sub(ctx: &zmq::Context) -> (zmq::Socket, String) {
    let sub = ctx.socket(zmq::SUB).unwrap();
    sub.set_subscribe(b"").unwrap();
    sub.set_rcvtimeo(20_000).unwrap();
    sub.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = sub.get_last_endpoint().unwrap().unwrap();
    (sub, endpoint)
}

fn temp_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("exbus-{}-{name}", std::process::id()))
}

#[test]
fn record_then_replay_reproduces_every_frame_byte_for_byte() {
    let file = temp_file("record.jsonl");
    let frames: Vec<Vec<u8>> = vec![
        br#"events {"type": "EraChanged", "era": "modern", "biome": "tundra"}"#.to_vec(),
        b"events \xff\x00 not json, not UTF-8 \x1b[2J".to_vec(),
        br#"status {"type": "IdleStatus", "status": true}"#.to_vec(),
        br#"events {"type": "Heartbeat", "timestamp": 1.5, "service": "core"}"#.to_vec(),
    ];
    let mut rec = Proc::spawn(&[
        "record",
        "@tcp://127.0.0.1:*",
        "--out",
        file.to_str().unwrap(),
        "--count",
        &frames.len().to_string(),
    ]);
    let endpoint = rec.endpoint();
    let ctx = zmq::Context::new();
    let publisher = xpub_to(&ctx, &endpoint);
    for (i, f) in frames.iter().enumerate() {
        if i == 3 {
            // A gap in the data (not synchronisation) that replay must reproduce.
            std::thread::sleep(Duration::from_millis(400));
        }
        publisher.send(&f[..], 0).unwrap();
    }
    let (code, _, err) = rec.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("recorded 4 frame(s)"), "{err}");

    // The documented format: a header, then one JSON line per frame.
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["exbus_record"], 1);
    assert_eq!(lines.len(), 1 + frames.len());
    assert_eq!(lines[1]["topic"], "events");
    assert_eq!(lines[3]["topic"], "status");
    use base64::Engine as _;
    for (line, frame) in lines[1..].iter().zip(&frames) {
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(line["frame"].as_str().unwrap()).unwrap();
        assert_eq!(&bytes, frame);
        assert_eq!(line["len"], frame.len());
    }
    let recorded_gap = lines[4]["t"].as_f64().unwrap() - lines[3]["t"].as_f64().unwrap();
    assert!(recorded_gap >= 0.35, "{recorded_gap}");

    // Replay into a listener at double speed: the same frames, the same order, the gap halved.
    let (sub, sub_endpoint) = bound_sub(&ctx);
    let replay = Proc::spawn(&["replay", file.to_str().unwrap(), "--connect", &sub_endpoint, "--speed", "2"]);
    let mut got = Vec::new();
    let mut arrived = Vec::new();
    for _ in 0..frames.len() {
        got.push(sub.recv_bytes(0).unwrap());
        arrived.push(std::time::Instant::now());
    }
    assert_eq!(got, frames);
    let gap = arrived[3].duration_since(arrived[2]).as_secs_f64();
    assert!(gap >= recorded_gap / 2.0 * 0.8, "replayed gap {gap} for a recorded {recorded_gap}");
    let (code, _, err) = replay.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("replayed 4 frame(s)"), "{err}");

    // --topic replays only that topic's frames; --loop starts again until interrupted.
    let (sub, sub_endpoint) = bound_sub(&ctx);
    let replay = Proc::spawn(&[
        "replay",
        file.to_str().unwrap(),
        &format!(">{sub_endpoint}"),
        "--topic",
        "status",
        "--loop",
        "--speed",
        "100",
    ]);
    for _ in 0..3 {
        assert_eq!(sub.recv_bytes(0).unwrap(), frames[2]);
    }
    let (_, err) = replay.interrupt(libc::SIGINT);
    assert!(err.contains("interrupted: replayed"), "{err}");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn listen_json_lines_publish_back_as_they_were() {
    // What `listen --json` wrote...
    let mut listen = Proc::spawn(&["listen", "@tcp://127.0.0.1:*", "--json", "--count", "3"]);
    let ctx = zmq::Context::new();
    let publisher = xpub_to(&ctx, &listen.endpoint());
    let sent = [
        r#"events {"type": "EraChanged", "era": "modern", "biome": "tundra"}"#,
        r#"status {"type": "IdleStatus", "status": true}"#,
        r#"events {"type": "Heartbeat", "timestamp": 2.0, "service": "core", "extra": {"k": [1, 2]}}"#,
    ];
    for frame in sent {
        publisher.send(frame, 0).unwrap();
    }
    let original: Vec<String> = (0..3).map(|_| listen.stdout_line()).collect();
    assert_eq!(listen.wait().0, Some(0));
    // ...goes into `publish -`, each message on its own topic, to a second listener.
    let mut publish = Proc::start(exbus().args(["publish", "@tcp://127.0.0.1:*", "-"]).stdin(Stdio::piped()));
    {
        use std::io::Write;
        let mut stdin = publish.child.stdin.take().unwrap();
        for line in &original {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let endpoint = publish.endpoint();
    let again = Proc::spawn(&["listen", &format!(">{endpoint}"), "--json", "--count", "3"]);
    let replayed: Vec<String> = (0..3).map(|_| again.stdout_line()).collect();
    let parse = |lines: &[String]| {
        lines.iter().map(|l| serde_json::from_str::<Value>(l).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(parse(&replayed), parse(&original));
    assert_eq!(parse(&original)[1]["topic"], "status");
    let (code, _, err) = publish.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("published 3 message(s)"), "{err}");
    assert_eq!(again.wait().0, Some(0));
}

#[test]
fn publish_sends_each_stdin_line_as_it_arrives() {
    use std::io::Write;
    let mut publish = Proc::start(
        exbus().args(["publish", "--bind", "tcp://127.0.0.1:*", "--topic", "log", "-"]).stdin(Stdio::piped()),
    );
    let mut stdin = publish.child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"type": "IdleStatus", "status": true}}"#).unwrap();
    stdin.flush().unwrap();
    let endpoint = publish.endpoint();
    let listen = Proc::spawn(&["listen", "--connect", &endpoint, "--json", "--count", "2"]);
    // The first line arrives while stdin is still open (`tail -f | exbus publish -`).
    let first: Value = serde_json::from_str(&listen.stdout_line()).unwrap();
    assert_eq!(first["message"]["status"], true);
    writeln!(stdin, r#"{{"type": "IdleStatus", "status": false}}"#).unwrap();
    stdin.flush().unwrap();
    let second: Value = serde_json::from_str(&listen.stdout_line()).unwrap();
    assert_eq!(second["message"]["status"], false);
    assert_eq!(second["topic"], "log");
    drop(stdin);
    let (code, _, err) = publish.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("published 2 message(s)"), "{err}");
    assert_eq!(listen.wait().0, Some(0));
}

#[test]
fn publish_with_no_subscriber_waits_for_timeout_and_sends_nothing() {
    let start = std::time::Instant::now();
    let out = exbus()
        .args([
            "publish",
            "@tcp://127.0.0.1:*",
            "--timeout",
            "300ms",
            r#"{"type": "IdleStatus", "status": true}"#,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("within 300 ms: nothing sent"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5), "--timeout bounds the wait");
    // --wait-subscribers 0 is the documented way to send regardless.
    let out = exbus()
        .args([
            "publish",
            "@tcp://127.0.0.1:*",
            "--wait-subscribers",
            "0",
            r#"{"type": "IdleStatus", "status": true}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 subscriber(s)"));
}

#[test]
fn interrupts_print_a_summary_and_exit_130() {
    // pull, stopped by Ctrl-C after three messages.
    let mut pull = Proc::spawn(&["pull", "@tcp://127.0.0.1:*"]);
    let ctx = zmq::Context::new();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.connect(&pull.endpoint()).unwrap();
    for _ in 0..3 {
        push.send(r#"{"type": "IdleStatus", "status": true}"#, 0).unwrap();
    }
    for _ in 0..3 {
        pull.stdout_line();
    }
    let (_, err) = pull.interrupt(libc::SIGINT);
    assert!(err.contains("interrupted: 3 received"), "{err}");

    // listen, stopped by SIGTERM.
    let mut listen = Proc::spawn(&["listen", "@tcp://127.0.0.1:*"]);
    listen.endpoint();
    let (_, err) = listen.interrupt(libc::SIGTERM);
    assert!(err.contains("interrupted: 0 received"), "{err}");

    // hz prints its summary table.
    let mut hz = Proc::spawn(&["hz", "@tcp://127.0.0.1:*"]);
    let publisher = xpub_to(&ctx, &hz.endpoint());
    publisher.send(r#"t {"type": "IdleStatus", "status": true}"#, 0).unwrap();
    hz.stdout_line();
    let (out, _) = hz.interrupt(libc::SIGINT);
    assert!(out.contains("summary: 1 message(s)"), "{out}");

    // The demo finishes its progress line and prints its table.
    let mut demo = Proc::spawn(&["demo", "--seconds", "2m"]);
    demo.stderr_with("events ");
    let (out, err) = demo.interrupt(libc::SIGINT);
    assert!(out.contains("render tasks") && out.contains("nothing lost"), "{out}");
    assert!(err.contains("interrupted: the demo stopped"), "{err}");
}

#[test]
fn a_timeout_after_messages_arrived_exits_0() {
    let mut pull = Proc::spawn(&["pull", "@tcp://127.0.0.1:*", "--timeout", "500ms", "--json"]);
    let ctx = zmq::Context::new();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.connect(&pull.endpoint()).unwrap();
    push.send(r#"{"type": "IdleStatus", "status": true}"#, 0).unwrap();
    push.send(r#"{"type": "IdleStatus", "status": false}"#, 0).unwrap();
    let (code, out, err) = pull.wait();
    assert_eq!(code, Some(0), "drained, not timed out: {err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(err.contains("no message for 500 ms (2 received)"), "{err}");
}

#[test]
fn a_closed_stdout_pipe_ends_listen_quietly_with_0() {
    let mut listen = Proc::spawn(&["listen", "@tcp://127.0.0.1:*"]);
    let ctx = zmq::Context::new();
    let publisher = xpub_to(&ctx, &listen.endpoint());
    publisher.send(r#"a {"type": "IdleStatus", "status": true}"#, 0).unwrap();
    publisher.send(r#"a {"type": "IdleStatus", "status": true}"#, 0).unwrap();
    // `| head -2`: read two lines, then close the pipe.
    listen.stdout_line();
    listen.stdout_line();
    let Proc { mut child, stdout, stderr, .. } = listen;
    drop(stdout);
    drop(child.stdout.take());
    let start = std::time::Instant::now();
    let status = loop {
        publisher.send(r#"a {"type": "IdleStatus", "status": true}"#, 0).unwrap();
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < LIMIT, "listen kept running with its stdout closed");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0));
    let err = rest_of(stderr);
    assert!(!err.to_lowercase().contains("pipe") && !err.contains("error"), "{err}");

    // The same for commands that print once (the demo's table, the type list, a key),
    // here with the pipe closed before they write.
    for args in [&["demo", "--seconds", "200ms"][..], &["types"], &["types", "--schema"], &["ports"]] {
        let mut child = exbus().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.to_lowercase().contains("broken pipe"), "{args:?}: {err}");
    }
}

#[test]
fn bad_input_is_refused_before_binding_and_says_why() {
    let cases: [(&[&str], Option<&str>, &str); 6] = [
        (
            &["publish", "@tcp://127.0.0.1:*", "-n", "0", r#"{"type": "IdleStatus", "status": true}"#],
            None,
            "--count 0",
        ),
        (&["publish", "@tcp://127.0.0.1:*", "-"], Some(""), "stdin ended with no message: nothing sent"),
        (&["publish", "@tcp://127.0.0.1:*", "-"], Some("\n\n"), "stdin ended with no message"),
        (&["publish", "@tcp://127.0.0.1:*", "{}"], None, "has no \"type\" field"),
        (
            &["push", "@tcp://127.0.0.1:*", "--rate", "0", r#"{"type": "IdleStatus", "status": true}"#],
            None,
            "--rate 0",
        ),
        (&["replay", "/nonexistent/exbus.jsonl", "@tcp://127.0.0.1:*"], None, "cannot open"),
    ];
    for (args, stdin, needle) in cases {
        let mut child = exbus()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains(" on tcp://"), "{args:?} bound before refusing: {err}");
    }
    // A bad line in a stream is named and skipped, and the exit code says so.
    let mut listen = Proc::spawn(&["listen", "@tcp://127.0.0.1:*", "--json", "--count", "1"]);
    let endpoint = listen.endpoint();
    let mut publish =
        Proc::start(exbus().args(["publish", "--connect", &endpoint, "-"]).stdin(Stdio::piped()));
    {
        use std::io::Write;
        let mut stdin = publish.child.stdin.take().unwrap();
        writeln!(stdin, r#"{{"type": "IdleStatus", "status": true}}"#).unwrap();
        writeln!(stdin, r#"{{"no_type": 1}}"#).unwrap();
    }
    assert!(listen.stdout_line().contains("IdleStatus"));
    let (code, _, err) = publish.wait();
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("line 2 has no \"type\" field"), "{err}");
    assert!(err.contains("1 sent, 1 line(s) rejected"), "{err}");
    assert_eq!(listen.wait().0, Some(0));
}

#[test]
fn a_stalled_demo_channel_is_named_with_its_cause_and_exits_1() {
    let out = exbus().args(["demo", "--seconds", "30s", "--stall-display"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the README's code for a runtime failure: {err}");
    assert!(err.contains(r#"channel "events" (PUB/SUB)"#), "{err}");
    assert!(err.contains("the subscriber stopped reading"), "{err}");
}

#[test]
fn connections_and_their_absence_are_reported_on_stderr() {
    // Nothing bound at that port: a warning instead of silence.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere = format!("tcp://127.0.0.1:{port}");
    let mut lonely = Proc::spawn(&["listen", "--connect", &nowhere, "--timeout", "4s"]);
    let warning = lonely.stderr_with("warning");
    assert!(warning.contains(&format!("no connection to {nowhere} after 3s")), "{warning}");
    assert_eq!(lonely.wait().0, Some(3));

    // A publisher comes and goes.
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::XPUB).unwrap();
    publisher.set_linger(0).unwrap();
    publisher.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = publisher.get_last_endpoint().unwrap().unwrap();
    let mut listen = Proc::spawn(&["listen", "--connect", &endpoint]);
    assert!(listen.stderr_with("connected to").contains("(1 peer)"));
    drop(publisher);
    assert!(listen.stderr_with("disconnected").contains("0 peers left"));
    listen.signal(libc::SIGINT);
    assert_eq!(listen.wait().0, Some(130));
}

#[test]
fn help_explains_endpoints_flags_and_exit_codes() {
    let top = exbus().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&top.stdout);
    for needle in
        ["`@tcp://*:5555` binds", "`>tcp://host:5555` connects", "quote it", "Exit codes", "130 interrupted"]
    {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    for cmd in ["listen", "publish", "push", "pull", "hz", "record", "replay"] {
        let out = exbus().args([cmd, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("--bind <ENDPOINT>") && text.contains("--connect <ENDPOINT>"), "{cmd}: {text}");
        assert!(text.contains("Exit codes"), "{cmd}: {text}");
    }
}

/// What `listen ARGS --count 1` prints for one frame, with `envs` set.
fn listen_once(args: &[&str], envs: &[(&str, &str)], frame: &[u8]) -> String {
    let mut cmd = exbus();
    cmd.args(["listen", "@tcp://127.0.0.1:*", "--count", "1"]).args(args).stdin(Stdio::null());
    cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut listen = Proc::start(&mut cmd);
    let ctx = zmq::Context::new();
    let publisher = xpub_to(&ctx, &listen.endpoint());
    publisher.send(frame, 0).unwrap();
    let (code, out, err) = listen.wait();
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out
}

#[test]
fn long_strings_are_truncated_unless_full_and_fields_raw_pretty_select_the_view() {
    let png = "iVBORw0KGgo".repeat(5000);
    let frame = format!(
        r#"events {{"type": "RenderRequest", "request_id": "r1", "era": "modern", "biome": "tundra", "prompt": "p", "depth_map_png": "{png}"}}"#
    );
    let human = listen_once(&[], &[], frame.as_bytes());
    assert!(human.len() < 600, "{} bytes: {human}", human.len());
    assert!(human.contains("(+54920 chars, --full shows all)"), "{human}");
    assert!(human.contains(r#"era="modern""#), "{human}");
    let full = listen_once(&["--full"], &[], frame.as_bytes());
    assert!(full.contains(&png));
    let fields =
        listen_once(&["--field", "era", "--field", "request_id", "--field", "nope"], &[], frame.as_bytes());
    assert_eq!(fields.trim_end(), r#"[events] RenderRequest era="modern" request_id="r1" nope=(absent)"#);
    let json_fields = listen_once(&["--json", "--field", "biome"], &[], frame.as_bytes());
    let v: Value = serde_json::from_str(json_fields.trim_end()).unwrap();
    assert_eq!(v, json!({"topic": "events", "type": "RenderRequest", "fields": {"biome": "tundra"}}));
    let raw = listen_once(&["--raw"], &[], frame.as_bytes());
    assert_eq!(raw.trim_end_matches('\n'), frame);
    let pretty = listen_once(&["--pretty"], &[], br#"t {"type": "IdleStatus", "status": true}"#);
    assert_eq!(pretty, "[t] IdleStatus\n{\n  \"type\": \"IdleStatus\",\n  \"status\": true\n}\n");
}

#[test]
fn several_endpoints_and_colour_that_honours_no_color() {
    let ctx = zmq::Context::new();
    let bound = |n: usize| {
        let publisher = ctx.socket(zmq::XPUB).unwrap();
        publisher.set_linger(0).unwrap();
        publisher.bind("tcp://127.0.0.1:*").unwrap();
        let endpoint = publisher.get_last_endpoint().unwrap().unwrap();
        (publisher, endpoint, n)
    };
    let (a, a_endpoint, _) = bound(1);
    let (b, b_endpoint, _) = bound(2);
    let listen = Proc::spawn(&["listen", &a_endpoint, "--connect", &b_endpoint, "--json", "--count", "2"]);
    let mut subscription = zmq::Message::new();
    a.recv(&mut subscription, 0).unwrap();
    b.recv(&mut subscription, 0).unwrap();
    a.send(r#"from-a {"type": "IdleStatus", "status": true}"#, 0).unwrap();
    b.send(r#"from-b {"type": "IdleStatus", "status": false}"#, 0).unwrap();
    let (code, out, err) = listen.wait();
    assert_eq!(code, Some(0), "{err}");
    let mut topics: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["topic"].as_str().unwrap().to_owned())
        .collect();
    topics.sort();
    assert_eq!(topics, ["from-a", "from-b"]);

    let frame = br#"t {"type": "IdleStatus", "status": true}"#;
    let has_colour = |s: &str| s.contains("\x1b[");
    assert!(!has_colour(&listen_once(&[], &[], frame)), "no colour into a pipe");
    assert!(has_colour(&listen_once(&["--color", "always"], &[], frame)));
    assert!(has_colour(&listen_once(&[], &[("CLICOLOR_FORCE", "1")], frame)));
    assert!(!has_colour(&listen_once(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], frame)));
    assert!(!has_colour(&listen_once(&["--color", "never"], &[("CLICOLOR_FORCE", "1")], frame)));
}

#[test]
fn types_show_wire_types_and_enum_values_and_strict_names_them() {
    let out = exbus().args(["types", "--json"]).output().unwrap();
    let types: Value = serde_json::from_slice(&out.stdout).unwrap();
    let field = |t: &str, f: &str| {
        let ty = types.as_array().unwrap().iter().find(|x| x["type"] == t).unwrap();
        ty["fields"].as_array().unwrap().iter().find(|x| x["name"] == f).unwrap().clone()
    };
    let era = field("EraChanged", "era");
    assert_eq!(era["wire_type"], "enum");
    assert!(era["values"].as_array().unwrap().contains(&json!("post_apocalyptic")), "{era}");
    assert_eq!(field("RenderRequest", "depth_map_png")["wire_type"], "string or null");
    assert_eq!(field("TransitionRequest", "duration_frames")["wire_type"], "integer");

    let text = String::from_utf8(exbus().arg("types").output().unwrap().stdout).unwrap();
    let header = text.lines().next().unwrap();
    let era_row = text.lines().find(|l| l.starts_with("EraChanged")).unwrap();
    assert_eq!(era_row.find("era"), header.find("field"), "columns line up: {text}");
    assert!(era_row.contains("modern |"), "{era_row}");
    assert!(!text.contains("Option<"), "wire types, not Rust types: {text}");

    let out = exbus().args(["types", "--schema"]).output().unwrap();
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let era_changed = &schema["$defs"]["EraChanged"];
    assert!(era_changed["properties"]["era"]["enum"].as_array().unwrap().contains(&json!("modern")));
    assert_eq!(era_changed["required"], json!(["type", "era", "biome"]));
    assert_eq!(schema["$defs"]["IdleStatus"]["properties"]["type"]["enum"], json!(["IdleStatus", "Idle"]));
    let png = &schema["$defs"]["RenderRequest"]["properties"]["depth_map_png"];
    assert_eq!(png["anyOf"], json!([{"type": "string"}, {"type": "null"}]));

    let input = r#"{"type": "EraChanged", "era": "nope", "biome": "tundra"}"#;
    let out = exbus().args(["publish", "@tcp://127.0.0.1:*", "--strict", input]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("\"era\" must be one of: wilderness, pre_industrial"), "{err}");
    // The column is the input's own: just past "nope".
    let column = input.find("nope").unwrap() + "nope\"".len();
    assert!(err.contains(&format!("column {column}")), "{err}");
}
