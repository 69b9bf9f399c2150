//! `exbus bench`: the library against a hand-written baseline (`zmq` + `serde_json`) and
//! against the transport's ceiling (raw `zmq` moving pre-encoded frames), measured in
//! one run.
//!
//! Each trial runs a sender and a receiver in separate processes (this executable,
//! `exbus bench-peer TASK IMPL`) over tcp loopback; the receiver binds, reports its
//! endpoint, counts the messages and reports its count, elapsed time (first to last
//! message) and peak RSS as a JSON line. A run is several rounds; in each round every
//! measurement runs twice for each side in a palindromic order (A B B A, or A B C C B
//! A), the side that goes first alternating between rounds. Absolute numbers drift
//! between runs on a busy machine, so what counts is a ratio of two sides, taken per
//! round (the trials of a round run back to back) and summarised by its median.

mod peer;
mod python;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use experimance_common::security::CurveKeyPair;
use serde_json::{json, Value};

pub use peer::PeerArgs;
use peer::{Impl, Task};

use crate::Failure;

/// The arguments of `exbus bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Rounds; each runs every measurement twice for each side (A B B A), alternating
    /// which goes first. Default 5 (3 with `--quick`).
    #[arg(long)]
    rounds: Option<u32>,
    /// Messages per throughput trial (89-byte Heartbeats).
    #[arg(long)]
    messages: Option<u64>,
    /// Measured round trips per latency trial.
    #[arg(long)]
    round_trips: Option<u64>,
    /// Round trips before measuring.
    #[arg(long)]
    warmup: Option<u64>,
    /// MB moved per large-message trial (64 KiB, 1 MiB and 4 MiB `RenderRequest`s).
    #[arg(long, value_name = "MB")]
    large_mb: Option<u64>,
    /// Messages per fan-out trial (one publisher, 8 subscriber processes).
    #[arg(long)]
    fanout_messages: Option<u64>,
    /// Subscriber processes of the fan-out trials.
    #[arg(long, default_value_t = 8)]
    fanout: usize,
    /// Subscribers of the many-sockets trial (one process; async on one runtime, and
    /// blocking sockets on as many threads).
    #[arg(long)]
    many: Option<usize>,
    /// Seconds the many-sockets trial publishes (at 10 messages per second).
    #[arg(long, value_name = "S")]
    many_secs: Option<u64>,
    /// Messages per Python trial (the project's pyzmq peer, sync and asyncio).
    #[arg(long)]
    python_messages: Option<u64>,
    /// The lossy PUB/SUB receiver ends after this long without a message.
    #[arg(long, value_name = "MS")]
    idle_ms: Option<u64>,
    /// A short run (under 30 s): 3 rounds of smaller trials, one trial a side per round.
    #[arg(long)]
    quick: bool,
    /// Exit with status 1 when a target is missed (after printing the results).
    #[arg(long)]
    check: bool,
    /// Print the results as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also write a chart of throughput against message size (SVG) to this file.
    #[arg(long, value_name = "PATH")]
    svg: Option<std::path::PathBuf>,
}

/// The settings of a run: the arguments with the defaults of `--quick` or of a full run.
#[derive(Debug, Clone)]
struct Settings {
    rounds: u32,
    messages: u64,
    round_trips: u64,
    warmup: u64,
    large_mb: u64,
    fanout_messages: u64,
    fanout: usize,
    many: usize,
    many_secs: u64,
    python_messages: u64,
    idle_ms: u64,
    quick: bool,
}

impl Settings {
    fn of(a: &BenchArgs) -> Settings {
        let q = a.quick;
        Settings {
            rounds: a.rounds.unwrap_or(if q { 3 } else { 5 }),
            messages: a.messages.unwrap_or(if q { 50_000 } else { 750_000 }),
            round_trips: a.round_trips.unwrap_or(if q { 2_000 } else { 8_000 }),
            warmup: a.warmup.unwrap_or(if q { 200 } else { 1_000 }),
            large_mb: a.large_mb.unwrap_or(if q { 12 } else { 192 }),
            fanout_messages: a.fanout_messages.unwrap_or(if q { 10_000 } else { 150_000 }),
            fanout: a.fanout,
            many: a.many.unwrap_or(if q { 100 } else { 1_000 }),
            many_secs: a.many_secs.unwrap_or(if q { 1 } else { 5 }),
            python_messages: a.python_messages.unwrap_or(if q { 3_000 } else { 30_000 }),
            idle_ms: a.idle_ms.unwrap_or(if q { 200 } else { 500 }),
            quick: q,
        }
    }
}

/// `exbus bench-peer`: one side of one trial.
pub fn peer(args: PeerArgs) -> Result<(), Failure> {
    peer::run(args)
}

/// The longest one trial may take before its peers are killed.
const TRIAL_LIMIT: Duration = Duration::from_secs(120);

