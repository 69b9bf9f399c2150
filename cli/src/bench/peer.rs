//! The peer processes of `exbus bench` (the hidden `exbus bench-peer` command): one role
//! each, the library's typed sockets or the hand-written baseline (`zmq` + `serde_json`).
//!
//! Protocol with the orchestrator: a binding peer (pull, sub, pong) binds
//! `tcp://127.0.0.1:*` and prints `{"endpoints": [...]}`; every peer ends by printing
//! one JSON line with what it measured, then exits 0. Every wait is bounded.

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use experimance_common::socket::{Error as SocketError, Publisher, PullSocket, PushSocket, Subscriber};
use experimance_common::Heartbeat;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::Failure;

/// The topic of the PUB/SUB trials.
pub const TOPIC: &str = "heartbeat";
const SERVICE: &str = "experimance-core-benchmark";
const TIMESTAMP: f64 = 1_732_762_000.123_456;
const BIND: &str = "tcp://127.0.0.1:*";
/// How long a peer waits for its counterpart to start and connect.
const READY: Duration = Duration::from_secs(20);
/// Send timeout, and the longest a lossless receiver waits between two messages.
const STALL: Duration = Duration::from_secs(5);
const LINGER: Duration = Duration::from_secs(5);

/// What a peer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// PUSH `--count` messages to `--endpoint`.
    Push,
    /// Bind a PULL socket and count `--count` messages.
    Pull,
    /// Publish `--count` messages to `--endpoint` (connects; waits for the subscription).
    Pub,
    /// Bind a SUB socket and count up to `--count` messages.
    Sub,
    /// Round trips: PUSH to the first endpoint, PULL the echo from the second.
    Ping,
    /// Bind a PULL and a PUSH socket and echo `--warmup` + `--count` messages.
    Pong,
}

/// Which implementation a peer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Impl {
    /// The library's blocking API.
    Library,
    /// The library's tokio API on a current-thread runtime.
    Async,
    /// Hand-written `zmq` + `serde_json`.
    Baseline,
    /// The service runtime: a typed handler per message (receivers; senders push as
    /// `async`).
    Service,
}

/// The arguments of the hidden `exbus bench-peer` command.
#[derive(Debug, clap::Args)]
pub struct PeerArgs {
    /// The role.
    #[arg(value_enum)]
    pub role: Role,
    /// The implementation.
    #[arg(value_enum)]
    pub imp: Impl,
    /// Endpoint(s) to connect to (senders and ping).
    #[arg(long = "endpoint")]
    pub endpoints: Vec<String>,
    /// Messages (or measured round trips).
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Round trips before measuring (ping/pong).
    #[arg(long, default_value_t = 0)]
    pub warmup: u64,
    /// PUB/SUB: lossless publishing (`ZMQ_XPUB_NODROP`).
    #[arg(long)]
    pub lossless: bool,
    /// Receivers: end after this long without a message (the lossy PUB/SUB trial's end).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub idle_ms: u64,
}

/// The benchmark's Heartbeat, as the library's type.
pub fn heartbeat() -> Heartbeat {
    Heartbeat { timestamp: TIMESTAMP, service: SERVICE.to_owned(), extra: serde_json::Map::new() }
}

/// The hand-written baseline's mirror of the Heartbeat: the same JSON bytes, `"type"` first.
#[derive(Debug, Serialize, Deserialize)]
pub struct BaseHeartbeat<'a> {
    /// Always `"Heartbeat"`.
    pub r#type: &'a str,
    /// Seconds since the epoch.
    pub timestamp: f64,
    /// The sender.
    pub service: String,
}

/// The benchmark's Heartbeat, as the baseline's struct.
pub fn base_heartbeat() -> BaseHeartbeat<'static> {
    BaseHeartbeat { r#type: "Heartbeat", timestamp: TIMESTAMP, service: SERVICE.to_owned() }
}

/// The PUSH frame both implementations send.
pub fn wire_bytes() -> Vec<u8> {
    let mut buf = Vec::new();
    serde_json::to_writer(&mut buf, &base_heartbeat()).unwrap_or_default();
    buf
}

