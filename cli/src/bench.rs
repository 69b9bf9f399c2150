//! `exbus bench`: the library against a hand-written baseline (`zmq` + `serde_json`),
//! measured in one run.
//!
//! Each trial runs a sender and a receiver in two separate processes (this executable,
//! `exbus bench-peer ROLE IMPL`) over tcp loopback; the receiver binds, reports its
//! endpoint, counts the messages and reports its count, elapsed time (first to last
//! message) and peak RSS as a JSON line. A run is several rounds; in each round every
//! measurement runs twice for the library and twice for the baseline in a palindromic
//! order (A B B A), the one that goes first alternating between rounds. Absolute
//! numbers drift between runs on a busy machine, so what counts is the ratio
//! library/baseline, taken per round (the trials of a round run back to back) and
//! summarised by its median.

mod peer;

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use peer::PeerArgs;
use peer::{Impl, Role};

use crate::Failure;

/// The arguments of `exbus bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Rounds; each runs every measurement twice for the library and twice for the
    /// baseline (A B B A), alternating which goes first.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Messages per throughput trial.
    #[arg(long, default_value_t = 750_000)]
    messages: u64,
    /// Measured round trips per latency trial.
    #[arg(long, default_value_t = 8_000)]
    round_trips: u64,
    /// Round trips before measuring.
    #[arg(long, default_value_t = 1_000)]
    warmup: u64,
    /// The lossy PUB/SUB receiver ends after this long without a message.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    idle_ms: u64,
    /// Print the results as one JSON object.
    #[arg(long)]
    json: bool,
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
        let name = args.join(" ");
        let mut child = Command::new(exe)
            .arg("bench-peer")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Failure::Runtime(format!("cannot start `exbus bench-peer {name}`: {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| Failure::Runtime("no stdout".to_owned()))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(PeerProcess { name, child, lines })
    }

    /// The next line, as JSON.
    fn line(&mut self, deadline: Instant) -> Result<Value, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = self.lines.recv_timeout(left).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => {
                Failure::Runtime(format!("`bench-peer {}` did not answer within {TRIAL_LIMIT:?}", self.name))
            }
            mpsc::RecvTimeoutError::Disconnected => {
                Failure::Runtime(format!("`bench-peer {}` exited without a result", self.name))
            }
        })?;
        serde_json::from_str(&line)
            .map_err(|e| Failure::Runtime(format!("`bench-peer {}` printed {line:?}: {e}", self.name)))
    }

    /// Waits for a successful exit.
    fn finish(mut self, deadline: Instant) -> Result<(), Failure> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(Failure::Runtime(format!("`bench-peer {}` failed: {status}", self.name)))
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
                Ok(None) => return Err(Failure::Runtime(format!("`bench-peer {}` did not exit", self.name))),
                Err(e) => {
                    return Err(Failure::Runtime(format!("waiting for `bench-peer {}`: {e}", self.name)))
                }
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

fn role_args(role: Role, imp: Impl) -> Vec<String> {
    use clap::ValueEnum;
    let name =
        |v: Option<clap::builder::PossibleValue>| v.map(|p| p.get_name().to_owned()).unwrap_or_default();
    vec![name(role.to_possible_value()), name(imp.to_possible_value())]
}

/// One trial: starts the binding peer, then the connecting one with its endpoints.
/// Returns (binder's result, connector's result).
fn trial(binder: Vec<String>, mut connector: Vec<String>) -> Result<(Value, Value), Failure> {
    let deadline = Instant::now() + TRIAL_LIMIT;
    let mut receiver = PeerProcess::spawn(&binder)?;
    let ready = receiver.line(deadline)?;
    for ep in ready["endpoints"].as_array().into_iter().flatten() {
        connector.push("--endpoint".to_owned());
        connector.push(ep.as_str().unwrap_or_default().to_owned());
    }
    let mut sender = PeerProcess::spawn(&connector)?;
    let sent = sender.line(deadline)?;
    let received = receiver.line(deadline)?;
    sender.finish(deadline)?;
    receiver.finish(deadline)?;
    Ok((received, sent))
}