/// A peer process with its stdout read line by line.
struct PeerProcess {
    name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl PeerProcess {
    fn spawn(args: &[String]) -> Result<PeerProcess, Failure> {
        let exe = std::env::current_exe().map_err(|e| Failure::Runtime(format!("current_exe: {e}")))?;
        let mut all = vec!["bench-peer".to_owned()];
        all.extend(args.iter().cloned());
        Self::spawn_program(exe.as_os_str(), &all, &format!("bench-peer {}", args.join(" ")))
    }

    fn spawn_program(program: &std::ffi::OsStr, args: &[String], name: &str) -> Result<PeerProcess, Failure> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Failure::Runtime(format!("cannot start `{name}`: {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| Failure::Runtime("no stdout".to_owned()))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(PeerProcess { name: name.to_owned(), child, lines })
    }

    /// The next line, as JSON.
    fn line(&mut self, deadline: Instant) -> Result<Value, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = self.lines.recv_timeout(left).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => {
                Failure::Runtime(format!("`{}` did not answer within {TRIAL_LIMIT:?}", self.name))
            }
            mpsc::RecvTimeoutError::Disconnected => {
                Failure::Runtime(format!("`{}` exited without a result", self.name))
            }
        })?;
        serde_json::from_str(&line)
            .map_err(|e| Failure::Runtime(format!("`{}` printed {line:?}: {e}", self.name)))
    }

    /// Waits for a successful exit.
    fn finish(mut self, deadline: Instant) -> Result<(), Failure> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(Failure::Runtime(format!("`{}` failed: {status}", self.name)))
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
                Ok(None) => return Err(Failure::Runtime(format!("`{}` did not exit", self.name))),
                Err(e) => return Err(Failure::Runtime(format!("waiting for `{}`: {e}", self.name))),
            }
        }
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn value_name(v: impl clap::ValueEnum) -> String {
    v.to_possible_value().map(|p| p.get_name().to_owned()).unwrap_or_default()
}

/// The CURVE keys of a run: generated once, handed to the peers on their command line.
struct Keys {
    server: CurveKeyPair,
    client: CurveKeyPair,
}

impl Keys {
    fn generate() -> Result<Keys, Failure> {
        let gen = || CurveKeyPair::generate().map_err(|e| Failure::Runtime(format!("CURVE keys: {e}")));
        Ok(Keys { server: gen()?, client: gen()? })
    }

    /// `--flag=value`: a Z85 key may begin with '-'.
    fn server_arg(&self) -> String {
        format!("--curve-server={}", self.server.secret().expose_z85())
    }

    fn client_arg(&self) -> String {
        format!(
            "--curve-client={},{},{}",
            self.server.public().to_z85(),
            self.client.public().to_z85(),
            self.client.secret().expose_z85()
        )
    }
}

/// One trial: starts the binding peer, then the connecting ones with its endpoints.
/// Returns (binder's result, connectors' results).
fn trial(binder: Vec<String>, connectors: Vec<Vec<String>>) -> Result<(Value, Vec<Value>), Failure> {
    let deadline = Instant::now() + TRIAL_LIMIT;
    let mut bound = PeerProcess::spawn(&binder)?;
    let ready = bound.line(deadline)?;
    let mut endpoints = Vec::new();
    for ep in ready["endpoints"].as_array().into_iter().flatten() {
        endpoints.push("--endpoint".to_owned());
        endpoints.push(ep.as_str().unwrap_or_default().to_owned());
    }
    let mut peers = Vec::new();
    for mut c in connectors {
        c.extend(endpoints.iter().cloned());
        peers.push(PeerProcess::spawn(&c)?);
    }
    let mut results = Vec::new();
    for p in &mut peers {
        results.push(p.line(deadline)?);
    }
    let bound_result = bound.line(deadline)?;
    for p in peers {
        p.finish(deadline)?;
    }
    bound.finish(deadline)?;
    Ok((bound_result, results))
}

/// What a throughput trial measured.
#[derive(Debug, Clone, Copy, Default)]
struct Throughput {
    /// Messages per second at the receiver (first to last message).
    rate: f64,
    /// Fraction of the sent messages that never arrived.
    loss: f64,
    /// Receiver peak RSS in MB.
    rss_mb: f64,
    /// Messages per second the sender handed to its socket.
    sender_rate: f64,
    /// CPU time of the receiving thread per message, in ns.
    cpu_ns: f64,
}

impl Throughput {
    fn of(received: &Value, sent: &Value, messages: u64) -> Throughput {
        let got = received["received"].as_f64().unwrap_or(0.0);
        Throughput {
            rate: received["rate"].as_f64().unwrap_or(0.0),
            loss: 1.0 - got / messages.max(1) as f64,
            rss_mb: received["peak_rss_kb"].as_f64().unwrap_or(0.0) * 1024.0 / 1e6,
            sender_rate: sent["rate"].as_f64().unwrap_or(0.0),
            cpu_ns: received["thread_cpu_ns_per_message"].as_f64().unwrap_or(0.0),
        }
    }
}

/// What a trial runs.
#[derive(Debug, Clone, Copy)]
struct Spec {
    pubsub: bool,
    rx: Impl,
    tx: Impl,
    lossless: bool,
    curve: bool,
    kib: usize,
    messages: u64,
}

