//! `exbus hz`: rate, bytes/s, sizes and the interval's min/max/std per topic and type,
//! refreshed each second; "no messages" when quiet; a summary at exit.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use experimance_common::codec;
use experimance_common::socket::{Endpoint, Error, Subscriber};
use serde_json::Value;

use crate::output::escape;
use crate::session::{interrupted, show, Out, Watch};
use crate::table::Table;
use crate::{Failure, Receiving};

#[derive(Default)]
struct Stats {
    count: u64,
    window: u64,
    window_bytes: u64,
    bytes_min: usize,
    bytes_max: usize,
    bytes_sum: u64,
    last: Option<Instant>,
    /// Intervals between arrivals, in seconds (Welford's running mean and variance).
    gaps: u64,
    gap_mean: f64,
    gap_m2: f64,
    gap_min: f64,
    gap_max: f64,
}

impl Stats {
    fn add(&mut self, len: usize, at: Instant) {
        if self.count == 0 || len < self.bytes_min {
            self.bytes_min = len;
        }
        self.bytes_max = self.bytes_max.max(len);
        self.bytes_sum += len as u64;
        self.count += 1;
        self.window += 1;
        self.window_bytes += len as u64;
        if let Some(last) = self.last.replace(at) {
            let gap = at.duration_since(last).as_secs_f64();
            if self.gaps == 0 {
                (self.gap_min, self.gap_max) = (gap, gap);
            }
            self.gap_min = self.gap_min.min(gap);
            self.gap_max = self.gap_max.max(gap);
            self.gaps += 1;
            let delta = gap - self.gap_mean;
            self.gap_mean += delta / self.gaps as f64;
            self.gap_m2 += delta * (gap - self.gap_mean);
        }
    }

    fn gap_cells(&self) -> [String; 3] {
        if self.gaps == 0 {
            return ["-".into(), "-".into(), "-".into()];
        }
        let std = (self.gap_m2 / self.gaps as f64).sqrt();
        [self.gap_min, self.gap_max, std].map(|s| format!("{:.1}", s * 1000.0))
    }
}

/// The text columns, then the numbers.
const TEXT_COLUMNS: [&str; 2] = ["topic", "type"];
const NUMBER_COLUMNS: [&str; 9] =
    ["msgs", "rate/s", "bytes/s", "min B", "avg B", "max B", "gap min ms", "gap max ms", "gap std ms"];

/// The table: rates over `elapsed` from `count`/`bytes` (the window, or everything).
fn table(stats: &BTreeMap<(String, String), Stats>, elapsed: Duration, whole: bool) -> Table {
    let mut t = Table::new(&TEXT_COLUMNS, &NUMBER_COLUMNS);
    let secs = elapsed.as_secs_f64().max(1e-9);
    for ((topic, type_name), s) in stats {
        let (n, bytes) = if whole { (s.count, s.bytes_sum) } else { (s.window, s.window_bytes) };
        let avg = s.bytes_sum.checked_div(s.count).unwrap_or(0);
        let shown = if topic.is_empty() { "(empty)".into() } else { escape(topic).into_owned() };
        let [gmin, gmax, gstd] = s.gap_cells();
        t.row([
            shown,
            escape(type_name).into_owned(),
            s.count.to_string(),
            format!("{:.1}", n as f64 / secs),
            format!("{:.0}", bytes as f64 / secs),
            s.bytes_min.to_string(),
            avg.to_string(),
            s.bytes_max.to_string(),
            gmin,
            gmax,
            gstd,
        ]);
    }
    t
}

/// Runs until `limit` or an interrupt, printing a table each second and a summary.
pub fn run(mut sub: Subscriber, endpoints: &[Endpoint], limit: Option<Duration>) -> Result<(), Failure> {
    let start = Instant::now();
    let mut last = start;
    let mut quiet_since = start;
    let mut stats: BTreeMap<(String, String), Stats> = BTreeMap::new();
    let mut out = Out::new();
    let mut watch = Watch::new(endpoints);
    let mut stopped = false;
    loop {
        if limit.is_some_and(|l| start.elapsed() >= l) {
            break;
        }
        if interrupted() {
            stopped = true;
            break;
        }
        watch.tick(|| sub.peers());
        let measured = match sub.next_frame() {
            Ok(frame) => {
                let (topic, type_name) = match codec::decode_pub::<Value>(frame) {
                    Ok((t, v)) => {
                        let ty = v.get("type").and_then(Value::as_str).unwrap_or("(no type)").to_owned();
                        (t.to_owned(), ty)
                    }
                    Err(e) => (
                        e.topic().map(str::to_owned).unwrap_or_else(|| "(no topic)".to_owned()),
                        "(undecodable)".to_owned(),
                    ),
                };
                Some((topic, type_name, frame.len()))
            }
            // A signal interrupted the wait: the loop looks at the flag.
            Err(Error::Timeout { .. } | Error::Interrupted { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some((topic, type_name, len)) = measured {
            stats.entry((topic, type_name)).or_default().add(len, Instant::now());
        }
        let elapsed = last.elapsed();
        if elapsed >= Duration::from_secs(1) {
            if stats.values().all(|s| s.window == 0) {
                let total: u64 = stats.values().map(|s| s.count).sum();
                let line = format!(
                    "no messages for {} ({total} in all)",
                    show(Duration::from_secs(quiet_since.elapsed().as_secs()))
                );
                out.line(line.as_bytes())?;
            } else {
                quiet_since = Instant::now();
                out.line(table(&stats, elapsed, false).to_string().as_bytes())?;
            }
            for s in stats.values_mut() {
                (s.window, s.window_bytes) = (0, 0);
            }
            last = Instant::now();
        }
    }
    let ran = start.elapsed();
    let total: u64 = stats.values().map(|s| s.count).sum();
    let heading = format!("summary: {total} message(s) in {:.1} s", ran.as_secs_f64());
    out.line(heading.as_bytes())?;
    if !stats.is_empty() {
        out.line(table(&stats, ran, true).to_string().trim_end().as_bytes())?;
    }
    if stopped {
        return Err(Failure::Interrupted(format!("{total} message(s) measured")));
    }
    sub.close().map_err(Failure::from)
}