/// What a throughput trial measured.
struct Throughput {
    /// Messages per second at the receiver (first to last message).
    rate: f64,
    /// Fraction of the sent messages that never arrived.
    loss: f64,
    /// Receiver peak RSS in kB.
    rss_kb: f64,
    /// Messages per second the sender handed to its socket.
    sender_rate: f64,
    /// CPU time of the receiving thread per message, in ns (where measured).
    cpu_ns: f64,
}

fn throughput(args: &BenchArgs, kind: &str, imp: Impl, lossless: bool) -> Result<Throughput, Failure> {
    throughput_between(args, kind, imp, imp, lossless)
}

/// A throughput trial with the receiver on `rx_imp` and the sender on `tx_imp`.
fn throughput_between(
    args: &BenchArgs,
    kind: &str,
    rx_imp: Impl,
    tx_imp: Impl,
    lossless: bool,
) -> Result<Throughput, Failure> {
    let (rx_role, tx_role) = if kind == "pubsub" { (Role::Sub, Role::Pub) } else { (Role::Pull, Role::Push) };
    let mut common = vec!["--count".to_owned(), args.messages.to_string()];
    if lossless {
        common.push("--lossless".to_owned());
    } else {
        common.extend(["--idle-ms".to_owned(), args.idle_ms.to_string()]);
    }
    let mut rx = role_args(rx_role, rx_imp);
    rx.extend(common.iter().cloned());
    let mut tx = role_args(tx_role, tx_imp);
    tx.extend(common);
    let (received, sent) = trial(rx, tx)?;
    let got = received["received"].as_f64().unwrap_or(0.0);
    Ok(Throughput {
        rate: received["rate"].as_f64().unwrap_or(0.0),
        loss: 1.0 - got / args.messages.max(1) as f64,
        rss_kb: received["peak_rss_kb"].as_f64().unwrap_or(0.0),
        sender_rate: sent["rate"].as_f64().unwrap_or(0.0),
        cpu_ns: received["thread_cpu_ns_per_message"].as_f64().unwrap_or(0.0),
    })
}

/// Round-trip percentiles (p50, p99, p99.9) in microseconds.
fn latency(args: &BenchArgs, imp: Impl) -> Result<[f64; 3], Failure> {
    let mut common = vec!["--count".to_owned(), args.round_trips.to_string()];
    common.extend(["--warmup".to_owned(), args.warmup.to_string()]);
    let mut pong = role_args(Role::Pong, imp);
    pong.extend(common.iter().cloned());
    let mut ping = role_args(Role::Ping, imp);
    ping.extend(common);
    let (_echoed, measured) = trial(pong, ping)?;
    let get = |k: &str| measured[k].as_f64().unwrap_or(0.0);
    Ok([get("p50_us"), get("p99_us"), get("p999_us")])
}

/// One value per round for the library and for the baseline.
#[derive(Default)]
struct Pair {
    lib: Vec<f64>,
    base: Vec<f64>,
}

impl Pair {
    fn ratios(&self) -> Vec<f64> {
        self.lib.iter().zip(&self.base).map(|(l, b)| if *b > 0.0 { l / b } else { 0.0 }).collect()
    }
}

#[derive(Default)]
struct Results {
    push: Pair,
    push_loss: Pair,
    lossless: Pair,
    lossless_loss: Pair,
    lossy: Pair,
    lossy_loss: Pair,
    /// Lossy PUB/SUB: publish calls per second (most are dropped).
    lossy_send: Pair,
    /// Library async vs the blocking baseline of the same round.
    asyncio: Pair,
    async_loss: Vec<f64>,
    /// The service runtime's typed-handler loop vs the plain async receive loop, both
    /// fed by the async sender.
    service: Pair,
    /// The same trials' receiving-thread CPU time per message (ns).
    service_cpu: Pair,
    p50: Pair,
    p99: Pair,
    p999: Pair,
    /// The largest receiver peak RSS of the round's throughput trials, in MB.
    rss: Pair,
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

fn pair_json(p: &Pair) -> Value {
    json!({ "library": summary(&p.lib), "baseline": summary(&p.base), "ratio": summary(&p.ratios()) })
}

/// One round's trial values of one measurement, by implementation.
#[derive(Default)]
struct Trials {
    lib: Vec<f64>,
    base: Vec<f64>,
    asyncio: Vec<f64>,
}

impl Trials {
    fn add(&mut self, imp: Impl, v: f64) {
        match imp {
            Impl::Library => self.lib.push(v),
            Impl::Baseline => self.base.push(v),
            Impl::Async => self.asyncio.push(v),
            Impl::Service => self.lib.push(v),
        }
    }