/// Runs one peer and prints its result line.
pub fn run(args: PeerArgs) -> Result<(), Failure> {
    let result = match (args.role, args.imp) {
        (Role::Pull, Impl::Library) => pull_library(&args)?,
        (Role::Pull, Impl::Async) => pull_async(&args)?,
        (Role::Pull, Impl::Baseline) => pull_baseline(&args)?,
        (Role::Push, Impl::Library) => push_library(&args)?,
        (Role::Pull, Impl::Service) => pull_service(&args)?,
        (Role::Push, Impl::Async | Impl::Service) => push_async(&args)?,
        (Role::Push, Impl::Baseline) => push_baseline(&args)?,
        (Role::Sub, Impl::Library) => sub_library(&args)?,
        (Role::Sub, Impl::Baseline) => sub_baseline(&args)?,
        (Role::Pub, Impl::Library) => pub_library(&args)?,
        (Role::Pub, Impl::Baseline) => pub_baseline(&args)?,
        (Role::Ping, Impl::Library) => ping_library(&args)?,
        (Role::Ping, Impl::Baseline) => ping_baseline(&args)?,
        (Role::Pong, Impl::Library) => pong_library(&args)?,
        (Role::Pong, Impl::Baseline) => pong_baseline(&args)?,
        (role, imp) => return Err(Failure::Usage(format!("no {imp:?} implementation of {role:?}"))),
    };
    print_line(&result)
}

fn print_line(v: &Value) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{v}").and_then(|()| out.flush()).map_err(|e| Failure::Runtime(format!("stdout: {e}")))
}

fn ready(endpoints: &[String]) -> Result<(), Failure> {
    print_line(&json!({ "endpoints": endpoints }))
}

fn endpoint(args: &PeerArgs, i: usize) -> Result<&str, Failure> {
    args.endpoints.get(i).map(String::as_str).ok_or_else(|| Failure::Usage(format!("endpoint {i} missing")))
}

/// Peak resident set size of this process in kB (`VmHWM`), 0 where unknown.
pub fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn zmq_failure(what: &str) -> impl Fn(zmq::Error) -> Failure + '_ {
    move |e| Failure::Runtime(format!("{what}: {e}"))
}

fn json_failure(e: serde_json::Error) -> Failure {
    Failure::Runtime(format!("baseline JSON: {e}"))
}

/// The baseline's decode: `from_slice` into the mirror struct, and the type checked as
/// any hand-written reader of a tagged wire format would.
fn base_decode(json: &[u8]) -> Result<BaseHeartbeat<'_>, Failure> {
    let m: BaseHeartbeat = serde_json::from_slice(json).map_err(json_failure)?;
    if m.r#type != "Heartbeat" {
        return Err(Failure::Runtime(format!("baseline: unexpected type {:?}", m.r#type)));
    }
    Ok(m)
}

/// How a receiver ends: after `count` messages, or (lossy PUB/SUB) after `idle`
/// without one. `recv(first)` returns `Ok(false)` on a timeout.
struct Counter {
    count: u64,
    /// Take the time of every message (needed when the end is an idle timeout).
    track_last: bool,
    idle: Duration,
}

impl Counter {
    fn new(args: &PeerArgs) -> Counter {
        Counter {
            count: args.count.max(1),
            track_last: args.role == Role::Sub && !args.lossless,
            idle: Duration::from_millis(args.idle_ms),
        }
    }

    fn run(&self, mut recv: impl FnMut(bool) -> Result<bool, Failure>) -> Result<Value, Failure> {
        if !recv(true)? {
            return Err(Failure::Timeout(format!("no message within {READY:?}")));
        }
        let start = Instant::now();
        let mut last = start;
        let mut n = 1;
        let mut timed_out = false;
        while n < self.count {
            if !recv(false)? {
                timed_out = true;
                break;
            }
            n += 1;
            if self.track_last {
                last = Instant::now();
            }
        }
        let end = if self.track_last {
            last
        } else if timed_out {
            Instant::now() - self.idle
        } else {
            Instant::now()
        };
        Ok(self.result(n, end.saturating_duration_since(start)))
    }

    fn result(&self, received: u64, elapsed: Duration) -> Value {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { (received - 1) as f64 / secs } else { 0.0 };
        json!({
            "received": received,
            "expected": self.count,
            "elapsed_s": secs,
            "rate": rate,
            "peak_rss_kb": peak_rss_kb(),
        })
    }
}

fn sender_result(sent: u64, elapsed: Duration) -> Value {
    let secs = elapsed.as_secs_f64();
    json!({
        "sent": sent,
        "elapsed_s": secs,
        "rate": if secs > 0.0 { sent as f64 / secs } else { 0.0 },
        "peak_rss_kb": peak_rss_kb(),
    })
}

/// Receive-side outcome of the library: `Ok(false)` for a timeout.
fn got<T>(r: Result<T, SocketError>) -> Result<bool, Failure> {
    match r {
        Ok(m) => {
            black_box(m);
            Ok(true)
        }
        Err(SocketError::Timeout { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

// ---- PUSH/PULL --------------------------------------------------------------------

fn pull_library(args: &PeerArgs) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let mut pull = PullSocket::builder().bind(BIND)?.receive_timeout(counter.idle.min(STALL)).build()?;
    ready(&[pull.endpoint()])?;
    let result = counter.run(|first| {
        if first {
            got(pull.pull_timeout::<Heartbeat>(READY))
        } else {
            got(pull.pull::<Heartbeat>())
        }
    })?;
    pull.close()?;
    Ok(result)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("tokio runtime: {e}")))
}

fn pull_async(args: &PeerArgs) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let mut pull = PullSocket::builder().bind(BIND)?.receive_timeout(counter.idle.min(STALL)).build()?;
    ready(&[pull.endpoint()])?;
    let result = runtime()?.block_on(async {
        if !got(pull.pull_timeout_async::<Heartbeat>(READY).await)? {
            return Err(Failure::Timeout(format!("no message within {READY:?}")));
        }
        let (start, cpu_start) = (Instant::now(), thread_cpu());
        let mut n = 1;
        let mut timed_out = false;
        while n < counter.count {
            if !got(pull.pull_async::<Heartbeat>().await)? {
                timed_out = true;
                break;
            }
            n += 1;
        }
        let cpu = cpu_start.zip(thread_cpu());
        let end = if timed_out { Instant::now() - counter.idle } else { Instant::now() };
        Ok(with_cpu(counter.result(n, end.saturating_duration_since(start)), cpu, n))
    })?;
    pull.close()?;
    Ok(result)
}

/// CPU time of the calling thread so far (`CLOCK_THREAD_CPUTIME_ID`), or `None` where it
/// cannot be read.
pub fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer to a local.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    let (secs, nanos) = (u64::try_from(ts.tv_sec).ok()?, u32::try_from(ts.tv_nsec).ok()?);
    (rc == 0).then(|| Duration::new(secs, nanos))
}

