//! The Experimance example service in Rust: a port of the Python library's
//! `utils/examples/zmq_example_service.py`, one program with two roles.
//!
//! ```text
//!  controller                                                    workers (any number)
//!  PUB  bind tcp://*:5567 ── Heartbeat, topic service.heartbeat ──▶ SUB  connect
//!  PUSH bind tcp://*:5568 ── RenderRequest / TransitionRequest ───▶ PULL connect
//!  PULL bind tcp://*:6568 ◀─ ImageReady / TransitionReady / Heartbeat ── PUSH connect
//! ```
//!
//! The controller publishes a heartbeat every `HEARTBEAT_INTERVAL` (5 s), pushes a task
//! every `--task-interval` (5 s), alternating typed `RenderRequest`s and
//! `TransitionRequest`s, and pulls what the workers send back. A worker answers every
//! controller heartbeat with a heartbeat of its own (its status: `"ready"` and
//! `tasks_processed`), and every task with an `ImageReady` or a `TransitionReady`.
//!
//! ```sh
//! cargo run --example example_service -- controller
//! cargo run --example example_service -- worker --name worker-1   # in other terminals
//! cargo run --example example_service -- worker --name worker-2
//! ```
//!
//! Ctrl-C (SIGINT) or SIGTERM shuts a process down gracefully: it stops taking new work,
//! finishes what it already holds, closes every socket (flushing what it sent, bounded by
//! the linger) and prints a summary; a second Ctrl-C exits at once. The controller uses
//! the tokio API, the worker the blocking API.
//!
//! Options (both roles): `--name NAME`, `--pub EP`, `--tasks EP`, `--status EP` (the
//! controller binds them, `tcp://127.0.0.1:*` picks free ports; a worker connects to
//! them), `--stats-interval SECS` (10). Controller: `--heartbeat-interval SECS` (or the
//! environment variable `EXAMPLE_HEARTBEAT_INTERVAL`), `--task-interval SECS`. Worker:
//! `--work-ms MS` (simulated work per task, 500).
//!
//! Output: the log goes to stderr; stdout gets one line per event a program can read:
//! `READY <role> name=... pub=... tasks=... status=...` (the real endpoints, once every
//! socket is bound or connected), `STATS <role> key=value ...` periodically, and
//! `SUMMARY <role> key=value ...` at the end. The exit code is 0 after a clean
//! shutdown, 1 on an error (a port in use, ...) or when a socket could not flush on
//! close, 2 for bad arguments.
//!
//! Differences from the Python example: the controller binds the status socket, so any
//! number of workers connect to it (in Python each worker binds port 6568, so a second
//! worker cannot start); messages are typed; waits are bounded; nothing is dropped on
//! close. Tasks still in flight to a worker that stops are lost (PUSH/PULL has no
//! acknowledgements): the controller counts them as `outstanding`.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use experimance_common::{
    AnyMessage, Biome, Era, Heartbeat, ImageReady, RenderRequest, TransitionReady, TransitionRequest,
    TransitionStyle, DEFAULT_PORTS, HEARTBEAT_INTERVAL,
};
use serde_json::json;

/// Topic of the controller's heartbeats (as in the Python example).
const HEARTBEAT_TOPIC: &str = "service.heartbeat";
/// Port the workers send their statuses and results to (the Python example's
/// `TEST_WORKER_RESPONSE_PORT`).
const WORKER_RESPONSE_PORT: u16 = DEFAULT_PORTS.example_pull + 1000;
/// Environment variable that overrides the heartbeat interval (seconds).
const HEARTBEAT_ENV: &str = "EXAMPLE_HEARTBEAT_INTERVAL";
/// How long a push waits for a peer before giving up on this message.
const PUSH_WAIT: Duration = Duration::from_millis(250);
/// How often a blocking loop wakes to look at the shutdown flag.
const POLL: Duration = Duration::from_millis(100);
/// How long the controller keeps reading results after a shutdown request.
const DRAIN: Duration = Duration::from_millis(500);

type BoxError = Box<dyn StdError + Send + Sync>;