impl Spec {
    fn push(imp: Impl, messages: u64) -> Spec {
        Spec { pubsub: false, rx: imp, tx: imp, lossless: true, curve: false, kib: 0, messages }
    }

    fn pubsub(imp: Impl, lossless: bool, messages: u64) -> Spec {
        Spec { pubsub: true, lossless, ..Spec::push(imp, messages) }
    }

    fn common(&self, s: &Settings) -> Vec<String> {
        let mut v = vec!["--count".to_owned(), self.messages.to_string()];
        if self.lossless {
            v.push("--lossless".to_owned());
        } else {
            v.extend(["--idle-ms".to_owned(), s.idle_ms.to_string()]);
        }
        if self.kib > 0 {
            v.extend(["--depth-map-kib".to_owned(), self.kib.to_string()]);
        }
        v
    }
}

fn peer_args(task: Task, imp: Impl, common: &[String]) -> Vec<String> {
    let mut v = vec![value_name(task), value_name(imp)];
    v.extend(common.iter().cloned());
    v
}

/// A throughput trial: the receiver binds, the sender connects.
fn throughput(s: &Settings, keys: &Keys, spec: Spec) -> Result<Throughput, Failure> {
    let (rx_task, tx_task) = if spec.pubsub { (Task::Sub, Task::Pub) } else { (Task::Pull, Task::Push) };
    let common = spec.common(s);
    let mut rx = peer_args(rx_task, spec.rx, &common);
    let mut tx = peer_args(tx_task, spec.tx, &common);
    if spec.curve {
        rx.push(keys.server_arg());
        tx.push(keys.client_arg());
    }
    let (received, sent) = trial(rx, vec![tx])?;
    Ok(Throughput::of(&received, sent.first().unwrap_or(&Value::Null), spec.messages))
}

/// Fan-out: one bound lossless publisher, `s.fanout` connected subscriber processes;
/// the rate is the mean of the subscribers' rates, the loss and RSS their worst.
fn fanout(s: &Settings, imp: Impl) -> Result<Throughput, Failure> {
    let spec = Spec::pubsub(imp, true, s.fanout_messages);
    let common = spec.common(s);
    let mut publisher = peer_args(Task::Pub, imp, &common);
    publisher.extend(["--subscribers".to_owned(), s.fanout.to_string()]);
    let subs = (0..s.fanout).map(|_| peer_args(Task::Sub, imp, &common)).collect();
    let (sent, received) = trial(publisher, subs)?;
    let each: Vec<Throughput> = received.iter().map(|r| Throughput::of(r, &sent, spec.messages)).collect();
    Ok(Throughput {
        rate: mean(&each.iter().map(|t| t.rate).collect::<Vec<_>>()),
        loss: each.iter().map(|t| t.loss).fold(0.0, f64::max),
        rss_mb: each.iter().map(|t| t.rss_mb).fold(0.0, f64::max),
        sender_rate: each.first().map(|t| t.sender_rate).unwrap_or(0.0),
        cpu_ns: mean(&each.iter().map(|t| t.cpu_ns).collect::<Vec<_>>()),
    })
}

/// Round-trip percentiles (p50, p99, p99.9) in microseconds.
fn latency(s: &Settings, keys: &Keys, imp: Impl, curve: bool) -> Result<[f64; 3], Failure> {
    let mut common = vec!["--count".to_owned(), s.round_trips.to_string()];
    common.extend(["--warmup".to_owned(), s.warmup.to_string()]);
    let mut pong = peer_args(Task::Pong, imp, &common);
    let mut ping = peer_args(Task::Ping, imp, &common);
    if curve {
        pong.push(keys.server_arg());
        ping.push(keys.client_arg());
    }
    let (_echoed, measured) = trial(pong, vec![ping])?;
    let m = measured.first().cloned().unwrap_or(Value::Null);
    let get = |k: &str| m[k].as_f64().unwrap_or(0.0);
    Ok([get("p50_us"), get("p99_us"), get("p999_us")])
}

/// The trial values of one round, by series name (`"push.library"`, ...).
#[derive(Default)]
struct Round {
    trials: BTreeMap<String, Vec<f64>>,
    /// Series whose round value is the largest trial value (peak RSS), not the mean.
    peaks: BTreeMap<String, f64>,
}

impl Round {
    fn note(&mut self, key: &str, v: f64) {
        self.trials.entry(key.to_owned()).or_default().push(v);
    }

    fn peak(&mut self, key: &str, v: f64) {
        let p = self.peaks.entry(key.to_owned()).or_default();
        *p = p.max(v);
    }

    /// A throughput trial: its rate, loss, sender rate and CPU under `key`, its RSS
    /// under `rss`.
    fn throughput(&mut self, key: &str, rss: &str, t: Throughput) {
        self.note(key, t.rate);
        self.note(&format!("{key}.loss"), t.loss);
        self.note(&format!("{key}.sender_rate"), t.sender_rate);
        self.note(&format!("{key}.cpu_ns"), t.cpu_ns);
        self.peak(rss, t.rss_mb);
    }
}