/// Adds the receiving thread's CPU time per message to a receiver's result.
fn with_cpu(mut result: Value, cpu: Option<(Duration, Duration)>, received: u64) -> Value {
    if let Some((start, end)) = cpu {
        let per = end.saturating_sub(start).as_nanos() as f64 / received.saturating_sub(1).max(1) as f64;
        result["thread_cpu_ns_per_message"] = json!(per);
    }
    result
}

/// The service runtime's receive loop with a plain-function handler for `Heartbeat`: what
/// `pull_async` does, plus the type lookup, the dispatch and the per-type counters.
fn pull_service(args: &PeerArgs) -> Result<Value, Failure> {
    use experimance_common::service::{Handlers, Service};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    let counter = Counter::new(args);
    let pull = PullSocket::builder().bind(BIND)?.receive_timeout(STALL).build()?;
    ready(&[pull.endpoint()])?;
    let (n, times) = (Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new((None, None, None, None))));
    let (hn, ht, count) = (n.clone(), times.clone(), counter.count);
    let handlers = Handlers::new().on_fn(move |ctx, hb: Heartbeat| {
        black_box(hb);
        let seen = hn.fetch_add(1, Ordering::Relaxed) + 1;
        if seen == 1 || seen == count {
            let mut t = ht.lock().unwrap_or_else(|e| e.into_inner());
            let (now, cpu) = (Some(Instant::now()), thread_cpu());
            if seen == 1 {
                (t.0, t.2) = (now, cpu);
            }
            if seen == count {
                (t.1, t.3) = (now, cpu);
                ctx.shutdown();
            }
        }
    });
    let service = Service::builder("bench")
        .pull(pull)
        .handlers(handlers)
        .handle_signals(false)
        .heartbeat(None)
        .build()
        .map_err(|e| Failure::Runtime(format!("the bench service: {e}")))?;
    let summary = runtime()?.block_on(service.run());
    let received = n.load(Ordering::Relaxed);
    let (start, end, cpu_start, cpu_end) = *times.lock().unwrap_or_else(|e| e.into_inner());
    match (start, end) {
        (Some(start), Some(end)) if summary.is_clean() => {
            let result = counter.result(received, end.saturating_duration_since(start));
            Ok(with_cpu(result, cpu_start.zip(cpu_end), received))
        }
        _ => Err(Failure::Runtime(format!("the service received {received} of {count}: {summary:?}"))),
    }
}