// ------------------------------------------------------------------------------ options

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoleKind {
    Controller,
    Worker,
}

#[derive(Debug, Clone)]
struct Options {
    role: RoleKind,
    name: String,
    pub_endpoint: String,
    tasks_endpoint: String,
    status_endpoint: String,
    heartbeat_interval: Duration,
    task_interval: Duration,
    stats_interval: Duration,
    work: Duration,
}

const USAGE: &str = "usage: example_service controller [--name NAME] [--pub EP] [--tasks EP] [--status EP]
                                  [--heartbeat-interval SECS] [--task-interval SECS] [--stats-interval SECS]
       example_service worker [--name NAME] [--pub EP] [--tasks EP] [--status EP]
                              [--work-ms MS] [--stats-interval SECS]";

fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{flag} needs a positive number of seconds, not {text:?}")),
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut args = args.iter();
    let role = match args.next().map(String::as_str) {
        Some("controller" | "--controller") => RoleKind::Controller,
        Some("worker") => RoleKind::Worker,
        Some("-h" | "--help") => return Err(String::new()),
        Some(other) => return Err(format!("unknown role {other:?}")),
        None => return Err("missing role".into()),
    };
    let bind = role == RoleKind::Controller;
    let endpoint = |port: u16| {
        if bind {
            format!("tcp://*:{port}")
        } else {
            format!("tcp://localhost:{port}")
        }
    };
    let heartbeat_interval = match std::env::var(HEARTBEAT_ENV) {
        Ok(v) if !v.is_empty() => seconds(HEARTBEAT_ENV, &v)?,
        _ => HEARTBEAT_INTERVAL,
    };
    let mut o = Options {
        role,
        name: match role {
            RoleKind::Controller => "controller".into(),
            RoleKind::Worker => format!("worker-{}", std::process::id()),
        },
        pub_endpoint: endpoint(DEFAULT_PORTS.example_pub),
        tasks_endpoint: endpoint(DEFAULT_PORTS.example_pull),
        status_endpoint: endpoint(WORKER_RESPONSE_PORT),
        heartbeat_interval,
        task_interval: Duration::from_secs(5),
        stats_interval: Duration::from_secs(10),
        work: Duration::from_millis(500),
    };
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--name" => o.name = value.clone(),
            "--pub" => o.pub_endpoint = value.clone(),
            "--tasks" => o.tasks_endpoint = value.clone(),
            "--status" => o.status_endpoint = value.clone(),
            "--stats-interval" => o.stats_interval = seconds(flag, value)?,
            "--heartbeat-interval" if bind => o.heartbeat_interval = seconds(flag, value)?,
            "--task-interval" if bind => o.task_interval = seconds(flag, value)?,
            "--work-ms" if !bind => {
                o.work = Duration::from_millis(value.parse().map_err(|_| format!("bad --work-ms {value:?}"))?)
            }
            _ => return Err(format!("unknown option {flag:?}")),
        }
    }
    if o.name.is_empty() || o.name.contains([' ', ':', ',', '=']) {
        return Err(format!("--name {:?} must be non-empty without spaces, ':', ',' or '='", o.name));
    }
    Ok(o)
}

// ----------------------------------------------------------------------------- logging

fn log(name: &str, text: std::fmt::Arguments<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    eprintln!("{now:.3} [{name}] {text}");
}

macro_rules! info {
    ($name:expr, $($arg:tt)*) => { log(&$name, format_args!($($arg)*)) };
}

