//! `exbus demo`: an Experimance pipeline in one process on loopback TCP.
//!
//! - the core publishes `EraChanged`, `RenderRequest` and `Heartbeat` on the events bus
//!   (PUB/SUB, lossless), pushes `RenderRequest` tasks to two image workers and
//!   `TransitionRequest`s to a transition worker (PUSH/PULL), and pulls the workers'
//!   `ImageReady` results back (PUSH/PULL fan-in);
//! - a display subscribes to every event.
//!
//! Every channel is counted on both ends; PUSH/PULL must lose nothing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use experimance_common::socket::state::{NoTopics, TopicsChosen};
use experimance_common::socket::{
    Error, Operation, Publisher, PullSocket, PushSocket, SocketBuilder, SocketKind, Subscriber,
};
use experimance_common::{
    AnyMessage, Biome, DefaultPort, Era, EraChanged, Heartbeat, ImageReady, RenderRequest, TransitionRequest,
    TransitionStyle,
};

use crate::session::{interrupted, Out};
use crate::table::Table;
use crate::Failure;

/// A failure on one channel, named with its pattern and the likely cause (exit 1: the
/// demo has no `--timeout`, so a stalled channel is a runtime failure).
fn on(channel: &'static str, pattern: &'static str) -> impl Fn(Error) -> Failure {
    move |e| {
        let cause = match (&e, pattern) {
            (Error::Timeout { .. }, "PUB/SUB") => {
                ": the subscriber stopped reading and its queue is full (lossless publishing waits for it)"
            }
            (Error::Timeout { .. }, _) => ": no worker took the message (the workers stalled or left)",
            _ => "",
        };
        Failure::Runtime(format!("channel \"{channel}\" ({pattern}): {e}{cause}"))
    }
}

/// How long a worker waits for more once the core has finished.
const DRAIN_IDLE: Duration = Duration::from_millis(500);
/// The longest the demo waits for the last results after it stops sending.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
const READY: Duration = Duration::from_secs(10);

/// Counters shared with the progress line.
#[derive(Default)]
struct Counters {
    events_sent: AtomicU64,
    events_received: AtomicU64,
    renders_sent: AtomicU64,
    renders_received: AtomicU64,
    results_sent: AtomicU64,
    results_received: AtomicU64,
    transitions_sent: AtomicU64,
    transitions_received: AtomicU64,
}

fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Binds `K` on 127.0.0.1 at the default port, or at a free port if it is taken.
fn bind_default<K: SocketKind>(
    builder: SocketBuilder<K>,
    port: DefaultPort,
    notes: &mut Vec<String>,
) -> Result<K, Failure>
where
    NoTopics: TopicsChosen<K>,
{
    let preferred = format!("tcp://127.0.0.1:{}", port.port());
    match builder.clone().bind(&preferred)?.build() {
        Ok(socket) => Ok(socket),
        Err(Error::Bind { .. }) => {
            let socket = builder.bind("tcp://127.0.0.1:*")?.build()?;
            notes.push(format!("port {} ({port}) is taken", port.port()));
            Ok(socket)
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs `op` again when a signal (Ctrl-C) cut it short: the loop then stops cleanly.
fn again<T>(mut op: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    loop {
        match op() {
            Err(Error::Interrupted { .. }) => {}
            other => return other,
        }
    }
}

/// Runs the pipeline for `duration`, then prints the summary.
pub fn run(duration: Duration, stall_display: bool) -> Result<(), Failure> {
    let mut notes = Vec::new();
    let mut events = bind_default(
        Publisher::builder().topic("events").map_err(|e| Failure::Runtime(e.to_string()))?.lossless(true),
        DefaultPort::CoordinatorPub,
        &mut notes,
    )?;
    let mut renders = bind_default(PushSocket::builder(), DefaultPort::ImageServerPull, &mut notes)?;
    let mut results = bind_default(PullSocket::builder(), DefaultPort::CoordinatorPull, &mut notes)?;
    let mut transitions = bind_default(PushSocket::builder(), DefaultPort::TransitionPull, &mut notes)?;
    for note in &notes {
        eprintln!("exbus demo: {note}; using a free port instead");
    }
    let (events_ep, renders_ep, results_ep, transitions_ep) =
        (events.endpoint(), renders.endpoint(), results.endpoint(), transitions.endpoint());
    eprintln!(
        "exbus demo: events {events_ep}, render tasks {renders_ep}, image results {results_ep}, transitions {transitions_ep}"
    );

    let counters = Arc::new(Counters::default());
    let done = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();

    // The display: every event on the bus.
    let display = Subscriber::builder().connect(&events_ep)?.subscribe("events").build()?;
    let stalled = stall_display;
    workers.push(spawn("display", display, &counters, &done, move |sub: &mut Subscriber, c: &Counters| {
        if stalled {
            // `--stall-display`: a display that stops reading, as a hung service would.
            thread::sleep(Duration::from_millis(100));
            return Err(Error::Timeout { op: Operation::Receive, after: Duration::from_millis(100) });
        }
        sub.receive_within::<AnyMessage>(Duration::from_millis(100)).map(|_| add(&c.events_received))
    }));
    // Two image workers: pull render requests, push ImageReady back.
    for n in 1..=2 {
        let pull = PullSocket::builder().connect(&renders_ep)?.build()?;
        let push = PushSocket::builder().connect(&results_ep)?.build()?;
        workers.push(spawn(
            &format!("image-worker-{n}"),
            (pull, push),
            &counters,
            &done,
            move |(pull, push): &mut (PullSocket, PushSocket), c: &Counters| {
                let request = pull.pull_within::<RenderRequest>(Duration::from_millis(100))?;
                add(&c.renders_received);
                let ready = ImageReady {
                    request_id: Some(request.request_id.clone()),
                    image_id: format!("img-{n}-{}", request.request_id),
                    uri: format!("file:///tmp/experimance/{}.png", request.request_id),
                };
                again(|| push.push_timeout(&ready, Duration::from_secs(5)))?;
                add(&c.results_sent);
                Ok(())
            },
        ));
    }
    // The transition worker.
    let pull = PullSocket::builder().connect(&transitions_ep)?.build()?;
    workers.push(spawn(
        "transition-worker",
        pull,
        &counters,
        &done,
        |pull: &mut PullSocket, c: &Counters| {
            pull.pull_within::<TransitionRequest>(Duration::from_millis(100))
                .map(|_| add(&c.transitions_received))
        },
    ));

    // No slow-joiner guesswork: wait until every peer is there.
    events.wait_for_subscribers(1, READY).map_err(on("events", "PUB/SUB"))?;
    renders.wait_for_peers(2, READY).map_err(on("render tasks", "PUSH/PULL"))?;
    results.wait_for_peers(2, READY).map_err(on("image results", "PUSH/PULL"))?;
    transitions.wait_for_peers(1, READY).map_err(on("transitions", "PUSH/PULL"))?;

    let c = &*counters;
    let progress = Progress::new();
    let start = Instant::now();
    let mut last_heartbeat = start - Duration::from_secs(1);
    let mut i: u64 = 0;
    let (ev, rt, tr, ir) = (
        on("events", "PUB/SUB"),
        on("render tasks", "PUSH/PULL"),
        on("transitions", "PUSH/PULL"),
        on("image results", "PUSH/PULL"),
    );
    let mut stopped = false;
    while start.elapsed() < duration {
        if interrupted() {
            stopped = true;
            break;
        }
        let era = Era::ALL[(i / 1000) as usize % Era::ALL.len()];
        let biome = Biome::ALL[(i / 100) as usize % Biome::ALL.len()];
        if i.is_multiple_of(1000) {
            again(|| events.publish(&EraChanged { era, biome })).map_err(&ev)?;
            add(&c.events_sent);
        }
        if last_heartbeat.elapsed() >= Duration::from_millis(100) {
            again(|| events.publish(&Heartbeat::now("core"))).map_err(&ev)?;
            add(&c.events_sent);
            last_heartbeat = Instant::now();
        }
        let request = RenderRequest {
            request_id: format!("r{i}"),
            era,
            biome,
            prompt: format!("a {biome} landscape in the {era} era"),
            depth_map_png: None,
        };
        again(|| events.publish(&request)).map_err(&ev)?;
        add(&c.events_sent);
        again(|| renders.push_timeout(&request, Duration::from_secs(5))).map_err(&rt)?;
        add(&c.renders_sent);
        if i.is_multiple_of(10) {
            let t = TransitionRequest {
                request_id: format!("t{i}"),
                from_image_uri: format!("file:///tmp/experimance/r{}.png", i.saturating_sub(10)),
                to_image_uri: format!("file:///tmp/experimance/r{i}.png"),
                style: TransitionStyle::ALL[(i / 10) as usize % TransitionStyle::ALL.len()],
                duration_frames: 48,
            };
            again(|| transitions.push_timeout(&t, Duration::from_secs(5))).map_err(&tr)?;
            add(&c.transitions_sent);
        }
        while again(|| results.try_pull::<ImageReady>()).map_err(&ir)?.is_some() {
            add(&c.results_received);
        }
        progress.tick(start, c, false);
        i += 1;
    }
    let sending = start.elapsed();
    // Collect the last results: every render request comes back as one ImageReady.
    let drain_start = Instant::now();
    while get(&c.results_received) < get(&c.renders_sent) && drain_start.elapsed() < DRAIN_LIMIT {
        match results.pull_within::<ImageReady>(Duration::from_millis(100)) {
            Ok(_) => add(&c.results_received),
            Err(Error::Timeout { .. } | Error::Interrupted { .. }) => {}
            Err(e) => return Err(ir(e)),
        }
    }
    done.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for w in workers {
        match w.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e),
            Err(_) => failures.push("a worker thread panicked".to_owned()),
        }
    }
    progress.tick(start, c, true);
    for (name, result) in [
        ("events", events.close()),
        ("render tasks", renders.close()),
        ("transitions", transitions.close()),
        ("image results", results.close()),
    ] {
        if let Err(e) = result {
            failures.push(format!("closing {name}: {e}"));
        }
    }

    let rows = [
        ("events", "PUB/SUB", get(&c.events_sent), get(&c.events_received)),
        ("render tasks", "PUSH/PULL", get(&c.renders_sent), get(&c.renders_received)),
        ("image results", "PUSH/PULL", get(&c.results_sent), get(&c.results_received)),
        ("transitions", "PUSH/PULL", get(&c.transitions_sent), get(&c.transitions_received)),
    ];
    let mut out = Out::new();
    out.line(format!("exbus demo: {:.1} s of sending", sending.as_secs_f64()).as_bytes())?;
    let mut table = Table::new(&["channel", "pattern"], &["sent", "received", "lost", "msg/s"]);
    let mut lost_push_pull = 0;
    for (name, pattern, sent, received) in rows {
        let lost = sent.saturating_sub(received);
        if pattern == "PUSH/PULL" {
            lost_push_pull += lost;
        }
        let rate = received as f64 / sending.as_secs_f64().max(1e-9);
        table.row([
            name.to_owned(),
            pattern.to_owned(),
            sent.to_string(),
            received.to_string(),
            lost.to_string(),
            format!("{rate:.0}"),
        ]);
    }
    out.line(table.to_string().trim_end().as_bytes())?;
    if lost_push_pull > 0 {
        failures.push(format!("{lost_push_pull} PUSH/PULL messages were lost"));
    }
    if stopped && failures.is_empty() {
        out.line(b"exbus demo: nothing lost")?;
        Err(Failure::Interrupted(format!("the demo stopped after {:.1} s", sending.as_secs_f64())))
    } else if failures.is_empty() {
        out.line(b"exbus demo: OK, nothing lost")?;
        Ok(())
    } else {
        Err(Failure::Runtime(failures.join("; ")))
    }
}

/// Runs `step` on a thread until the core is done and nothing came for `DRAIN_IDLE`.
fn spawn<S: Send + 'static>(
    name: &str,
    mut sockets: S,
    counters: &Arc<Counters>,
    done: &Arc<AtomicBool>,
    mut step: impl FnMut(&mut S, &Counters) -> Result<(), Error> + Send + 'static,
) -> thread::JoinHandle<Result<(), String>> {
    let (counters, done, name) = (Arc::clone(counters), Arc::clone(done), name.to_owned());
    thread::spawn(move || {
        let mut idle_since: Option<Instant> = None;
        loop {
            match step(&mut sockets, &counters) {
                Ok(()) => idle_since = None,
                Err(Error::Timeout { .. } | Error::Interrupted { .. }) => {
                    if done.load(Ordering::Relaxed) {
                        let since = *idle_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= DRAIN_IDLE {
                            return Ok(());
                        }
                    }
                }
                Err(e) => return Err(format!("{name}: {e}")),
            }
        }
    })
}

/// The progress line on stderr: an `indicatif` line redrawn in place on a terminal (left
/// finished on its own line however the demo ends), a line a second otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last: std::cell::Cell<Instant>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, last: std::cell::Cell::new(Instant::now()) }
    }

    fn tick(&self, start: Instant, c: &Counters, last: bool) {
        let every = if self.bar.is_some() { Duration::from_millis(100) } else { Duration::from_secs(1) };
        if !last && self.last.get().elapsed() < every {
            return;
        }
        self.last.set(Instant::now());
        let line = format!(
            "[{:5.1}s] events {}/{}  renders {}/{}  results {}/{}  transitions {}/{}",
            start.elapsed().as_secs_f64(),
            get(&c.events_received),
            get(&c.events_sent),
            get(&c.renders_received),
            get(&c.renders_sent),
            get(&c.results_received),
            get(&c.results_sent),
            get(&c.transitions_received),
            get(&c.transitions_sent),
        );
        match &self.bar {
            Some(bar) if last => bar.finish_with_message(line),
            Some(bar) => bar.set_message(line),
            None => eprintln!("{line}"),
        }
    }
}