/// Per-round values of every series.
#[derive(Default)]
struct Series(BTreeMap<String, Vec<f64>>);

impl Series {
    fn close(&mut self, round: Round) {
        for (k, v) in round.trials {
            self.0.entry(k).or_default().push(mean(&v));
        }
        for (k, v) in round.peaks {
            self.0.entry(k).or_default().push(v);
        }
    }

    fn get(&self, key: &str) -> &[f64] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `num / den` per round.
    fn ratios(&self, num: &str, den: &str) -> Vec<f64> {
        self.get(num).iter().zip(self.get(den)).map(|(n, d)| if *d > 0.0 { n / d } else { 0.0 }).collect()
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(values: &[f64]) -> Stats {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    };
    Stats { median, min: v.first().copied().unwrap_or(0.0), max: v.last().copied().unwrap_or(0.0) }
}

fn summary(values: &[f64]) -> Value {
    let s = stats(values);
    json!({ "median": s.median, "min": s.min, "max": s.max, "values": values })
}

/// The palindromic order of a round: `sides` then the reverse, the first side
/// alternating with the round's parity (for two or more sides, the first two swap).
/// `--quick` runs one trial a side (the first half), the order still alternating.
fn palindrome(s: &Settings, round: u32, sides: &[Impl]) -> Vec<Impl> {
    let mut first: Vec<Impl> = sides.to_vec();
    if round % 2 == 1 && first.len() >= 2 {
        first.swap(0, 1);
    }
    let mut all = first.clone();
    if !s.quick {
        all.extend(first.iter().rev());
    }
    all
}

/// The series name of an implementation.
fn side(imp: Impl) -> &'static str {
    match imp {
        Impl::LibraryBlocking => "library",
        Impl::Async => "async",
        Impl::Baseline => "baseline",
        Impl::Service => "service",
        Impl::Raw => "raw",
    }
}

/// The message sizes of the large-message trials, in KiB of base64.
const LARGE_KIB: [usize; 3] = [64, 1024, 4096];

fn large_messages(s: &Settings, kib: usize) -> u64 {
    ((s.large_mb * 1_000_000) / (kib as u64 * 1024)).max(8)
}

/// Runs every measurement of one round.
fn round(s: &Settings, keys: &Keys, n: u32, python: Option<&python::Python>) -> Result<Round, Failure> {
    use Impl::{Async, Baseline, LibraryBlocking as Lib, Raw, Service};
    let mut r = Round::default();
    // PUSH/PULL: the library (blocking and async), the baseline and the ceiling.
    for imp in palindrome(s, n, &[Lib, Baseline, Raw, Async]) {
        let t = throughput(s, keys, Spec::push(imp, s.messages))?;
        r.throughput(&format!("push.{}", side(imp)), &format!("rss.{}", side(imp)), t);
    }
    // Dispatch overhead: the service loop against the plain async receive loop, both
    // fed by the async sender.
    for imp in palindrome(s, n, &[Service, Async]) {
        let t = throughput(s, keys, Spec { tx: Async, ..Spec::push(imp, s.messages) })?;
        r.throughput(&format!("service.{}", side(imp)), "rss.service", t);
    }
    for imp in palindrome(s, n, &[Lib, Baseline, Raw]) {
        let t = throughput(s, keys, Spec::pubsub(imp, true, s.messages))?;
        r.throughput(&format!("lossless.{}", side(imp)), &format!("rss.{}", side(imp)), t);
    }
    for imp in palindrome(s, n, &[Lib, Baseline]) {
        let t = throughput(s, keys, Spec::pubsub(imp, false, s.messages))?;
        r.throughput(&format!("lossy.{}", side(imp)), &format!("rss.{}", side(imp)), t);
    }
    for imp in palindrome(s, n, &[Lib, Baseline]) {
        let [p50, p99, p999] = latency(s, keys, imp, false)?;
        r.note(&format!("p50.{}", side(imp)), p50);
        r.note(&format!("p99.{}", side(imp)), p99);
        r.note(&format!("p999.{}", side(imp)), p999);
    }
    // CURVE: the library and the hand-written baseline, both encrypted; the library's
    // plaintext is the PUSH/PULL row of this round.
    for imp in palindrome(s, n, &[Lib, Baseline]) {
        let t = throughput(s, keys, Spec { curve: true, ..Spec::push(imp, s.messages) })?;
        r.throughput(&format!("curve.{}", side(imp)), "rss.curve", t);
        let [p50, p99, _] = latency(s, keys, imp, true)?;
        r.note(&format!("curve_p50.{}", side(imp)), p50);
        r.note(&format!("curve_p99.{}", side(imp)), p99);
    }
    for kib in LARGE_KIB {
        for imp in palindrome(s, n, &[Lib, Baseline, Raw]) {
            let t = throughput(s, keys, Spec { kib, ..Spec::push(imp, large_messages(s, kib)) })?;
            r.throughput(&format!("large{kib}.{}", side(imp)), &format!("large{kib}_rss.{}", side(imp)), t);
        }
    }
    for imp in palindrome(s, n, &[Lib, Baseline]) {
        let t = fanout(s, imp)?;
        r.throughput(&format!("fanout.{}", side(imp)), &format!("fanout_rss.{}", side(imp)), t);
    }
    if let Some(py) = python {
        for mode in python::MODES {
            r.note(&format!("python.{mode}"), py.push_pull(s, mode)?);
        }
    }
    Ok(r)
}

