//! `exbus hz`: message rate and size statistics per topic, refreshed each second.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use experimance_common::codec;
use experimance_common::socket::{Error, Subscriber};

use crate::Failure;

#[derive(Default)]
struct Stats {
    count: u64,
    window: u64,
    bytes_min: usize,
    bytes_max: usize,
    bytes_sum: u64,
}

/// Runs until `limit` (or forever), printing a table each second.
pub fn run(mut sub: Subscriber, limit: Option<Duration>) -> Result<(), Failure> {
    let start = Instant::now();
    let mut last = start;
    let mut stats: BTreeMap<String, Stats> = BTreeMap::new();
    let stdout = std::io::stdout();
    loop {
        if limit.is_some_and(|l| start.elapsed() >= l) {
            break;
        }
        let measured = match sub.receive_raw_timeout(Duration::from_millis(100)) {
            Ok(frame) => {
                let topic = match codec::split_pub(frame) {
                    Ok((t, _)) => t.to_owned(),
                    Err(e) => e.topic().map(str::to_owned).unwrap_or_else(|| "(no topic)".to_owned()),
                };
                Some((topic, frame.len()))
            }
            Err(Error::Timeout { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some((topic, len)) = measured {
            let s = stats.entry(topic).or_default();
            if s.count == 0 || len < s.bytes_min {
                s.bytes_min = len;
            }
            s.bytes_max = s.bytes_max.max(len);
            s.bytes_sum += len as u64;
            s.count += 1;
            s.window += 1;
        }
        let elapsed = last.elapsed();
        if elapsed >= Duration::from_secs(1) {
            let mut out = stdout.lock();
            let _ = writeln!(
                out,
                "{:<24} {:>10} {:>10} {:>8} {:>8} {:>8}",
                "topic", "rate/s", "total", "min B", "avg B", "max B"
            );
            for (topic, s) in &mut stats {
                let rate = s.window as f64 / elapsed.as_secs_f64();
                let avg = s.bytes_sum.checked_div(s.count).unwrap_or(0);
                let shown = if topic.is_empty() { "(empty)".into() } else { crate::output::escape(topic) };
                let _ = writeln!(
                    out,
                    "{shown:<24} {rate:>10.1} {:>10} {:>8} {avg:>8} {:>8}",
                    s.count, s.bytes_min, s.bytes_max
                );
                s.window = 0;
            }
            let _ = writeln!(out);
            last = Instant::now();
        }
    }
    sub.close().map_err(Failure::from)
}