fn pull_baseline(args: &PeerArgs) -> Result<Value, Failure> {
    baseline_receiver(args, zmq::PULL, None, |frame| {
        black_box(base_decode(frame)?);
        Ok(())
    })
}

/// A baseline receiver: binds a raw `kind` socket (subscribed to `subscription`),
/// reports its endpoint, and counts frames, each handed to `decode`.
fn baseline_receiver(
    args: &PeerArgs,
    kind: zmq::SocketType,
    subscription: Option<&[u8]>,
    mut decode: impl FnMut(&[u8]) -> Result<(), Failure>,
) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let ctx = zmq::Context::new();
    let sock = ctx.socket(kind).map_err(zmq_failure("socket"))?;
    sock.set_linger(0).map_err(zmq_failure("linger"))?;
    if let Some(subscription) = subscription {
        sock.set_subscribe(subscription).map_err(zmq_failure("subscribe"))?;
    }
    sock.bind(BIND).map_err(zmq_failure("bind"))?;
    let ep = sock.get_last_endpoint().map_err(zmq_failure("endpoint"))?.unwrap_or_default();
    ready(&[ep])?;
    let idle = millis(counter.idle.min(STALL));
    let mut frame = zmq::Message::new();
    sock.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    counter.run(|first| {
        let r = sock.recv(&mut frame, 0);
        if first {
            sock.set_rcvtimeo(idle).map_err(zmq_failure("rcvtimeo"))?;
        }
        match r {
            Ok(()) => decode(&frame).map(|()| true),
            Err(zmq::Error::EAGAIN) => Ok(false),
            Err(e) => Err(zmq_failure("recv")(e)),
        }
    })
}

fn push_library(args: &PeerArgs) -> Result<Value, Failure> {
    let mut push =
        PushSocket::builder().connect(endpoint(args, 0)?)?.send_timeout(STALL).linger(LINGER).build()?;
    push.wait_connected(READY)?;
    let hb = heartbeat();
    let start = Instant::now();
    for _ in 0..args.count {
        push.push(&hb)?;
    }
    let elapsed = start.elapsed();
    push.close()?;
    Ok(sender_result(args.count, elapsed))
}

fn push_async(args: &PeerArgs) -> Result<Value, Failure> {
    let mut push =
        PushSocket::builder().connect(endpoint(args, 0)?)?.send_timeout(STALL).linger(LINGER).build()?;
    push.wait_connected(READY)?;
    let hb = heartbeat();
    let elapsed = runtime()?.block_on(async {
        let start = Instant::now();
        for _ in 0..args.count {
            push.push_async(&hb).await?;
        }
        Ok::<_, Failure>(start.elapsed())
    })?;
    push.close()?;
    Ok(sender_result(args.count, elapsed))
}

fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

fn base_socket(ctx: &zmq::Context, kind: zmq::SocketType, ep: &str) -> Result<zmq::Socket, Failure> {
    let sock = ctx.socket(kind).map_err(zmq_failure("socket"))?;
    sock.set_sndtimeo(millis(STALL)).map_err(zmq_failure("sndtimeo"))?;
    sock.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    sock.set_linger(millis(LINGER)).map_err(zmq_failure("linger"))?;
    sock.connect(ep).map_err(zmq_failure("connect"))?;
    Ok(sock)
}

fn push_baseline(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let sock = base_socket(&ctx, zmq::PUSH, endpoint(args, 0)?)?;
    let hb = base_heartbeat();
    let mut buf = Vec::with_capacity(256);
    let start = Instant::now();
    for _ in 0..args.count {
        buf.clear();
        serde_json::to_writer(&mut buf, &hb).map_err(json_failure)?;
        sock.send(&buf[..], 0).map_err(zmq_failure("send"))?;
    }
    let elapsed = start.elapsed();
    drop(sock);
    drop(ctx); // zmq_ctx_term: delivers what is queued, for up to the linger
    Ok(sender_result(args.count, elapsed))
}

// ---- PUB/SUB ----------------------------------------------------------------------

