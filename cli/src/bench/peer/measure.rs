//! What a peer measures and how it reports it: the receiver's count and rate, the
//! sender's rate, round-trip percentiles, peak RSS and CPU time.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{PeerArgs, Task, READY};
use crate::Failure;

pub(super) fn print_line(v: &Value) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{v}").and_then(|()| out.flush()).map_err(|e| Failure::Runtime(format!("stdout: {e}")))
}

/// Tells the orchestrator where this binding peer listens.
pub(super) fn ready(endpoints: &[String]) -> Result<(), Failure> {
    print_line(&json!({ "endpoints": endpoints }))
}

/// Peak resident set size of this process in kB (`VmHWM`), 0 where unknown.
pub fn peak_rss_kb() -> u64 {
    status_kb("VmHWM:")
}

/// A `/proc/self/status` field in kB, 0 where unknown.
pub(super) fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time of the calling thread so far (`CLOCK_THREAD_CPUTIME_ID`), or `None` where it
/// cannot be read.
pub fn thread_cpu() -> Option<Duration> {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process so far (every thread, libzmq's I/O threads included).
pub(super) fn process_cpu() -> Option<Duration> {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock(id: libc::clockid_t) -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer to a local.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    let (secs, nanos) = (u64::try_from(ts.tv_sec).ok()?, u32::try_from(ts.tv_nsec).ok()?);
    (rc == 0).then(|| Duration::new(secs, nanos))
}

/// Adds the receiving thread's CPU time per message to a receiver's result.
pub(super) fn with_cpu(mut result: Value, cpu: Option<(Duration, Duration)>, received: u64) -> Value {
    if let Some((start, end)) = cpu {
        let per = end.saturating_sub(start).as_nanos() as f64 / received.saturating_sub(1).max(1) as f64;
        result["thread_cpu_ns_per_message"] = json!(per);
    }
    result
}

pub(super) fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

/// How a receiver ends: after `count` messages, or (lossy PUB/SUB) after `idle`
/// without one. `recv(first)` returns `Ok(false)` on a timeout.
pub(super) struct Counter {
    pub(super) count: u64,
    /// Take the time of every message (needed when the end is an idle timeout).
    track_last: bool,
    pub(super) idle: Duration,
}

impl Counter {
    pub(super) fn new(args: &PeerArgs) -> Counter {
        Counter {
            count: args.count.max(1),
            track_last: args.task == Task::Sub && !args.lossless,
            idle: Duration::from_millis(args.idle_ms),
        }
    }

    pub(super) fn run(&self, mut recv: impl FnMut(bool) -> Result<bool, Failure>) -> Result<Value, Failure> {
        if !recv(true)? {
            return Err(Failure::Timeout(format!("no message within {READY:?}")));
        };
        let (start, cpu_start) = (Instant::now(), thread_cpu());
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
        let cpu = cpu_start.zip(thread_cpu());
        let end = if self.track_last {
            last
        } else if timed_out {
            Instant::now() - self.idle
        } else {
            Instant::now()
        };
        Ok(with_cpu(self.result(n, end.saturating_duration_since(start)), cpu, n))
    }

    pub(super) fn result(&self, received: u64, elapsed: Duration) -> Value {
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

pub(super) fn sender_result(sent: u64, elapsed: Duration) -> Value {
    let secs = elapsed.as_secs_f64();
    json!({
        "sent": sent,
        "elapsed_s": secs,
        "rate": if secs > 0.0 { sent as f64 / secs } else { 0.0 },
        "peak_rss_kb": peak_rss_kb(),
    })
}

/// Percentiles of round-trip times (nanoseconds, sorted in place) in microseconds.
pub(super) fn latency_result(samples: &mut [u64]) -> Value {
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

/// Round trips: `once()` does one; the first `warmup` are not measured.
pub(super) fn round_trips(
    args: &PeerArgs,
    mut once: impl FnMut() -> Result<(), Failure>,
) -> Result<Value, Failure> {
    let mut samples = Vec::with_capacity(usize::try_from(args.count).unwrap_or(0));
    for i in 0..args.warmup + args.count {
        let t = Instant::now();
        once()?;
        let dt = t.elapsed();
        if i >= args.warmup {
            samples.push(u64::try_from(dt.as_nanos()).unwrap_or(u64::MAX));
        }
    }
    Ok(latency_result(&mut samples))
}
