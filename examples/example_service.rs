//! The Experimance example service (Python's `zmq_example_service.py`) on the service runtime:
//! `cargo run --example example_service -- controller`, then `... -- worker`. The controller binds
//! `--pub`, `--tasks` and `--status`, heartbeats on `service.heartbeat` every `--heartbeat-interval` (or
//! `EXAMPLE_HEARTBEAT_INTERVAL`) and pushes a task every `--task-interval`; workers answer each heartbeat
//! with theirs and each task after `--work-ms` with an `ImageReady` or `TransitionReady`. SIGINT/SIGTERM
//! stop gracefully. Stdout: `READY`, `STATS` and `SUMMARY` lines of `key=value`; exit 0 after a clean
//! shutdown, else 1 (2: bad arguments). Tasks lost with a stopping worker stay `outstanding`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use clap::Parser;
use experimance_common::service::{Context, Handlers, Service, Summary};
use experimance_common::{
    AnyMessage, Biome, Era, Heartbeat, ImageReady, Publisher, PullSocket, PushSocket, RenderRequest,
    Subscriber, TransitionReady, TransitionRequest, TransitionStyle, DEFAULT_PORTS,
};

mod logging;

const TOPIC: &str = "service.heartbeat";

#[derive(Parser)]
struct Cli {
    #[arg(value_parser = ["controller", "worker"])]
    role: String,
    #[arg(long)]
    name: Option<String>,
    #[arg(long = "pub")]
    publisher: Option<String>,
    #[arg(long)]
    tasks: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long, value_parser = seconds, default_value = "10")]
    stats_interval: Duration,
    #[arg(long, value_parser = seconds, env = "EXAMPLE_HEARTBEAT_INTERVAL", default_value = "5")]
    heartbeat_interval: Duration,
    #[arg(long, value_parser = seconds, default_value = "5")]
    task_interval: Duration,
    #[arg(long, default_value_t = 500)]
    work_ms: u64,
}

/// A positive number of seconds (one too small for a `Duration` is refused too).
fn seconds(text: &str) -> Result<Duration, String> {
    let d = Duration::try_from_secs_f64(text.parse().unwrap_or(f64::NAN)).ok().filter(|d| !d.is_zero());
    d.ok_or_else(|| format!("needs a positive number of seconds, not {text:?}"))
}

fn counts(m: &BTreeMap<String, u64>) -> String {
    let s = m.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(",");
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// What the controller keeps beside the runtime's counts.
#[derive(Default)]
struct Ctl {
    tasks_sent: u64,
    push_timeouts: u64,
    unmatched: u64,
    pending: BTreeSet<String>,
    results: BTreeMap<String, u64>,
    statuses: BTreeMap<String, u64>,
}

impl Ctl {
    fn line(&self, name: &str) -> String {
        let Ctl { tasks_sent, push_timeouts, unmatched, pending, results, statuses } = self;
        let (r, s, out) = (results.values().sum::<u64>(), statuses.values().sum::<u64>(), pending.len());
        let (rw, sw) = (counts(results), counts(statuses));
        format!(
            "controller name={name} tasks_sent={tasks_sent} push_timeouts={push_timeouts} results_received={r} \
             statuses_received={s} outstanding={out} unmatched_results={unmatched} results_by_worker={rw} \
             statuses_by_worker={sw}"
        )
    }

    /// A result names its worker and request: `"<worker>:<request_id>"`.
    fn result(&mut self, id: &str) {
        let (worker, request) = id.split_once(':').unwrap_or(("unknown", id));
        *self.results.entry(worker.into()).or_default() += 1;
        self.unmatched += u64::from(!self.pending.remove(request));
    }
}

/// The `n`th task: odd ones ask for an image, even ones for a transition.
fn task(n: usize) -> AnyMessage {
    let request_id = format!("task-{n}");
    if n % 2 == 1 {
        let (era, biome) = (Era::ALL[n % Era::ALL.len()], Biome::ALL[n % Biome::ALL.len()]);
        let prompt = format!("a {biome} landscape in the {era} era");
        return RenderRequest { request_id, era, biome, prompt, depth_map_png: None }.into();
    }
    let uri = |k: usize| format!("file:///tmp/experimance-example/task-{k}.png");
    let (from_image_uri, to_image_uri) = (uri(n.saturating_sub(3)), uri(n - 1));
    let style = TransitionStyle::ALL[n % TransitionStyle::ALL.len()];
    TransitionRequest { request_id, from_image_uri, to_image_uri, style, duration_frames: 48 }.into()
}

/// The counts stay readable after a handler panicked holding them (the service goes on).
fn lock(ctl: &Mutex<Ctl>) -> MutexGuard<'_, Ctl> {
    ctl.lock().unwrap_or_else(PoisonError::into_inner)
}

type Built = Result<(Service, Box<dyn Fn(&Summary) -> String + Send>), Box<dyn std::error::Error>>;