fn sub_library(args: &PeerArgs) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let mut sub = Subscriber::builder()
        .bind(BIND)?
        .subscribe_exact(TOPIC)
        .map_err(|e| Failure::Usage(e.to_string()))?
        .receive_timeout(counter.idle.min(STALL))
        .build()?;
    ready(&[sub.endpoint()])?;
    let result = counter.run(|first| {
        if first {
            got(sub.receive_timeout::<Heartbeat>(READY))
        } else {
            got(sub.receive::<Heartbeat>())
        }
    })?;
    sub.close()?;
    Ok(result)
}

fn sub_baseline(args: &PeerArgs) -> Result<Value, Failure> {
    let mut subscription = TOPIC.as_bytes().to_vec();
    subscription.push(b' ');
    baseline_receiver(args, zmq::SUB, Some(&subscription), |frame| {
        let space = frame.iter().position(|&b| b == b' ').unwrap_or(0);
        let topic = std::str::from_utf8(&frame[..space])
            .map_err(|e| Failure::Runtime(format!("baseline topic: {e}")))?;
        let m = base_decode(&frame[space + 1..])?;
        black_box((topic, m));
        Ok(())
    })
}

fn pub_library(args: &PeerArgs) -> Result<Value, Failure> {
    let mut publisher = Publisher::builder()
        .connect(endpoint(args, 0)?)?
        .topic(TOPIC)
        .map_err(|e| Failure::Usage(e.to_string()))?
        .lossless(args.lossless)
        .send_timeout(STALL)
        .linger(LINGER)
        .build()?;
    publisher.wait_for_subscribers(1, READY)?;
    let hb = heartbeat();
    let start = Instant::now();
    for _ in 0..args.count {
        publisher.publish(&hb)?;
    }
    let elapsed = start.elapsed();
    publisher.close()?;
    Ok(sender_result(args.count, elapsed))
}

/// `ZMQ_XPUB_NODROP` (69): the `zmq` crate has no setter for it.
fn set_nodrop(sock: &mut zmq::Socket) -> Result<(), Failure> {
    let one: i32 = 1;
    // SAFETY: a live socket handle, a pointer to a live i32 and its size.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            sock.as_mut_ptr(),
            zmq_sys::ZMQ_XPUB_NODROP as i32,
            (&one as *const i32).cast(),
            std::mem::size_of::<i32>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Failure::Runtime("setsockopt ZMQ_XPUB_NODROP failed".to_owned()))
    }
}

fn pub_baseline(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let mut sock = ctx.socket(zmq::XPUB).map_err(zmq_failure("socket"))?;
    if args.lossless {
        set_nodrop(&mut sock)?;
    }
    sock.set_sndtimeo(millis(STALL)).map_err(zmq_failure("sndtimeo"))?;
    sock.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    sock.set_linger(millis(LINGER)).map_err(zmq_failure("linger"))?;
    sock.connect(endpoint(args, 0)?).map_err(zmq_failure("connect"))?;
    // The XPUB socket hands up the subscription: once it is here, nothing is lost to a
    // slow joiner.
    let mut subscription = zmq::Message::new();
    sock.recv(&mut subscription, 0).map_err(zmq_failure("waiting for the subscription"))?;
    let hb = base_heartbeat();
    let mut buf = Vec::with_capacity(256);
    let start = Instant::now();
    for _ in 0..args.count {
        buf.clear();
        buf.extend_from_slice(TOPIC.as_bytes());
        buf.push(b' ');
        serde_json::to_writer(&mut buf, &hb).map_err(json_failure)?;
        sock.send(&buf[..], 0).map_err(zmq_failure("send"))?;
    }
    let elapsed = start.elapsed();
    drop(sock);
    drop(ctx);
    Ok(sender_result(args.count, elapsed))
}

// ---- round trips ------------------------------------------------------------------

/// Percentiles of round-trip times (nanoseconds, sorted in place) in microseconds.
pub fn latency_result(samples: &mut [u64]) -> Value {
    samples.sort_unstable();
    let pick = |p: f64| -> f64 {
        if samples.is_empty() {
            return 0.0;
        }
        // Nearest rank.
        let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        samples[rank - 1] as f64 / 1000.0
    };
    let mean = samples.iter().sum::<u64>() as f64 / samples.len().max(1) as f64 / 1000.0;
    json!({
        "samples": samples.len(),
        "p50_us": pick(0.50),
        "p99_us": pick(0.99),
        "p999_us": pick(0.999),
        "min_us": pick(0.0),
        "max_us": pick(1.0),
        "mean_us": mean,
        "peak_rss_kb": peak_rss_kb(),
    })
}