    /// Appends this round's means to `pair`.
    fn close(&self, pair: &mut Pair) {
        pair.lib.push(mean(&self.lib));
        pair.base.push(mean(&self.base));
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Runs the benchmark and prints the table (or the JSON object).
///
/// Each round runs every measurement in a palindromic order (A B B A; for PUSH/PULL
/// A B Y Y B A with Y the async library), so a load that drifts linearly during the
/// round weighs on both sides alike; the round's value of a side is the mean of its
/// trials. A starts the even rounds, B the odd ones.
pub fn run(args: BenchArgs) -> Result<(), Failure> {
    if args.rounds == 0 || args.messages < 2 || args.round_trips == 0 {
        return Err(Failure::Usage("--rounds, --round-trips must be >= 1 and --messages >= 2".to_owned()));
    }
    let started = Instant::now();
    let progress = !args.json || std::io::stderr().is_terminal();
    let mut r = Results::default();
    for round in 0..args.rounds {
        if progress {
            eprintln!(
                "exbus bench: round {}/{} ({:.0} s so far)",
                round + 1,
                args.rounds,
                started.elapsed().as_secs_f64()
            );
        }
        let (a, b) =
            if round % 2 == 0 { (Impl::Library, Impl::Baseline) } else { (Impl::Baseline, Impl::Library) };
        let mut rss_lib: f64 = 0.0;
        let mut rss_base: f64 = 0.0;
        let mut note_rss = |imp: Impl, kb: f64| {
            let mb = kb * 1024.0 / 1e6;
            if imp == Impl::Baseline {
                rss_base = rss_base.max(mb);
            } else {
                rss_lib = rss_lib.max(mb);
            }
        };
        let (mut push, mut push_loss) = (Trials::default(), Trials::default());
        for imp in [a, b, Impl::Async, Impl::Async, b, a] {
            let t = throughput(&args, "pushpull", imp, true)?;
            note_rss(imp, t.rss_kb);
            push.add(imp, t.rate);
            push_loss.add(imp, t.loss);
        }
        push.close(&mut r.push);
        push_loss.close(&mut r.push_loss);
        r.asyncio.lib.push(mean(&push.asyncio));
        r.asyncio.base.push(mean(&push.base));
        r.async_loss.push(mean(&push_loss.asyncio));
        // Dispatch overhead: the service loop (lib) against the plain receive loop
        // (base), A B B A.
        let (sa, sb) =
            if round % 2 == 0 { (Impl::Service, Impl::Async) } else { (Impl::Async, Impl::Service) };
        let (mut service, mut service_cpu) = (Trials::default(), Trials::default());
        for imp in [sa, sb, sb, sa] {
            let t = throughput_between(&args, "pushpull", imp, Impl::Async, true)?;
            let (rates, cpu) = match imp {
                Impl::Service => (&mut service.lib, &mut service_cpu.lib),
                _ => (&mut service.base, &mut service_cpu.base),
            };
            rates.push(t.rate);
            cpu.push(t.cpu_ns);
        }
        service.close(&mut r.service);
        service_cpu.close(&mut r.service_cpu);
        for lossless in [true, false] {
            let (mut rate, mut loss, mut send) = (Trials::default(), Trials::default(), Trials::default());
            for imp in [a, b, b, a] {
                let t = throughput(&args, "pubsub", imp, lossless)?;
                note_rss(imp, t.rss_kb);
                rate.add(imp, t.rate);
                loss.add(imp, t.loss);
                send.add(imp, t.sender_rate);
            }
            if lossless {
                rate.close(&mut r.lossless);
                loss.close(&mut r.lossless_loss);
            } else {
                rate.close(&mut r.lossy);
                loss.close(&mut r.lossy_loss);
                send.close(&mut r.lossy_send);
            }
        }
        let (mut p50, mut p99, mut p999) = (Trials::default(), Trials::default(), Trials::default());
        for imp in [a, b, b, a] {
            let [q50, q99, q999] = latency(&args, imp)?;
            p50.add(imp, q50);
            p99.add(imp, q99);
            p999.add(imp, q999);
        }
        p50.close(&mut r.p50);
        p99.close(&mut r.p99);
        p999.close(&mut r.p999);
        r.rss.lib.push(rss_lib);
        r.rss.base.push(rss_base);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let report = report_json(&args, &r, elapsed);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let text = if args.json { report.to_string() } else { table(&args, &r, &report, elapsed) };
    writeln!(out, "{text}").map_err(|e| Failure::Runtime(format!("cannot write output: {e}")))
}

/// (name, what, value, met) for each target.
fn targets(r: &Results) -> Vec<(&'static str, &'static str, f64, bool)> {
    let m = |v: &[f64]| stats(v).median;
    let rss_max = stats(&r.rss.lib).max;
    vec![
        ("push_pull", "ratio >= 1.0", m(&r.push.ratios()), m(&r.push.ratios()) >= 1.0),
        ("pub_sub_lossless", "ratio >= 0.95", m(&r.lossless.ratios()), m(&r.lossless.ratios()) >= 0.95),
        ("async_push_pull", "ratio >= 0.75", m(&r.asyncio.ratios()), m(&r.asyncio.ratios()) >= 0.75),
        ("service_dispatch", "ratio >= 0.95", m(&r.service.ratios()), m(&r.service.ratios()) >= 0.95),
        (
            "service_dispatch_cpu",
            "ratio <= 1.05",
            m(&r.service_cpu.ratios()),
            m(&r.service_cpu.ratios()) <= 1.05,
        ),
        ("latency_p50", "ratio <= 1.05", m(&r.p50.ratios()), m(&r.p50.ratios()) <= 1.05),
        ("latency_p99", "ratio <= 1.15", m(&r.p99.ratios()), m(&r.p99.ratios()) <= 1.15),
        ("receiver_peak_rss", "library max <= 10 MB", rss_max, rss_max <= 10.0),
    ]
}

fn report_json(args: &BenchArgs, r: &Results, elapsed: f64) -> Value {
    let wire = peer::wire_bytes();
    let throughput = |rates: &Pair, loss: &Pair| {
        let mut v = pair_json(rates);
        v["unit"] = json!("messages per second at the receiver");
        v["loss"] = json!({ "library": summary(&loss.lib), "baseline": summary(&loss.base) });
        v
    };
    let mut asyncio = pair_json(&r.asyncio);
    asyncio["unit"] =
        json!("messages per second at the receiver; baseline: the blocking baseline of the same round");
    asyncio["loss"] = json!({ "library": summary(&r.async_loss) });
    let mut lossy = throughput(&r.lossy, &r.lossy_loss);
    lossy["unit"] = json!("messages per second delivered to the receiver");
    lossy["sender_rate"] = pair_json(&r.lossy_send);
    let target_list: Vec<Value> = targets(r)
        .into_iter()
        .map(|(name, target, value, met)| json!({ "name": name, "target": target, "value": value, "met": met }))
        .collect();
    json!({
        "settings": {
            "rounds": args.rounds,
            "messages": args.messages,
            "round_trips": args.round_trips,
            "warmup": args.warmup,
            "message_bytes": wire.len(),
            "pub_topic": peer::TOPIC,
            "transport": "tcp loopback, sender and receiver in separate processes",
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        },
        "push_pull": throughput(&r.push, &r.push_loss),
        "pub_sub_lossless": throughput(&r.lossless, &r.lossless_loss),
        "pub_sub_lossy": lossy,
        "async_push_pull": asyncio,
        "service_dispatch": {
            "unit": "messages per second at the receiver; library: the service runtime with a typed handler, baseline: a plain pull_async loop; both fed by the async sender",
            "ratio_is": "service / receive loop",
            "rates": pair_json(&r.service),
            "receiving_thread_cpu_ns_per_message": pair_json(&r.service_cpu),
        },
        "latency": {
            "unit": "round-trip microseconds",
            "p50": pair_json(&r.p50),
            "p99": pair_json(&r.p99),
            "p999": pair_json(&r.p999),
        },
        "receiver_peak_rss": {
            "unit": "MB (VmHWM), the largest receiver of each round's throughput trials",
            "library": summary(&r.rss.lib),
            "baseline": summary(&r.rss.base),
            "ratio": summary(&r.rss.ratios()),
        },
        "targets": target_list,
        "elapsed_s": elapsed,
    })
}

fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}

fn table(args: &BenchArgs, r: &Results, report: &Value, elapsed: f64) -> String {
    let mut s = String::new();
    let wire = peer::wire_bytes().len();
    s.push_str(&format!(
        "exbus bench: {} rounds; {} messages per throughput trial, {} round trips (+{} warm-up) per latency trial;\n\
         a {wire}-byte Heartbeat over tcp loopback, sender and receiver in separate processes.\n\
         per round: the mean of 2 trials a side (order A B B A); shown: median (min-max) over rounds;\n\
         ratio = library/baseline, taken per round.\n\n",
        args.rounds, args.messages, args.round_trips, args.warmup
    ));
    s.push_str(&format!("{:<34} {:>22} {:>22} {:>20}\n", "measurement", "library", "baseline", "ratio"));
    let cell = |v: &[f64], f: &dyn Fn(f64) -> String| {
        let st = stats(v);
        format!("{} ({}-{})", f(st.median), f(st.min), f(st.max))
    };
    let ratio = |p: &Pair| {
        let st = stats(&p.ratios());
        format!("{:.3} ({:.2}-{:.2})", st.median, st.min, st.max)
    };
    let us = |v: f64| format!("{v:.1}");
    let mb = |v: f64| format!("{v:.1}");
    type Row<'a> = (&'a str, &'a Pair, &'a dyn Fn(f64) -> String);
    let rows: Vec<Row> = vec![
        ("PUSH->PULL blocking, msg/s", &r.push, &rate),
        ("PUB->SUB lossless, msg/s", &r.lossless, &rate),
        ("PUB->SUB lossy, delivered msg/s", &r.lossy, &rate),
        ("PUB->SUB lossy, publish calls/s", &r.lossy_send, &rate),
        ("async PUSH->PULL (vs blocking base)", &r.asyncio, &rate),
        ("service handler vs async pull loop", &r.service, &rate),
        ("  its receiving thread, CPU ns/msg", &r.service_cpu, &us),
        ("round trip p50, us", &r.p50, &us),
        ("round trip p99, us", &r.p99, &us),
        ("round trip p99.9, us", &r.p999, &us),
        ("receiver peak RSS, MB", &r.rss, &mb),
    ];
    for (name, p, f) in rows {
        s.push_str(&format!(
            "{:<34} {:>22} {:>22} {:>20}\n",
            name,
            cell(&p.lib, f),
            cell(&p.base, f),
            ratio(p)
        ));
    }
    let pct = |v: &[f64]| format!("{:.2}%", stats(v).median * 100.0);
    s.push_str(&format!(
        "\nloss (median): PUSH->PULL {} / {}, lossless PUB->SUB {} / {}, async {}, lossy PUB->SUB {} / {} (library / baseline)\n",
        pct(&r.push_loss.lib),
        pct(&r.push_loss.base),
        pct(&r.lossless_loss.lib),
        pct(&r.lossless_loss.base),
        pct(&r.async_loss),
        pct(&r.lossy_loss.lib),
        pct(&r.lossy_loss.base),
    ));
    s.push_str("\ntargets:\n");
    for t in report["targets"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  {:<20} {:<22} {:>8.3}  {}\n",
            t["name"].as_str().unwrap_or_default(),
            t["target"].as_str().unwrap_or_default(),
            t["value"].as_f64().unwrap_or_default(),
            if t["met"].as_bool().unwrap_or(false) { "met" } else { "MISSED" }
        ));
    }
    s.push_str(&format!("\ntook {elapsed:.1} s"));
    s
}
