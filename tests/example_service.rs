//! The example service (`examples/example_service.rs`) end to end: a controller and two
//! workers as separate processes on free loopback ports, stopped with SIGINT, checked
//! from what they print.
//!
//! The example binary is built by `cargo test` (all targets) before the tests run; this
//! test also runs `cargo build --example example_service` itself (a no-op when it is up
//! to date), so `cargo test --test example_service` works alone and never runs a stale
//! binary.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const EXAMPLE: &str = "example_service";
const ANY_PORT: &str = "tcp://127.0.0.1:*";
/// Bound on startup and on progress (generous: the machine may be busy compiling).
const PATIENCE: Duration = Duration::from_secs(60);
/// Bound on a graceful shutdown after SIGINT.
const SHUTDOWN: Duration = Duration::from_secs(15);

/// The compiled example, next to this test's own profile directory
/// (`target/<profile>/deps/<this test>` -> `target/<profile>/examples/example_service`),
/// brought up to date once per test process.
fn example_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_example).clone()
}

fn build_example() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir =
        exe.parent().and_then(|deps| deps.parent()).expect("test binary in target/<profile>/deps");
    let binary = profile_dir.join("examples").join(EXAMPLE);
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let built = Command::new(&cargo)
        .args(["build", "--quiet", "--example", EXAMPLE, "--profile", profile, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .stdin(Stdio::null())
        .output();
    match built {
        Ok(out) if out.status.success() => {}
        Ok(out) if binary.exists() => eprintln!(
            "warning: `cargo build --example {EXAMPLE}` failed ({}), using the existing {}:\n{}",
            out.status,
            binary.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if binary.exists() => {
            eprintln!("warning: cannot run {cargo}: {e}; using {}", binary.display())
        }
        other => panic!(
            "the example binary {} is missing and `{cargo} build --example {EXAMPLE}` failed: {other:?}\n\
             build it with `cargo build --example {EXAMPLE}` (or run `cargo test --all-targets`)",
            binary.display()
        ),
    }
    assert!(binary.exists(), "{} is missing after `cargo build --example {EXAMPLE}`", binary.display());
    binary
}

/// A running example process; killed when dropped, so a failing test leaves nothing
/// behind.
struct Proc {
    name: String,
    child: Option<Child>,
    stdout: Receiver<String>,
    lines: Vec<String>,
    stderr: Arc<Mutex<String>>,
    status: Option<ExitStatus>,
}

impl Proc {
    fn spawn(name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut child = Command::new(example_binary())
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {name}: {e}"));
        let (tx, stdout) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut err, sink) = (child.stderr.take().expect("piped stderr"), stderr.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Proc { name: name.to_owned(), child: Some(child), stdout, lines: Vec::new(), stderr, status: None }
    }

    /// Reads stdout until `found` accepts a line (returned) or `deadline` passes (None).
    fn wait_for(&mut self, deadline: Instant, found: impl Fn(&str) -> bool) -> Option<String> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.lines.push(line.clone());
                    if found(&line) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    fn interrupt(&self) {
        let child = self.child.as_ref().expect("the process runs");
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
        // SAFETY: kill(2) with a pid we spawned and still own (not yet waited for).
        let rc = unsafe { libc::kill(pid, libc::SIGINT) };
        assert_eq!(rc, 0, "kill -INT {pid}: {}", std::io::Error::last_os_error());
    }

    /// Waits up to `timeout` for the process to exit; kills it on timeout (then the
    /// status is the kill's). Collects the rest of its stdout.
    fn wait_exit(&mut self, timeout: Duration) -> (ExitStatus, bool) {
        let mut child = self.child.take().expect("the process runs");
        let deadline = Instant::now() + timeout;
        let (status, killed) = loop {
            match child.try_wait().expect("try_wait") {
                Some(status) => break (status, false),
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    break (child.wait().expect("wait"), true);
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        self.wait_for(Instant::now() + Duration::from_secs(5), |_| false);
        self.status = Some(status);
        (status, killed)
    }

    fn output(&self) -> String {
        format!(
            "=== {} ({}) stdout:\n{}\n=== {} stderr:\n{}",
            self.name,
            self.status.map_or("running".to_owned(), |s| s.to_string()),
            self.lines.join("\n"),
            self.name,
            self.stderr.lock().unwrap()
        )
    }

    /// The `key=value` fields of the last stdout line starting with `prefix`.
    fn fields(&self, prefix: &str) -> Option<BTreeMap<String, String>> {
        self.lines.iter().rev().find(|l| l.starts_with(prefix)).map(|l| fields(l))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn fields(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect()
}

fn number(f: &BTreeMap<String, String>, key: &str) -> u64 {
    f.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no number {key} in {f:?}"))
}

/// `w1:3,w2:4` (or `-`) as a map.
fn per_worker(f: &BTreeMap<String, String>, key: &str) -> BTreeMap<String, u64> {
    let text = f.get(key).unwrap_or_else(|| panic!("no {key} in {f:?}"));
    text.split(',')
        .filter(|s| *s != "-")
        .map(|kv| {
            let (k, v) = kv.rsplit_once(':').unwrap_or_else(|| panic!("bad {key}: {text}"));
            (k.to_owned(), v.parse().unwrap_or_else(|_| panic!("bad {key}: {text}")))
        })
        .collect()
}

fn all_output(procs: &[&Proc]) -> String {
    procs.iter().map(|p| p.output()).collect::<Vec<_>>().join("\n")
}

/// Starts the controller on free ports and two workers; returns them once the
/// controller has results and statuses from both workers (bounded by `PATIENCE`).
fn start_service() -> (Proc, Vec<Proc>) {
    let mut controller = Proc::spawn(
        "controller",
        &[
            "controller",
            "--name",
            "controller",
            "--pub",
            ANY_PORT,
            "--tasks",
            ANY_PORT,
            "--status",
            ANY_PORT,
            "--task-interval",
            "0.02",
            "--stats-interval",
            "0.1",
        ],
        // The heartbeat interval through the environment (the flag is the other way).
        &[("EXAMPLE_HEARTBEAT_INTERVAL", "0.1")],
    );
    let ready = controller
        .wait_for(Instant::now() + PATIENCE, |l| l.starts_with("READY controller"))
        .unwrap_or_else(|| panic!("the controller never became ready:\n{}", controller.output()));
    let ep = fields(&ready);
    let workers: Vec<Proc> = ["worker-1", "worker-2"]
        .iter()
        .map(|name| {
            Proc::spawn(
                name,
                &[
                    "worker",
                    "--name",
                    name,
                    "--pub",
                    &ep["pub"],
                    "--tasks",
                    &ep["tasks"],
                    "--status",
                    &ep["status"],
                    "--work-ms",
                    "5",
                ],
                &[],
            )
        })
        .collect();

    // Run until both workers have answered tasks and heartbeats a few times.
    let progressed = controller.wait_for(Instant::now() + PATIENCE, |l| {
        if !l.starts_with("STATS controller") {
            return false;
        }
        let f = fields(l);
        let (results, statuses) = (per_worker(&f, "results_by_worker"), per_worker(&f, "statuses_by_worker"));
        ["worker-1", "worker-2"].iter().all(|w| {
            results.get(*w).copied().unwrap_or(0) >= 5 && statuses.get(*w).copied().unwrap_or(0) >= 3
        })
    });
    if progressed.is_none() {
        let mut procs = vec![&controller];
        procs.extend(workers.iter());
        panic!("no progress from both workers within {PATIENCE:?}:\n{}", all_output(&procs));
    }
    (controller, workers)
}

#[test]
fn controller_and_two_workers_shut_down_gracefully_on_sigint() {
    let (mut controller, mut workers) = start_service();

    // Workers first, so every result they sent must reach the still-running controller.
    for w in &workers {
        w.interrupt();
    }
    for w in &mut workers {
        let (status, killed) = w.wait_exit(SHUTDOWN);
        assert!(
            !killed && status.success(),
            "{} did not exit 0 within {SHUTDOWN:?}:\n{}",
            w.name,
            w.output()
        );
    }
    controller.interrupt();
    let (status, killed) = controller.wait_exit(SHUTDOWN);
    let everything = all_output(&[&controller, &workers[0], &workers[1]]);
    assert!(!killed && status.success(), "the controller did not exit 0 within {SHUTDOWN:?}:\n{everything}");

    let c = controller
        .fields("SUMMARY controller")
        .unwrap_or_else(|| panic!("no controller summary:\n{everything}"));
    let results_by_worker = per_worker(&c, "results_by_worker");
    let statuses_by_worker = per_worker(&c, "statuses_by_worker");
    let (mut processed, mut results, mut statuses) = (0, 0, 0);
    for w in &workers {
        let f =
            w.fields("SUMMARY worker").unwrap_or_else(|| panic!("no summary from {}:\n{everything}", w.name));
        assert_eq!(f["name"], w.name, "{everything}");
        assert_eq!(f["close"], "ok", "{}: every socket closes and flushes:\n{everything}", w.name);
        for key in ["push_failures", "unexpected", "bad_frames"] {
            assert_eq!(number(&f, key), 0, "{}: {key}:\n{everything}", w.name);
        }
        assert!(number(&f, "heartbeats_received") >= 3, "{}:\n{everything}", w.name);
        assert!(number(&f, "tasks_processed") >= 5, "{} processed tasks:\n{everything}", w.name);
        assert_eq!(number(&f, "tasks_processed"), number(&f, "tasks_received"), "{everything}");
        assert_eq!(number(&f, "results_sent"), number(&f, "tasks_processed"), "{everything}");
        // Nothing a worker sent was lost: it flushed on close, the controller drained.
        assert_eq!(results_by_worker.get(&w.name).copied(), Some(number(&f, "results_sent")), "{everything}");
        assert_eq!(
            statuses_by_worker.get(&w.name).copied(),
            Some(number(&f, "statuses_sent")),
            "{everything}"
        );
        processed += number(&f, "tasks_processed");
        results += number(&f, "results_sent");
        statuses += number(&f, "statuses_sent");
    }
    assert_eq!(c["close"], "ok", "the controller closes and flushes every socket:\n{everything}");
    assert_eq!(number(&c, "results_received"), results, "{everything}");
    assert_eq!(number(&c, "statuses_received"), statuses, "{everything}");
    for key in ["unmatched_results", "unexpected", "bad_frames"] {
        assert_eq!(number(&c, key), 0, "controller {key}:\n{everything}");
    }
    assert!(number(&c, "heartbeats_sent") >= 3, "{everything}");
    // Tasks in flight to a stopping worker may be lost (PUSH/PULL has no
    // acknowledgement); the controller counts them as outstanding.
    let sent = number(&c, "tasks_sent");
    assert!(sent >= processed, "{everything}");
    assert_eq!(number(&c, "outstanding"), sent - results, "{everything}");
}

/// Ctrl-C in a terminal reaches every process at once: all still exit 0, promptly, with
/// a summary (results in flight to the stopping controller may be lost).
#[test]
fn sigint_to_every_process_at_once() {
    let (mut controller, mut workers) = start_service();
    controller.interrupt();
    for w in &workers {
        w.interrupt();
    }
    for p in std::iter::once(&mut controller).chain(workers.iter_mut()) {
        let (status, killed) = p.wait_exit(SHUTDOWN);
        assert!(
            !killed && status.success(),
            "{} did not exit 0 within {SHUTDOWN:?}:\n{}",
            p.name,
            p.output()
        );
    }
    assert!(controller.fields("SUMMARY controller").is_some(), "{}", controller.output());
    for w in &workers {
        let f = w.fields("SUMMARY worker").unwrap_or_else(|| panic!("{}", w.output()));
        assert!(number(&f, "tasks_processed") >= 5, "{}", w.output());
    }
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    for args in
        [&["conductor"][..], &["worker", "--work-ms", "soon"], &["controller", "--task-interval", "-1"]]
    {
        let out =
            Command::new(example_binary()).args(args).stdin(Stdio::null()).output().expect("run the example");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: example_service"), "{args:?}: {stderr}");
    }
}