fn ping_library(args: &PeerArgs) -> Result<Value, Failure> {
    let mut push =
        PushSocket::builder().connect(endpoint(args, 0)?)?.send_timeout(STALL).linger(LINGER).build()?;
    let mut pull = PullSocket::builder().connect(endpoint(args, 1)?)?.receive_timeout(STALL).build()?;
    push.wait_connected(READY)?;
    pull.wait_connected(READY)?;
    let hb = heartbeat();
    let mut samples = Vec::with_capacity(usize::try_from(args.count).unwrap_or(0));
    for i in 0..args.warmup + args.count {
        let t = Instant::now();
        push.push(&hb)?;
        let echo: Heartbeat = pull.pull()?;
        let dt = t.elapsed();
        black_box(echo);
        if i >= args.warmup {
            samples.push(u64::try_from(dt.as_nanos()).unwrap_or(u64::MAX));
        }
    }
    push.close()?;
    pull.close()?;
    Ok(latency_result(&mut samples))
}

fn pong_library(args: &PeerArgs) -> Result<Value, Failure> {
    let mut pull = PullSocket::builder().bind(BIND)?.receive_timeout(READY).build()?;
    let mut push = PushSocket::builder().bind(BIND)?.send_timeout(READY).linger(LINGER).build()?;
    ready(&[pull.endpoint(), push.endpoint()])?;
    for _ in 0..args.warmup + args.count {
        let m: Heartbeat = pull.pull()?;
        push.push(&m)?;
    }
    push.close()?;
    pull.close()?;
    Ok(json!({ "echoed": args.warmup + args.count, "peak_rss_kb": peak_rss_kb() }))
}

fn ping_baseline(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let push = base_socket(&ctx, zmq::PUSH, endpoint(args, 0)?)?;
    let pull = base_socket(&ctx, zmq::PULL, endpoint(args, 1)?)?;
    pull.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    let hb = base_heartbeat();
    let mut buf = Vec::with_capacity(256);
    let mut frame = zmq::Message::new();
    let mut samples = Vec::with_capacity(usize::try_from(args.count).unwrap_or(0));
    for i in 0..args.warmup + args.count {
        let t = Instant::now();
        buf.clear();
        serde_json::to_writer(&mut buf, &hb).map_err(json_failure)?;
        push.send(&buf[..], 0).map_err(zmq_failure("send"))?;
        pull.recv(&mut frame, 0).map_err(zmq_failure("recv"))?;
        let echo = base_decode(&frame)?;
        let dt = t.elapsed();
        black_box(echo);
        if i >= args.warmup {
            samples.push(u64::try_from(dt.as_nanos()).unwrap_or(u64::MAX));
        }
    }
    drop((push, pull));
    drop(ctx);
    Ok(latency_result(&mut samples))
}

fn pong_baseline(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).map_err(zmq_failure("socket"))?;
    let push = ctx.socket(zmq::PUSH).map_err(zmq_failure("socket"))?;
    pull.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    pull.set_linger(0).map_err(zmq_failure("linger"))?;
    push.set_sndtimeo(millis(READY)).map_err(zmq_failure("sndtimeo"))?;
    push.set_linger(millis(LINGER)).map_err(zmq_failure("linger"))?;
    pull.bind(BIND).map_err(zmq_failure("bind"))?;
    push.bind(BIND).map_err(zmq_failure("bind"))?;
    let eps = [&pull, &push].map(|s| s.get_last_endpoint().ok().and_then(Result::ok).unwrap_or_default());
    ready(&eps)?;
    let mut buf = Vec::with_capacity(256);
    let mut frame = zmq::Message::new();
    for _ in 0..args.warmup + args.count {
        pull.recv(&mut frame, 0).map_err(zmq_failure("recv"))?;
        let m = base_decode(&frame)?;
        buf.clear();
        serde_json::to_writer(&mut buf, &m).map_err(json_failure)?;
        push.send(&buf[..], 0).map_err(zmq_failure("send"))?;
    }
    drop((push, pull));
    drop(ctx);
    Ok(json!({ "echoed": args.warmup + args.count, "peak_rss_kb": peak_rss_kb() }))
}
