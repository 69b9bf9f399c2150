//! Drives `tests/python/peer.py`, a Python peer that behaves on the wire exactly like
//! the Python `experimance_common` services (pyzmq, `json.dumps` default separators).
//!
//! Include it from an integration test with
//! `#[path = "support/python.rs"] mod python;`. Std + serde_json only.
//!
//! ```ignore
//! let cases = python::write_cases(&[("era".into(), json!({"type": "EraChanged", ...}))]);
//! let mut sub = python::PeerBuilder::new(python::Role::Sub, "tcp://127.0.0.1:*")
//!     .bind().cases(&cases).spawn();
//! let endpoint = sub.ready();          // e.g. tcp://127.0.0.1:41234
//! // ... Rust publisher connects to `endpoint`, waits for the subscription, sends ...
//! sub.finish().assert_ok();
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The pyzmq version installed into the provisioned virtual environment.
pub const PYZMQ_VERSION: &str = "27.3.0";

/// Environment variable naming an interpreter to use instead (it must `import zmq`).
pub const PYTHON_ENV: &str = "EXPERIMANCE_TEST_PYTHON";

/// How long `ready()` waits for the peer to start (interpreter start + `import zmq`,
/// possibly on a machine busy compiling).
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Root of the workspace (this crate is the workspace root package).
pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo target directory (`CARGO_TARGET_DIR` if set, else `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_dir().join(dir)
            }
        }
        _ => workspace_dir().join("target"),
    }
}

/// Path of the peer script.
pub fn peer_script() -> PathBuf {
    workspace_dir().join("tests").join("python").join("peer.py")
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn imports_zmq(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import zmq, zmq.asyncio"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn unique_suffix() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos)
}

/// A Python interpreter that can `import zmq` (and `zmq.asyncio`).
///
/// Order: `$EXPERIMANCE_TEST_PYTHON` (must work, else panic), `python3` if it already
/// has pyzmq, else a virtual environment at `<target>/pyzmq-venv` with
/// `pyzmq==PYZMQ_VERSION`, provisioned on first use. Safe to call from many threads
/// and many test processes at once. Never skips: panics with the command to run by
/// hand if nothing works.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(find_or_provision).clone()
}

fn find_or_provision() -> PathBuf {
    if let Some(p) = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if imports_zmq(&p) {
            return p;
        }
        panic!(
            "{PYTHON_ENV}={} cannot `import zmq, zmq.asyncio`; install it with: {} -m pip install pyzmq=={PYZMQ_VERSION}",
            p.display(),
            p.display()
        );
    }
    let system = PathBuf::from("python3");
    if imports_zmq(&system) {
        return system;
    }
    let venv = target_dir().join("pyzmq-venv");
    let python = venv_python(&venv);
    if imports_zmq(&python) {
        return python;
    }
    provision(&venv);
    python
}

fn manual_fix(venv: &Path) -> String {
    format!(
        "run by hand: python3 -m venv {v} && {p} -m pip install --disable-pip-version-check pyzmq=={PYZMQ_VERSION} \
         (or point {PYTHON_ENV} at an interpreter that has pyzmq)",
        v = venv.display(),
        p = venv_python(venv).display()
    )
}

fn run_step(cmd: &mut Command, what: &str, venv: &Path) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}; {}", manual_fix(venv)));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\nstdout: {}\nstderr: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            manual_fix(venv)
        );
    }
}

/// Builds the venv in a private sibling directory and renames it into place, so
/// concurrent provisioners never see a half-built environment.
fn provision(venv: &Path) {
    let parent = venv.parent().expect("venv has a parent");
    std::fs::create_dir_all(parent)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}; {}", parent.display(), manual_fix(venv)));
    let tmp = parent.join(format!("pyzmq-venv.tmp-{}", unique_suffix()));
    let started = Instant::now();
    eprintln!("python(): provisioning pyzmq=={PYZMQ_VERSION} into {} (python3 has no zmq)", venv.display());
    run_step(Command::new("python3").arg("-m").arg("venv").arg(&tmp), "python3 -m venv", venv);
    let tmp_python = venv_python(&tmp);
    run_step(
        Command::new(&tmp_python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
            .arg(format!("pyzmq=={PYZMQ_VERSION}")),
        &format!("pip install pyzmq=={PYZMQ_VERSION}"),
        venv,
    );
    if !imports_zmq(&tmp_python) {
        let _ = std::fs::remove_dir_all(&tmp);
        panic!("pyzmq installed but `import zmq` fails; {}", manual_fix(venv));
    }
    if std::fs::rename(&tmp, venv).is_err() {
        // Lost the race, or a broken environment is in the way.
        if !imports_zmq(&venv_python(venv)) {
            let trash = parent.join(format!("pyzmq-venv.broken-{}", unique_suffix()));
            if std::fs::rename(venv, &trash).is_ok() {
                let _ = std::fs::remove_dir_all(&trash);
            }
            let _ = std::fs::rename(&tmp, venv);
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if !imports_zmq(&venv_python(venv)) {
        panic!("provisioned {} but its python cannot `import zmq`; {}", venv.display(), manual_fix(venv));
    }
    eprintln!("python(): provisioned in {:.1?}", started.elapsed());
}

/// Writes a cases file (`[{"topic": ..., "message": ...}, ...]`) to a unique path
/// under `<target>/python-peer-cases/` and returns it.
pub fn write_cases(cases: &[(String, serde_json::Value)]) -> PathBuf {
    let list: Vec<serde_json::Value> = cases
        .iter()
        .map(|(topic, message)| serde_json::json!({"topic": topic, "message": message}))
        .collect();
    let dir = target_dir().join("python-peer-cases");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join(format!("cases-{}.json", unique_suffix()));
    let text = serde_json::to_string_pretty(&serde_json::Value::Array(list)).expect("cases serialize");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Pub,
    Sub,
    Push,
    Pull,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pub => "pub",
            Role::Sub => "sub",
            Role::Push => "push",
            Role::Pull => "pull",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Blocking `zmq.Socket`.
    Sync,
    /// `zmq.asyncio` sockets inside `asyncio.run`.
    Async,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::Async => "async",
        }
    }
}

/// Arguments of one `peer.py` run. Defaults: connect, sync, timeout 10 s, repeat 1.
#[derive(Clone, Debug)]
pub struct PeerBuilder {
    role: Role,
    endpoint: String,
    bind: bool,
    mode: Mode,
    topics: Vec<String>,
    cases: Option<PathBuf>,
    timeout: Duration,
    repeat: usize,
    unordered: bool,
    echo: bool,
    finish_timeout: Option<Duration>,
    curve: Vec<String>,
}

impl PeerBuilder {
    pub fn new(role: Role, endpoint: impl Into<String>) -> Self {
        PeerBuilder {
            role,
            endpoint: endpoint.into(),
            bind: false,
            mode: Mode::Sync,
            topics: Vec::new(),
            cases: None,
            timeout: Duration::from_secs(10),
            repeat: 1,
            unordered: false,
            echo: false,
            finish_timeout: None,
            curve: Vec::new(),
        }
    }
    pub fn bind(mut self) -> Self {
        self.bind = true;
        self
    }
    pub fn connect(mut self) -> Self {
        self.bind = false;
        self
    }
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// sub: subscribe to this prefix (none = everything). pub: wait for a
    /// subscription to exactly this prefix before sending (none = wait until every
    /// case's frame is covered by some subscription).
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topics.push(topic.into());
        self
    }
    pub fn cases(mut self, path: impl AsRef<Path>) -> Self {
        self.cases = Some(path.as_ref().to_path_buf());
        self
    }
    /// Socket send/receive timeout and the pub's wait for a subscriber.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Send (pub/push) or expect (sub/pull) the whole case list `n` times.
    pub fn repeat(mut self, n: usize) -> Self {
        self.repeat = n;
        self
    }
    /// sub/pull: match received messages as a multiset instead of in order.
    pub fn unordered(mut self) -> Self {
        self.unordered = true;
        self
    }
    /// sub/pull: report every raw received frame (see `PeerReport::frames`).
    pub fn echo(mut self) -> Self {
        self.echo = true;
        self
    }
    /// Be a CURVE server with this secret key (Z85). The `--flag=value` form is
    /// needed: a Z85 key may begin with `-`, which argparse would take for a flag.
    pub fn curve_server(mut self, secret_z85: &str) -> Self {
        self.curve = vec![format!("--curve-server={secret_z85}")];
        self
    }
    /// Be a CURVE client of the server with public key `server`, with its own pair
    /// (all Z85).
    pub fn curve_client(mut self, server: &str, public: &str, secret: &str) -> Self {
        self.curve = vec![format!("--curve-client={server},{public},{secret}")];
        self
    }
    /// Bound on `finish()`; default `2 * timeout + 20 s`.
    pub fn finish_timeout(mut self, t: Duration) -> Self {
        self.finish_timeout = Some(t);
        self
    }

    /// The arguments passed to `peer.py` (after the script path).
    pub fn args(&self) -> Vec<String> {
        let mut a = vec![
            self.role.as_str().to_string(),
            "--endpoint".into(),
            self.endpoint.clone(),
            if self.bind { "--bind" } else { "--connect" }.into(),
            "--mode".into(),
            self.mode.as_str().into(),
            "--cases".into(),
            self.cases.as_ref().expect("PeerBuilder: cases(path) is required").display().to_string(),
            "--timeout".into(),
            format!("{}", self.timeout.as_secs_f64()),
            "--repeat".into(),
            self.repeat.to_string(),
        ];
        for t in &self.topics {
            // `--topic=` form so that topics starting with '-' or empty ones parse.
            a.push(format!("--topic={t}"));
        }
        if self.unordered {
            a.push("--unordered".into());
        }
        if self.echo {
            a.push("--echo".into());
        }
        a.extend(self.curve.iter().cloned());
        a
    }

    pub fn spawn(self) -> Peer {
        let args = self.args();
        let python = python();
        let mut child = Command::new(&python)
            .arg("-u")
            .arg(peer_script())
            .args(&args)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {} peer.py: {e}", python.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        Peer {
            child: Some(child),
            lines: rx,
            output: Vec::new(),
            endpoint: None,
            finish_timeout: self.finish_timeout.unwrap_or(self.timeout * 2 + Duration::from_secs(20)),
            description: format!("peer.py {}", args.join(" ")),
        }
    }
}

/// A running `peer.py`. Dropping it kills the process.
pub struct Peer {
    child: Option<Child>,
    lines: Receiver<String>,
    output: Vec<String>,
    endpoint: Option<String>,
    finish_timeout: Duration,
    description: String,
}

/// What the peer reported at the end.
#[derive(Clone, Debug, Default)]
pub struct PeerReport {
    /// Process exit code: 0 ok, 1 mismatches, 2 timeout, 3 usage, 4 internal error;
    /// -1 if killed (by `finish`'s timeout or a signal).
    pub exit_code: i32,
    pub received: u64,
    pub sent: u64,
    pub mismatches: Vec<String>,
    /// The `timeout` event, if the peer timed out (phase, missing, ...).
    pub timeout: Option<serde_json::Value>,
    /// The `error` event, if any.
    pub error: Option<serde_json::Value>,
    /// Raw received frames (only with `echo()`).
    pub frames: Vec<String>,
    /// Every stdout line, for diagnostics.
    pub output: Vec<String>,
    /// True if `finish` gave up and killed the peer.
    pub killed: bool,
}

impl PeerReport {
    /// Panics with the whole peer output unless the peer exited 0 with no mismatch.
    pub fn assert_ok(&self) -> &Self {
        if self.exit_code != 0 || !self.mismatches.is_empty() {
            panic!("python peer failed: {self}");
        }
        self
    }
}

impl std::fmt::Display for PeerReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "exit {} (killed: {}), received {}, sent {}",
            self.exit_code, self.killed, self.received, self.sent
        )?;
        for m in &self.mismatches {
            writeln!(f, "  mismatch: {m}")?;
        }
        if let Some(t) = &self.timeout {
            writeln!(f, "  timeout: {t}")?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "  error: {e}")?;
        }
        writeln!(f, "  output:")?;
        for l in &self.output {
            writeln!(f, "    {l}")?;
        }
        Ok(())
    }
}

fn event_of(line: &str) -> Option<(String, serde_json::Value)> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let ev = v.get("event")?.as_str()?.to_string();
    Some((ev, v))
}

impl Peer {
    /// Shorthand for `PeerBuilder::new(role, endpoint)`.
    pub fn builder(role: Role, endpoint: impl Into<String>) -> PeerBuilder {
        PeerBuilder::new(role, endpoint)
    }

    /// Waits (bounded by `READY_TIMEOUT`) for the ready line and returns the endpoint
    /// (for a bound `tcp://127.0.0.1:*` the real port). Idempotent.
    pub fn ready(&mut self) -> String {
        if let Some(e) = &self.endpoint {
            return e.clone();
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let ev = event_of(&line);
                    self.output.push(line);
                    if let Some((name, v)) = ev {
                        if name == "ready" {
                            let ep = v["endpoint"].as_str().expect("ready event has an endpoint").to_string();
                            self.endpoint = Some(ep.clone());
                            return ep;
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    panic!(
                        "{}: no ready line within {READY_TIMEOUT:?}; output: {:?}",
                        self.description, self.output
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.as_mut().and_then(|c| c.wait().ok());
                    self.child = None;
                    panic!(
                        "{}: exited ({status:?}) before ready; output: {:?}",
                        self.description, self.output
                    );
                }
            }
        }
    }

    /// Waits (bounded by the finish timeout) for the peer to print `done` and exit;
    /// kills it on timeout (then `killed` is true and `exit_code` is -1).
    pub fn finish(mut self) -> PeerReport {
        let deadline = Instant::now() + self.finish_timeout;
        let mut killed = false;
        // Read until EOF (the peer exited or closed stdout).
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.output.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    killed = true;
                    self.kill();
                    // Collect what was printed before the kill.
                    while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
                        self.output.push(line);
                    }
                    break;
                }
            }
        }
        let mut exit_code = -1;
        if let Some(mut child) = self.child.take() {
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        exit_code = status.code().unwrap_or(-1);
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                    _ => {
                        killed = true;
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        let mut report = PeerReport {
            exit_code,
            killed,
            output: std::mem::take(&mut self.output),
            ..PeerReport::default()
        };
        let mut done = false;
        for line in &report.output {
            let Some((name, v)) = event_of(line) else {
                continue;
            };
            match name.as_str() {
                "done" => {
                    done = true;
                    report.received = v["received"].as_u64().unwrap_or(0);
                    report.sent = v["sent"].as_u64().unwrap_or(0);
                    report.mismatches = v["mismatches"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|m| m.as_str().map(str::to_string).unwrap_or(m.to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                }
                "timeout" => report.timeout = Some(v),
                "error" => report.error = Some(v),
                "frame" => {
                    if let Some(raw) = v["raw"].as_str() {
                        report.frames.push(raw.to_string());
                    }
                }
                _ => {}
            }
        }
        if !done && report.exit_code == 0 {
            // Exited 0 without a done line: never count that as success.
            report.exit_code = -1;
        }
        report
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Process id of the peer, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}