fn controller(o: Cli, name: String, ep: [String; 3]) -> Built {
    let ctl = Arc::new(Mutex::new(Ctl::default()));
    let publisher = Publisher::builder().bind(&ep[0])?.topic(TOPIC)?.build()?;
    let mut tasks = PushSocket::builder().bind(&ep[1])?.build()?;
    let status = PullSocket::builder().bind(&ep[2])?.build()?;
    let eps = format!("pub={} tasks={} status={}", publisher.endpoint(), tasks.endpoint(), status.endpoint());
    println!("READY controller name={name} {eps}");
    let [c0, c1, c2, c3, c4] = [(); 5].map(|()| ctl.clone());
    let handlers = Handlers::new()
        .on_fn(move |_, m: ImageReady| lock(&c0).result(&m.image_id))
        .on_fn(move |_, m: TransitionReady| lock(&c1).result(&m.transition_id))
        .on_fn(move |_, h: Heartbeat| *lock(&c2).statuses.entry(h.service).or_default() += 1);
    let n = name.clone();
    let b = Service::builder(&name).publisher(publisher).pull(status).handlers(handlers);
    let service = b
        .heartbeat(Some(o.heartbeat_interval))
        .background(move |_| async move {
            let mut t = tokio::time::interval(o.stats_interval);
            loop {
                t.tick().await;
                println!("STATS {}", lock(&c3).line(&n));
            }
        })
        .background(move |_| async move {
            let (mut tick, mut n) = (tokio::time::interval(o.task_interval), 1);
            loop {
                tick.tick().await;
                // No worker connected: the same task is offered again at the next tick.
                let pushed = tasks.push_timeout_async(&task(n), Duration::from_millis(250)).await;
                let mut c = lock(&c4);
                if pushed.is_ok() {
                    (c.tasks_sent, n) = (c.tasks_sent + 1, n + 1);
                    c.pending.insert(format!("task-{}", n - 1));
                } else {
                    c.push_timeouts += 1;
                }
            }
        })
        .build()?;
    let summary = move |s: &Summary| {
        let (line, unexpected) = (lock(&ctl).line(&name), s.unknown.values().sum::<u64>());
        let (heartbeats, bad) = (s.heartbeats, s.undecodable);
        format!("{line} heartbeats_sent={heartbeats} unexpected={unexpected} bad_frames={bad}")
    };
    Ok((service, Box::new(summary)))
}

async fn after<T>(work: Duration, result: T) -> T {
    tokio::time::sleep(work).await;
    result
}

fn worker(o: Cli, name: String, ep: [String; 3]) -> Built {
    let work = Duration::from_millis(o.work_ms);
    let subscriber = Subscriber::builder().connect(&ep[0])?.subscribe(TOPIC).build()?;
    let tasks = PullSocket::builder().connect(&ep[1])?.build()?;
    let status = PushSocket::builder().connect(&ep[2])?.build()?;
    println!("READY worker name={name} pub={} tasks={} status={}", ep[0], ep[1], ep[2]);
    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
    let handlers = Handlers::new()
        .on_fn(move |ctx, _hb: Heartbeat| {
            // answered with ours, pushed back as our status
            let extra =
                [("status".into(), "ready".into()), ("tasks_processed".into(), ctx.processed().into())];
            Heartbeat { extra: extra.into_iter().collect(), ..Heartbeat::now(n1.clone()) }
        })
        .on(move |_: Context, r: RenderRequest| {
            let (id, uri) =
                (format!("{n2}:{}", r.request_id), format!("file:///tmp/{n2}/{}.png", r.request_id));
            after(work, ImageReady { request_id: Some(r.request_id), image_id: id, uri })
        })
        .on(move |_: Context, t: TransitionRequest| {
            let (transition_id, uri) =
                (format!("{n3}:{}", t.request_id), format!("file:///tmp/{n3}/{}.mp4", t.request_id));
            let (is_video, r#loop, final_frame_uri) = (true, false, t.to_image_uri);
            after(work, TransitionReady { transition_id, uri, is_video, r#loop, final_frame_uri })
        });
    let service = Service::builder(&name).subscriber(subscriber).pull(tasks).push(status).handlers(handlers);
    let summary = move |s: &Summary| {
        let (r, t) = (s.count("RenderRequest"), s.count("TransitionRequest"));
        let (received, processed) = (r.handled + r.failed + t.handled + t.failed, r.handled + t.handled);
        let (statuses, bad) = (s.count("Heartbeat").handled, s.undecodable);
        let results = s.sent.get("responses").copied().unwrap_or(0).saturating_sub(statuses);
        let (failures, unexpected) = (s.send_failures.values().sum::<u64>(), s.unknown.values().sum::<u64>());
        format!(
            "worker name={name} heartbeats_received={statuses} tasks_received={received} \
             tasks_processed={processed} results_sent={results} statuses_sent={statuses} \
             push_failures={failures} unexpected={unexpected} bad_frames={bad}"
        )
    };
    Ok((service.build()?, Box::new(summary)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    logging::init();
    let o = Cli::try_parse().unwrap_or_else(|e| {
        eprintln!("usage: example_service controller|worker [OPTIONS]\n{e}");
        std::process::exit(2)
    });
    let controller_role = o.role == "controller";
    let host = if controller_role { "*" } else { "localhost" };
    let p = DEFAULT_PORTS;
    let ep = [(&o.publisher, p.example_pub), (&o.tasks, p.example_pull), (&o.status, p.example_pull + 1000)]
        .map(|(given, port)| given.clone().unwrap_or_else(|| format!("tcp://{host}:{port}")));
    let worker_name = format!("worker-{}", std::process::id());
    let name = o.name.clone().unwrap_or(if controller_role { "controller".into() } else { worker_name });
    let built = if controller_role { controller(o, name, ep) } else { worker(o, name, ep) };
    let Ok((service, summary_of)) = built.inspect_err(|e| tracing::error!("{e}")) else {
        std::process::exit(1)
    };
    let s = service.run().await;
    println!("SUMMARY {} close={}", summary_of(&s), if s.is_clean() { "ok" } else { "failed" });
    std::process::exit(s.exit_code());
}