/// Runs the benchmark and prints the table (or the JSON object).
pub fn run(args: BenchArgs) -> Result<(), Failure> {
    let s = Settings::of(&args);
    if s.rounds == 0 || s.messages < 2 || s.round_trips == 0 || s.fanout == 0 {
        return Err(Failure::Usage(
            "--rounds, --round-trips, --fanout must be >= 1 and --messages >= 2".to_owned(),
        ));
    }
    let started = Instant::now();
    let progress = !args.json || std::io::stderr().is_terminal();
    let keys = Keys::generate()?;
    let python = python::Python::find();
    if python.is_none() && progress {
        eprintln!("exbus bench: no python3 with pyzmq (set {}): no Python rows", python::PYTHON_ENV);
    }
    let mut series = Series::default();
    for n in 0..s.rounds {
        if progress {
            eprintln!(
                "exbus bench: round {}/{} ({:.0} s so far)",
                n + 1,
                s.rounds,
                started.elapsed().as_secs_f64()
            );
        }
        series.close(round(&s, &keys, n, python.as_ref())?);
    }
    if progress {
        eprintln!("exbus bench: many sockets ({:.0} s so far)", started.elapsed().as_secs_f64());
    }
    let many = many_sockets(&s)?;
    let elapsed = started.elapsed().as_secs_f64();
    let report = report_json(&s, &series, &many, python.is_some(), elapsed);
    let text = if args.json { report.to_string() } else { table(&s, &series, &many, &report, elapsed) };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{text}").map_err(|e| Failure::Runtime(format!("cannot write output: {e}")))?;
    if let Some(path) = &args.svg {
        std::fs::write(path, svg_chart(&series))
            .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", path.display())))?;
    }
    let missed: Vec<&str> = report["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["met"] == false)
        .filter_map(|t| t["name"].as_str())
        .collect();
    if args.check && !missed.is_empty() {
        return Err(Failure::Runtime(format!("targets missed: {}", missed.join(", "))));
    }
    Ok(())
}

/// The many-sockets trial: `s.many` subscribers in one process (async on one runtime,
/// then blocking on a thread each), fed by one bound lossless publisher at 10 msg/s.
struct Many {
    /// (implementation, the peer's result), async first.
    runs: Vec<(&'static str, Value)>,
}

fn many_sockets(s: &Settings) -> Result<Many, Failure> {
    let count = (s.many_secs * 10).max(2);
    let mut runs = Vec::new();
    for imp in [Impl::Async, Impl::LibraryBlocking] {
        let common =
            ["--count".to_owned(), count.to_string(), "--subscribers".to_owned(), s.many.to_string()];
        let mut publisher = peer_args(Task::Pub, Impl::LibraryBlocking, &common);
        publisher.extend(["--lossless".to_owned(), "--interval-ms".to_owned(), "100".to_owned()]);
        let subscribers = peer_args(Task::Many, imp, &common);
        let (_sent, results) = trial(publisher, vec![subscribers])?;
        runs.push((side(imp), results.into_iter().next().unwrap_or(Value::Null)));
    }
    Ok(Many { runs })
}

/// How a row's values print.
#[derive(Clone, Copy)]
enum Unit {
    Rate,
    Us,
    Mb,
    MbPerS,
    Ns,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Rate if v >= 1e6 => format!("{:.2}M", v / 1e6),
            Unit::Rate if v >= 1e3 => format!("{:.1}k", v / 1e3),
            Unit::Rate => format!("{v:.1}"),
            Unit::Us | Unit::Mb | Unit::Ns => format!("{v:.1}"),
            Unit::MbPerS => format!("{v:.0}"),
        }
    }
}

/// A target on a row's ratio (or, for `Max`, on the numerator's largest value).
#[derive(Clone, Copy)]
enum Goal {
    AtLeast(f64),
    AtMost(f64),
    /// The numerator's largest round value at most this.
    MaxAtMost(f64),
}

/// One line of the table: `num` against `den` (series names), their ratio per round.
struct Row {
    id: String,
    label: String,
    num: String,
    den: String,
    unit: Unit,
    /// Values are messages per second; shown as MB/s of frames of this many bytes.
    frame_bytes: Option<usize>,
    goal: Option<Goal>,
}

fn row(id: &str, label: &str, num: &str, den: &str, unit: Unit, goal: Option<Goal>) -> Row {
    Row {
        id: id.to_owned(),
        label: label.to_owned(),
        num: num.to_owned(),
        den: den.to_owned(),
        unit,
        frame_bytes: None,
        goal,
    }
}