/// Prints one machine-readable line on stdout (flushed at once: stdout may be a pipe).
fn report(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn counts(map: &BTreeMap<String, u64>) -> String {
    let mut s = String::new();
    for (k, v) in map {
        if !s.is_empty() {
            s.push(',');
        }
        let _ = write!(s, "{k}:{v}");
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

// ---------------------------------------------------------------------------- shutdown

/// SIGINT and SIGTERM handling, registered before any socket exists: the first signal
/// asks for a graceful shutdown, a second one exits at once (code 130).
///
/// tokio's signal support runs on a small thread of its own, so the blocking worker and
/// the async controller share it: the worker polls [`requested`](Self::requested), the
/// controller awaits [`wait`](Self::wait).
#[derive(Clone)]
struct Shutdown {
    flag: Arc<AtomicBool>,
    changed: tokio::sync::watch::Receiver<bool>,
}

impl Shutdown {
    fn install(name: &str) -> std::io::Result<Shutdown> {
        use tokio::signal::unix::{signal, SignalKind};
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        // Registered here, synchronously: a signal from now on is never missed.
        let (mut sigint, mut sigterm) = {
            let _entered = rt.enter();
            (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?)
        };
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, changed) = tokio::sync::watch::channel(false);
        let (thread_flag, name) = (flag.clone(), name.to_owned());
        std::thread::Builder::new().name("signals".into()).spawn(move || {
            rt.block_on(async move {
                let mut first = true;
                loop {
                    let which = tokio::select! {
                        _ = sigint.recv() => "SIGINT",
                        _ = sigterm.recv() => "SIGTERM",
                    };
                    if !first {
                        info!(name, "second {which}: exiting now");
                        std::process::exit(130);
                    }
                    first = false;
                    info!(name, "received {which}, shutting down gracefully (again to exit at once)");
                    thread_flag.store(true, Ordering::SeqCst);
                    let _ = tx.send(true);
                }
            })
        })?;
        Ok(Shutdown { flag, changed })
    }

    fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Resolves once a shutdown was requested.
    async fn wait(&mut self) {
        let _ = self.changed.wait_for(|&v| v).await;
    }
}

// -------------------------------------------------------------------------- controller

#[derive(Default)]
struct ControllerStats {
    heartbeats_sent: u64,
    tasks_sent: u64,
    push_timeouts: u64,
    results_received: u64,
    statuses_received: u64,
    unmatched_results: u64,
    unexpected: u64,
    bad_frames: u64,
    results_by_worker: BTreeMap<String, u64>,
    statuses_by_worker: BTreeMap<String, u64>,
    /// Request ids pushed and not answered yet.
    pending: BTreeSet<String>,
}

impl ControllerStats {
    fn line(&self, kind: &str, name: &str) -> String {
        format!(
            "{kind} controller name={name} heartbeats_sent={} tasks_sent={} push_timeouts={} results_received={} \
             statuses_received={} outstanding={} unmatched_results={} unexpected={} bad_frames={} \
             results_by_worker={} statuses_by_worker={}",
            self.heartbeats_sent,
            self.tasks_sent,
            self.push_timeouts,
            self.results_received,
            self.statuses_received,
            self.pending.len(),
            self.unmatched_results,
            self.unexpected,
            self.bad_frames,
            counts(&self.results_by_worker),
            counts(&self.statuses_by_worker),
        )
    }

    /// A result names its worker and request as `"<worker>:<request_id>"`.
    fn result(&mut self, name: &str, id: &str) {
        self.results_received += 1;
        let (worker, request) = id.split_once(':').unwrap_or(("unknown", id));
        *self.results_by_worker.entry(worker.to_owned()).or_default() += 1;
        if !self.pending.remove(request) {
            self.unmatched_results += 1;
            info!(name, "result {id} answers no pending task");
        }
    }

    fn handle(&mut self, name: &str, received: Result<AnyMessage, Error>) {
        match received {
            Ok(AnyMessage::ImageReady(m)) => {
                info!(name, "image ready: {} at {}", m.image_id, m.uri);
                self.result(name, &m.image_id);
            }
            Ok(AnyMessage::TransitionReady(m)) => {
                info!(name, "transition ready: {} at {}", m.transition_id, m.uri);
                self.result(name, &m.transition_id);
            }
            Ok(AnyMessage::Heartbeat(h)) => {
                self.statuses_received += 1;
                *self.statuses_by_worker.entry(h.service.clone()).or_default() += 1;
                let processed = h.extra.get("tasks_processed").cloned().unwrap_or_default();
                info!(name, "worker {} is ready, processed {processed} tasks", h.service);
            }
            Ok(other) => {
                self.unexpected += 1;
                info!(name, "unexpected message: {other:?}");
            }
            Err(e) if e.is_timeout() => {}
            Err(Error::Interrupted { .. }) => {}
            Err(e) => {
                // A frame that does not decode is reported with its bytes, never lost.
                self.bad_frames += 1;
                info!(name, "bad message: {e}");
            }
        }
    }
}

/// The `n`th task: odd numbers ask for an image, even ones for a transition between
/// the two previous images.
fn make_task(n: u64) -> AnyMessage {
    let request_id = format!("task-{n}");
    let i = usize::try_from(n).unwrap_or(0);
    if n % 2 == 1 {
        let era = Era::ALL[i % Era::ALL.len()];
        let biome = Biome::ALL[i % Biome::ALL.len()];
        AnyMessage::RenderRequest(RenderRequest {
            request_id,
            era,
            biome,
            prompt: format!("a {biome} landscape in the {era} era"),
            depth_map_png: None,
        })
    } else {
        AnyMessage::TransitionRequest(TransitionRequest {
            request_id,
            from_image_uri: format!("file:///tmp/experimance-example/task-{}.png", n.saturating_sub(3)),
            to_image_uri: format!("file:///tmp/experimance-example/task-{}.png", n - 1),
            style: TransitionStyle::ALL[i % TransitionStyle::ALL.len()],
            duration_frames: 48,
        })
    }
}

fn request_id(task: &AnyMessage) -> &str {
    match task {
        AnyMessage::RenderRequest(r) => &r.request_id,
        AnyMessage::TransitionRequest(t) => &t.request_id,
        _ => "",
    }
}

async fn run_controller(o: &Options, mut shutdown: Shutdown) -> Result<bool, BoxError> {
    let name = o.name.as_str();
    let mut publisher = Publisher::builder().bind(&o.pub_endpoint)?.topic(HEARTBEAT_TOPIC)?.build()?;
    let mut tasks = PushSocket::builder().bind(&o.tasks_endpoint)?.build()?;
    let mut statuses = PullSocket::builder().bind(&o.status_endpoint)?.build()?;
    report(&format!(
        "READY controller name={name} pub={} tasks={} status={}",
        publisher.endpoint(),
        tasks.endpoint(),
        statuses.endpoint()
    ));
    info!(
        name,
        "controller up: heartbeat every {:?}, a task every {:?}", o.heartbeat_interval, o.task_interval
    );

    let mut stats = ControllerStats::default();
    let mut heartbeat = tokio::time::interval(o.heartbeat_interval);
    let mut task_tick = tokio::time::interval(o.task_interval);
    let mut stats_tick = tokio::time::interval(o.stats_interval);
    for t in [&mut heartbeat, &mut task_tick, &mut stats_tick] {
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    stats_tick.reset(); // the first stats line after one interval, not at once
    let mut next_task = 1;
    loop {
        tokio::select! {
            _ = shutdown.wait() => break,
            _ = heartbeat.tick() => {
                let mut hb = Heartbeat::now(name);
                hb.extra.insert("tasks_sent".into(), json!(stats.tasks_sent));
                hb.extra.insert("results_received".into(), json!(stats.results_received));
                match publisher.publish_async(&hb).await {
                    Ok(()) => stats.heartbeats_sent += 1,
                    Err(e) => info!(name, "failed to send heartbeat: {e}"),
                }
            }
            _ = task_tick.tick() => {
                let task = make_task(next_task);
                // Push sockets queue only to connected workers: with none, this times out
                // and the same task is offered again at the next tick.
                match tasks.push_timeout_async(&task, PUSH_WAIT).await {
                    Ok(()) => {
                        info!(name, "pushed {} {}", task.type_name().unwrap_or("?"), request_id(&task));
                        stats.tasks_sent += 1;
                        stats.pending.insert(request_id(&task).to_owned());
                        next_task += 1;
                    }
                    Err(e) if e.is_timeout() => {
                        stats.push_timeouts += 1;
                        info!(name, "no worker took {} yet", request_id(&task));
                    }
                    Err(e) => info!(name, "failed to push {}: {e}", request_id(&task)),
                }
            }
            _ = stats_tick.tick() => report(&stats.line("STATS", name)),
            // Cancel safe: when another branch wins, no message was taken.
            received = statuses.pull_async::<AnyMessage>() => stats.handle(name, received),
        }
    }

    // Graceful shutdown: no new tasks; collect the results already on their way.
    info!(name, "draining results for up to {DRAIN:?}");
    loop {
        match statuses.pull_timeout_async::<AnyMessage>(DRAIN).await {
            Err(e) if e.is_timeout() => break,
            received => stats.handle(name, received),
        }
    }
    // Close everything; each close flushes what was sent, bounded by the linger.
    let mut clean = true;
    for (what, closed) in
        [("publisher", publisher.close()), ("tasks", tasks.close()), ("statuses", statuses.close())]
    {
        if let Err(e) = closed {
            clean = false;
            info!(name, "closing the {what} socket: {e}");
        }
    }
    report(&format!("{} close={}", stats.line("SUMMARY", name), if clean { "ok" } else { "failed" }));
    Ok(clean)
}

// ------------------------------------------------------------------------------ worker

#[derive(Default)]
struct WorkerStats {
    heartbeats_received: u64,
    tasks_received: u64,
    tasks_processed: u64,
    results_sent: u64,
    statuses_sent: u64,
    push_failures: u64,
    unexpected: u64,
    bad_frames: u64,
}

impl WorkerStats {
    fn line(&self, kind: &str, name: &str) -> String {
        format!(
            "{kind} worker name={name} heartbeats_received={} tasks_received={} tasks_processed={} \
             results_sent={} statuses_sent={} push_failures={} unexpected={} bad_frames={}",
            self.heartbeats_received,
            self.tasks_received,
            self.tasks_processed,
            self.results_sent,
            self.statuses_sent,
            self.push_failures,
            self.unexpected,
            self.bad_frames
        )
    }
}

struct Worker {
    name: String,
    work: Duration,
    subscriber: Subscriber,
    tasks: PullSocket,
    statuses: PushSocket,
    stats: WorkerStats,
}

impl Worker {
    fn send(&mut self, msg: &AnyMessage) -> bool {
        match self.statuses.push_timeout(msg, PUSH_WAIT) {
            Ok(()) => true,
            Err(e) => {
                self.stats.push_failures += 1;
                info!(self.name, "could not send {}: {e}", msg.type_name().unwrap_or("?"));
                false
            }
        }
    }

    /// Answers every heartbeat already received; never waits.
    fn answer_heartbeats(&mut self) {
        loop {
            match self.subscriber.try_receive::<AnyMessage>() {
                Ok(None) => return,
                Ok(Some((_, AnyMessage::Heartbeat(hb)))) => {
                    self.stats.heartbeats_received += 1;
                    info!(self.name, "heartbeat from {}", hb.service);
                    let mut status = Heartbeat::now(self.name.clone());
                    status.extra.insert("status".into(), json!("ready"));
                    status.extra.insert("tasks_processed".into(), json!(self.stats.tasks_processed));
                    if self.send(&status.into()) {
                        self.stats.statuses_sent += 1;
                    }
                }
                Ok(Some((topic, other))) => {
                    self.stats.unexpected += 1;
                    info!(self.name, "unexpected message on {topic}: {other:?}");
                }
                Err(Error::Interrupted { .. }) => return,
                Err(e) => {
                    self.stats.bad_frames += 1;
                    info!(self.name, "bad message: {e}");
                }
            }
        }
    }

    fn process(&mut self, task: AnyMessage) {
        self.stats.tasks_received += 1;
        let name = &self.name;
        let result: AnyMessage = match &task {
            AnyMessage::RenderRequest(r) => {
                info!(name, "rendering {} ({}, {}): {:?}", r.request_id, r.era, r.biome, r.prompt);
                std::thread::sleep(self.work);
                ImageReady {
                    request_id: Some(r.request_id.clone()),
                    image_id: format!("{name}:{}", r.request_id),
                    uri: format!("file:///tmp/experimance-example/{name}/{}.png", r.request_id),
                }
                .into()
            }
            AnyMessage::TransitionRequest(t) => {
                info!(name, "transition {} ({}, {} frames)", t.request_id, t.style, t.duration_frames);
                std::thread::sleep(self.work);
                TransitionReady {
                    transition_id: format!("{name}:{}", t.request_id),
                    uri: format!("file:///tmp/experimance-example/{name}/{}.mp4", t.request_id),
                    is_video: true,
                    r#loop: false,
                    final_frame_uri: t.to_image_uri.clone(),
                }
                .into()
            }
            other => {
                self.stats.unexpected += 1;
                info!(name, "not a task: {other:?}");
                return;
            }
        };
        self.stats.tasks_processed += 1;
        if self.send(&result) {
            self.stats.results_sent += 1;
        }
    }

    fn handle(&mut self, pulled: Result<AnyMessage, Error>) {
        match pulled {
            Ok(task) => self.process(task),
            Err(e) if e.is_timeout() => {}
            Err(Error::Interrupted { .. }) => {}
            Err(e) => {
                self.stats.bad_frames += 1;
                info!(self.name, "bad task: {e}");
            }
        }
    }
}

fn run_worker(o: &Options, shutdown: &Shutdown) -> Result<bool, BoxError> {
    let mut w = Worker {
        name: o.name.clone(),
        work: o.work,
        subscriber: Subscriber::builder().connect(&o.pub_endpoint)?.subscribe(HEARTBEAT_TOPIC).build()?,
        tasks: PullSocket::builder().connect(&o.tasks_endpoint)?.build()?,
        statuses: PushSocket::builder().connect(&o.status_endpoint)?.build()?,
        stats: WorkerStats::default(),
    };
    report(&format!(
        "READY worker name={} pub={} tasks={} status={}",
        w.name, o.pub_endpoint, o.tasks_endpoint, o.status_endpoint
    ));
    info!(w.name, "worker up, {:?} of work per task", w.work);
    let mut last_stats = Instant::now();
    while !shutdown.requested() {
        w.answer_heartbeats();
        let pulled = w.tasks.pull_timeout::<AnyMessage>(POLL);
        w.handle(pulled);
        if last_stats.elapsed() >= o.stats_interval {
            report(&w.stats.line("STATS", &w.name));
            last_stats = Instant::now();
        }
    }

    // Graceful shutdown: finish the tasks already received, then close. The task and
    // heartbeat sockets close first (nothing of ours is queued there); the status
    // socket last, flushing every result (bounded by its linger).
    info!(w.name, "finishing queued tasks");
    loop {
        match w.tasks.try_pull::<AnyMessage>() {
            Ok(None) => break,
            Ok(Some(task)) => w.process(task),
            Err(e) => {
                // A frame that does not decode is skipped; any other error ends the loop.
                let next = matches!(e, Error::Decode(_));
                w.handle(Err(e));
                if !next {
                    break;
                }
            }
        }
    }
    let Worker { name, subscriber, tasks, statuses, stats, .. } = w;
    let mut clean = true;
    for (what, closed) in
        [("tasks", tasks.close()), ("subscriber", subscriber.close()), ("statuses", statuses.close())]
    {
        if let Err(e) = closed {
            clean = false;
            info!(name, "closing the {what} socket: {e}");
        }
    }
    report(&format!("{} close={}", stats.line("SUMMARY", &name), if clean { "ok" } else { "failed" }));
    Ok(clean)
}

// -------------------------------------------------------------------------------- main

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("example_service: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let outcome =
        Shutdown::install(&options.name).map_err(BoxError::from).and_then(|shutdown| match options.role {
            RoleKind::Worker => run_worker(&options, &shutdown),
            RoleKind::Controller => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(BoxError::from)
                .and_then(|rt| rt.block_on(run_controller(&options, shutdown))),
        });
    match outcome {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            info!(options.name, "error: {e}");
            std::process::exit(1);
        }
    }
}
