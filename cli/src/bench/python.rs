//! The Python rows of `exbus bench`: PUSH->PULL between two Python processes written as
//! the Python `experimance_common` sockets are (`json.dumps` + `send_string`,
//! `recv_string` + `json.loads`), blocking and asyncio, by `tests/python/bench_peer.py`
//! (embedded in this executable). The interpreter is the one the interop tests
//! provision (`target/pyzmq-venv`), or `EXPERIMANCE_TEST_PYTHON`, or `python3` when it
//! has pyzmq.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{PeerProcess, Settings};
use crate::Failure;

/// Environment variable naming an interpreter that can `import zmq`.
pub const PYTHON_ENV: &str = "EXPERIMANCE_TEST_PYTHON";

/// The modes measured, as `bench_peer.py --mode` names them.
pub const MODES: [&str; 2] = ["sync", "async"];

const SCRIPT: &str = include_str!("../../../tests/python/bench_peer.py");

/// An interpreter with pyzmq and the script written out for it.
pub struct Python {
    interpreter: OsString,
    script: PathBuf,
}

fn imports_zmq(python: &OsString) -> bool {
    Command::new(python)
        .args(["-c", "import zmq, zmq.asyncio"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl Python {
    /// The first interpreter that imports pyzmq, or `None`.
    pub fn find() -> Option<Python> {
        let mut candidates: Vec<OsString> = std::env::var_os(PYTHON_ENV).into_iter().collect();
        // The interop tests' venv: <target>/pyzmq-venv, <target> being two levels above
        // this executable (target/release/exbus).
        if let Ok(exe) = std::env::current_exe() {
            for dir in exe.ancestors().skip(1).take(3) {
                candidates.push(dir.join("pyzmq-venv").join("bin").join("python").into_os_string());
            }
        }
        candidates.push("python3".into());
        let interpreter = candidates.into_iter().find(imports_zmq)?;
        let script = std::env::temp_dir().join(format!("exbus-bench-peer-{}.py", std::process::id()));
        std::fs::write(&script, SCRIPT).ok()?;
        Some(Python { interpreter, script })
    }

    fn spawn(&self, args: &[String]) -> Result<PeerProcess, Failure> {
        let mut all = vec![self.script.to_string_lossy().into_owned()];
        all.extend(args.iter().cloned());
        PeerProcess::spawn_program(&self.interpreter, &all, &format!("bench_peer.py {}", args.join(" ")))
    }

    /// One Python PUSH->PULL trial in `mode`: the receiver's msg/s.
    pub fn push_pull(&self, s: &Settings, mode: &str) -> Result<f64, Failure> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let common =
            ["--mode".to_owned(), mode.to_owned(), "--count".to_owned(), s.python_messages.to_string()];
        let mut pull = vec!["pull".to_owned()];
        pull.extend(common.iter().cloned());
        let mut receiver = self.spawn(&pull)?;
        let ready = receiver.line(deadline)?;
        let endpoint = ready["endpoints"][0].as_str().unwrap_or_default().to_owned();
        let mut push = vec!["push".to_owned()];
        push.extend(common);
        push.extend(["--endpoint".to_owned(), endpoint]);
        let mut sender = self.spawn(&push)?;
        sender.line(deadline)?;
        let received = receiver.line(deadline)?;
        sender.finish(deadline)?;
        receiver.finish(deadline)?;
        Ok(received["rate"].as_f64().unwrap_or(0.0))
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
    }
}