fn rows(python: bool) -> Vec<Row> {
    use Goal::{AtLeast, AtMost, MaxAtMost};
    use Unit::{Mb, Ns, Rate, Us};
    let mut v = vec![
        row(
            "push_pull",
            "PUSH->PULL msg/s: library / baseline",
            "push.library",
            "push.baseline",
            Rate,
            Some(AtLeast(1.0)),
        ),
        row(
            "push_pull_ceiling",
            "PUSH->PULL msg/s: library / raw ceiling",
            "push.library",
            "push.raw",
            Rate,
            Some(AtLeast(0.75)),
        ),
        row(
            "baseline_ceiling",
            "PUSH->PULL msg/s: baseline / raw ceiling",
            "push.baseline",
            "push.raw",
            Rate,
            None,
        ),
        row(
            "pub_sub_lossless",
            "PUB->SUB lossless: library / baseline",
            "lossless.library",
            "lossless.baseline",
            Rate,
            Some(AtLeast(0.95)),
        ),
        row(
            "pub_sub_lossless_ceiling",
            "PUB->SUB lossless: library / ceiling",
            "lossless.library",
            "lossless.raw",
            Rate,
            Some(AtLeast(0.75)),
        ),
        row(
            "pub_sub_lossy",
            "PUB->SUB lossy, delivered: lib / base",
            "lossy.library",
            "lossy.baseline",
            Rate,
            None,
        ),
        row(
            "pub_sub_lossy_send",
            "PUB->SUB lossy, publish calls/s",
            "lossy.library.sender_rate",
            "lossy.baseline.sender_rate",
            Rate,
            None,
        ),
        row(
            "async_push_pull",
            "async PUSH->PULL / blocking baseline",
            "push.async",
            "push.baseline",
            Rate,
            Some(AtLeast(0.75)),
        ),
        row(
            "service_dispatch",
            "service handler / async pull loop",
            "service.service",
            "service.async",
            Rate,
            Some(AtLeast(0.95)),
        ),
        row(
            "service_dispatch_cpu",
            "  receiving thread CPU ns/msg",
            "service.service.cpu_ns",
            "service.async.cpu_ns",
            Ns,
            Some(AtMost(1.05)),
        ),
        row(
            "latency_p50",
            "round trip p50 us: library / baseline",
            "p50.library",
            "p50.baseline",
            Us,
            Some(AtMost(1.05)),
        ),
        row("latency_p99", "round trip p99 us", "p99.library", "p99.baseline", Us, Some(AtMost(1.15))),
        row("latency_p999", "round trip p99.9 us", "p999.library", "p999.baseline", Us, None),
        row(
            "curve_push_pull",
            "CURVE PUSH->PULL: library / hand-written",
            "curve.library",
            "curve.baseline",
            Rate,
            Some(AtLeast(0.95)),
        ),
        row("curve_cost", "  library CURVE / library plaintext", "curve.library", "push.library", Rate, None),
        row(
            "curve_latency_p50",
            "CURVE round trip p50 us: lib / hand",
            "curve_p50.library",
            "curve_p50.baseline",
            Us,
            Some(AtMost(1.05)),
        ),
        row(
            "curve_latency_p99",
            "CURVE round trip p99 us: lib / hand",
            "curve_p99.library",
            "curve_p99.baseline",
            Us,
            Some(AtMost(1.15)),
        ),
        row(
            "curve_cost_p50",
            "  p50: library CURVE / plaintext",
            "curve_p50.library",
            "p50.library",
            Us,
            None,
        ),
    ];
    for kib in LARGE_KIB {
        let bytes = peer::wire_bytes_of(kib).len();
        let size = if kib >= 1024 { format!("{} MiB", kib / 1024) } else { format!("{kib} KiB") };
        let goal = (kib == 1024).then_some(Goal::AtLeast(0.9));
        for (what, den, g) in [("baseline", "baseline", None), ("ceiling", "raw", goal)] {
            let mut r = row(
                &format!("large_{kib}k_{what}"),
                &format!("RenderRequest {size}, MB/s: lib / {what}"),
                &format!("large{kib}.library"),
                &format!("large{kib}.{den}"),
                Unit::MbPerS,
                g,
            );
            r.frame_bytes = Some(bytes);
            v.push(r);
        }
        v.push(row(
            &format!("large_{kib}k_rss"),
            "  its receiver peak RSS, MB: lib / base",
            &format!("large{kib}_rss.library"),
            &format!("large{kib}_rss.baseline"),
            Mb,
            None,
        ));
    }
    v.push(row(
        "fanout",
        "fan-out, msg/s per subscriber: lib / base",
        "fanout.library",
        "fanout.baseline",
        Rate,
        Some(AtLeast(0.95)),
    ));
    if python {
        v.push(row(
            "python_sync",
            "library / Python sync PUSH->PULL",
            "push.library",
            "python.sync",
            Rate,
            Some(AtLeast(10.0)),
        ));
        v.push(row(
            "python_async",
            "library async / Python asyncio",
            "push.async",
            "python.async",
            Rate,
            Some(AtLeast(30.0)),
        ));
    }
    v.push(row(
        "receiver_peak_rss",
        "receiver peak RSS, MB: lib / base",
        "rss.library",
        "rss.baseline",
        Mb,
        Some(MaxAtMost(10.0)),
    ));
    v
}

impl Row {
    fn scale(&self) -> f64 {
        self.frame_bytes.map_or(1.0, |b| b as f64 / 1e6)
    }

    fn num_values(&self, s: &Series) -> Vec<f64> {
        s.get(&self.num).iter().map(|v| v * self.scale()).collect()
    }

    fn den_values(&self, s: &Series) -> Vec<f64> {
        s.get(&self.den).iter().map(|v| v * self.scale()).collect()
    }

    /// (what, value, met) of the row's target.
    fn target(&self, s: &Series) -> Option<(String, f64, bool)> {
        let ratio = stats(&s.ratios(&self.num, &self.den)).median;
        Some(match self.goal? {
            Goal::AtLeast(g) => (format!("ratio >= {g}"), ratio, ratio >= g),
            Goal::AtMost(g) => (format!("ratio <= {g}"), ratio, ratio <= g),
            Goal::MaxAtMost(g) => {
                let max = stats(&self.num_values(s)).max;
                (format!("max <= {g}"), max, max <= g)
            }
        })
    }
}

fn report_json(s: &Settings, series: &Series, many: &Many, python: bool, elapsed: f64) -> Value {
    let rows = rows(python);
    let row_list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "name": r.id,
                "label": r.label,
                "numerator": { "series": r.num, "values": summary(&r.num_values(series)) },
                "denominator": { "series": r.den, "values": summary(&r.den_values(series)) },
                "ratio": summary(&series.ratios(&r.num, &r.den)),
                "unit": match r.unit {
                    Unit::Rate => "messages per second",
                    Unit::Us => "microseconds",
                    Unit::Mb => "MB",
                    Unit::MbPerS => "MB/s",
                    Unit::Ns => "ns per message",
                },
            })
        })
        .collect();
    let targets: Vec<Value> = rows
        .iter()
        .filter_map(|r| {
            let (what, value, met) = r.target(series)?;
            Some(json!({ "name": r.id, "target": what, "value": value, "met": met }))
        })
        .collect();
    let series_json: serde_json::Map<String, Value> =
        series.0.iter().map(|(k, v)| (k.clone(), summary(v))).collect();
    json!({
        "settings": {
            "rounds": s.rounds,
            "messages": s.messages,
            "round_trips": s.round_trips,
            "warmup": s.warmup,
            "large_mb": s.large_mb,
            "fanout_subscribers": s.fanout,
            "fanout_messages": s.fanout_messages,
            "many_subscribers": s.many,
            "python_messages": s.python_messages,
            "quick": s.quick,
            "message_bytes": peer::wire_bytes().len(),
            "large_message_bytes": LARGE_KIB.map(|k| peer::wire_bytes_of(k).len()),
            "pub_topic": peer::TOPIC,
            "transport": "tcp loopback, sender and receiver in separate processes",
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        },
        "rows": row_list,
        "series": series_json,
        "many_sockets": many.runs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<serde_json::Map<_, _>>(),
        "python": python,
        "targets": targets,
        "elapsed_s": elapsed,
    })
}

fn table(s: &Settings, series: &Series, many: &Many, report: &Value, elapsed: f64) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "exbus bench: {} rounds; {} messages per throughput trial, {} round trips (+{} warm-up) per latency trial;\n\
         a {}-byte Heartbeat over tcp loopback, every peer its own process.\n\
         per round: {}; shown: median (min-max) over rounds;\n\
         ratio = A/B, taken per round.\n\n",
        s.rounds,
        s.messages,
        s.round_trips,
        s.warmup,
        peer::wire_bytes().len(),
        if s.quick { "one trial a side (--quick), the order alternating" } else { "the mean of 2 trials a side (order A B B A)" },
    ));
    out.push_str(&format!("{:<44} {:>22} {:>22} {:>19}\n", "measurement: A / B", "A", "B", "ratio"));
    let cell = |v: &[f64], u: Unit| {
        let st = stats(v);
        format!("{} ({}-{})", u.show(st.median), u.show(st.min), u.show(st.max))
    };
    for r in rows(report["python"] == true) {
        let ratio = stats(&series.ratios(&r.num, &r.den));
        out.push_str(&format!(
            "{:<44} {:>22} {:>22} {:>19}\n",
            r.label,
            cell(&r.num_values(series), r.unit),
            cell(&r.den_values(series), r.unit),
            format!("{:.3} ({:.2}-{:.2})", ratio.median, ratio.min, ratio.max)
        ));
    }
    let pct = |k: &str| format!("{:.2}%", stats(series.get(k)).max * 100.0);
    out.push_str(&format!(
        "\nloss (worst round): PUSH->PULL {} / {} / ceiling {}, async {}, lossless PUB->SUB {} / {}, CURVE {} / {}, \
         fan-out {} / {}, lossy PUB->SUB {} / {} (library / baseline)\n",
        pct("push.library.loss"),
        pct("push.baseline.loss"),
        pct("push.raw.loss"),
        pct("push.async.loss"),
        pct("lossless.library.loss"),
        pct("lossless.baseline.loss"),
        pct("curve.library.loss"),
        pct("curve.baseline.loss"),
        pct("fanout.library.loss"),
        pct("fanout.baseline.loss"),
        pct("lossy.library.loss"),
        pct("lossy.baseline.loss"),
    ));
    out.push_str(&format!(
        "\nmany sockets: {} subscribers in one process, 10 msg/s each from one publisher:\n",
        s.many
    ));
    for (name, v) in &many.runs {
        out.push_str(&format!(
            "  {:<8} {:>8.1} kB RSS per socket, {:>8.0} ns process CPU per message, {} of {} delivered\n",
            if *name == "async" { "async" } else { "threads" },
            v["kb_per_socket"].as_f64().unwrap_or_default(),
            v["process_cpu_ns_per_message"].as_f64().unwrap_or_default(),
            v["received"],
            v["expected"],
        ));
    }
    out.push_str("\ntargets:\n");
    for t in report["targets"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<26} {:<16} {:>8.3}  {}\n",
            t["name"].as_str().unwrap_or_default(),
            t["target"].as_str().unwrap_or_default(),
            t["value"].as_f64().unwrap_or_default(),
            if t["met"].as_bool().unwrap_or(false) { "met" } else { "MISSED" }
        ));
    }
    out.push_str(&format!("\ntook {elapsed:.1} s"));
    out
}

/// The chart of `--svg`: median MB/s against message size (both axes logarithmic) for
/// the library, the hand-written baseline and the raw ceiling, PUSH->PULL.
fn svg_chart(series: &Series) -> String {
    let sizes: Vec<(String, usize, String)> =
        std::iter::once(("89 B".to_owned(), peer::wire_bytes().len(), "push".to_owned()))
            .chain(LARGE_KIB.iter().map(|&k| {
                let label = if k >= 1024 { format!("{} MiB", k / 1024) } else { format!("{k} KiB") };
                (label, peer::wire_bytes_of(k).len(), format!("large{k}"))
            }))
            .collect();
    let (w, h, left, right, top, bottom) = (640.0, 400.0, 70.0, 150.0, 30.0, 50.0);
    let points = |side: &str| -> Vec<(f64, f64)> {
        sizes
            .iter()
            .map(|(_, bytes, key)| {
                (*bytes as f64, stats(series.get(&format!("{key}.{side}"))).median * *bytes as f64 / 1e6)
            })
            .collect()
    };
    let lines = [("library", "#1f77b4"), ("baseline", "#ff7f0e"), ("raw", "#2ca02c")];
    let all: Vec<f64> =
        lines.iter().flat_map(|(s, _)| points(s)).map(|(_, y)| y).filter(|y| *y > 0.0).collect();
    let (ymin, ymax) = (
        all.iter().copied().fold(f64::MAX, f64::min).max(1e-3),
        all.iter().copied().fold(0.0, f64::max).max(1e-2),
    );
    let (lymin, lymax) = (ymin.log10().floor(), ymax.log10().ceil().max(ymin.log10().floor() + 1.0));
    let (lxmin, lxmax) = ((sizes[0].1 as f64).log10(), (sizes[sizes.len() - 1].1 as f64).log10());
    let x = |b: f64| left + (b.log10() - lxmin) / (lxmax - lxmin) * (w - left - right);
    let y = |v: f64| top + (lymax - v.max(1e-3).log10()) / (lymax - lymin) * (h - top - bottom);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"18\" font-size=\"14\">exbus bench: PUSH-&gt;PULL throughput against message size (MB/s, medians)</text>\n"
    );
    let mut decade = lymin;
    while decade <= lymax {
        let v = 10f64.powf(decade);
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            w - right,
            y(v),
            y(v),
            left - 6.0,
            y(v) + 4.0,
            if v >= 1.0 { format!("{v:.0}") } else { format!("{v}") }
        ));
        decade += 1.0;
    }
    for (label, bytes, _) in &sizes {
        let px = x(*bytes as f64);
        out.push_str(&format!(
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>\n",
            h - bottom,
            h - bottom + 18.0
        ));
    }
    for (i, (side, colour)) in lines.iter().enumerate() {
        let pts: Vec<String> =
            points(side).iter().map(|(b, v)| format!("{:.1},{:.1}", x(*b), y(*v))).collect();
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n",
            pts.join(" ")
        ));
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            out.push_str(&format!("<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{colour}\"/>\n"));
        }
        let ly = top + 20.0 + 20.0 * i as f64;
        let name = match *side {
            "raw" => "raw zmq (ceiling)",
            "baseline" => "zmq + serde_json",
            _ => "library",
        };
        out.push_str(&format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{name}</text>\n",
            w - right + 10.0,
            w - right + 30.0,
            w - right + 36.0,
            ly + 4.0
        ));
    }
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">frame size</text>\n</svg>\n",
        (left + w - right) / 2.0,
        h - 8.0
    ));
    out
}
