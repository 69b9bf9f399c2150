//! `exbus record` and `exbus replay`: frames to a line-based file and back, byte for
//! byte, with their timing.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use experimance_common::socket::{Error as SocketError, Publisher, Role};
use serde_json::{json, Value};

use crate::endpoint::{self, EndpointArgs};
use crate::session::{interrupted, parse_duration, show, wait_until, Watch, TICK};
use crate::{announce, secure, subscriber, Failure, Receiving, SecurityArgs};

/// The format, in `record --help`, `replay --help` and the README.
pub const FORMAT_HELP: &str = "\
Recording format (version 1): UTF-8 text, one JSON object per line.
  line 1:  {\"exbus_record\": 1, \"started_unix\": SECONDS, \"endpoints\": [...], \"topics\": [...]}
  then one line per frame, in the order received:
           {\"t\": SECONDS_SINCE_START, \"unix\": SECONDS, \"topic\": TEXT, \"len\": BYTES, \"frame\": BASE64}
\"frame\" is the frame's exact bytes (standard base64, with padding), topic and all;
\"topic\" (the bytes before the first space, lossy UTF-8) and \"len\" are for people
and tools like jq. Replay sends \"frame\" at \"t\" / --speed after it starts.";

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    at: EndpointArgs,
    /// Topic prefix to record (repeatable). Default: every topic.
    #[arg(short, long = "topic")]
    topics: Vec<String>,
    /// The file to write (`-`: stdout).
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Stop after this many frames.
    #[arg(short = 'n', long)]
    count: Option<u64>,
    /// Stop after this long (default: until interrupted; Ctrl-C leaves a complete file).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    #[command(flatten)]
    security: SecurityArgs,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The recording (`exbus record --out`).
    file: PathBuf,
    #[command(flatten)]
    at: EndpointArgs,
    /// Play this many times faster (0.5: half speed).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    speed: f64,
    /// Start again at the end, until interrupted.
    #[arg(long = "loop")]
    repeat: bool,
    /// Replay only the frames whose topic starts with this (repeatable).
    #[arg(short, long = "topic")]
    topics: Vec<String>,
    /// Wait until this many subscribers to the first frame's topic are there (at most
    /// --timeout; then exit 3 having sent nothing). 0 starts at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    wait_subscribers: usize,
    /// How long waiting for subscribers, and each send, may take.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    timeout: Duration,
    #[command(flatten)]
    security: SecurityArgs,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The topic of a pub frame: its bytes before the first space.
fn topic_of(frame: &[u8]) -> &[u8] {
    frame.iter().position(|&b| b == b' ').map_or(frame, |i| &frame[..i])
}

/// `exbus record`.
pub fn record(args: &RecordArgs) -> Result<(), Failure> {
    let eps = args.at.resolve(Role::Connect)?;
    let file: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout())
    } else {
        let f = std::fs::File::create(&args.out)
            .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", args.out.display())))?;
        Box::new(f)
    };
    let mut file = BufWriter::new(file);
    let mut sub = subscriber(&eps, &args.topics, false, &args.security)?;
    announce("recording", eps[0].role(), &sub.endpoint(), sub.endpoints());
    let write_failed =
        |e: std::io::Error| Failure::Runtime(format!("cannot write {}: {e}", args.out.display()));
    let started = Instant::now();
    let header = json!({
        "exbus_record": 1,
        "started_unix": unix_now(),
        "endpoints": eps.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "topics": args.topics,
    });
    writeln!(file, "{header}").map_err(write_failed)?;
    let mut watch = Watch::new(&eps);
    let mut n = 0u64;
    let done = |n: u64| format!("recorded {n} frame(s) to {}", args.out.display());
    loop {
        if args.count.is_some_and(|c| n >= c) || args.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        if interrupted() {
            file.flush().map_err(write_failed)?;
            return Err(Failure::Interrupted(done(n)));
        }
        watch.tick(|| sub.peers());
        match sub.next_frame() {
            Ok(frame) => {
                let line = json!({
                    "t": started.elapsed().as_secs_f64(),
                    "unix": unix_now(),
                    "topic": String::from_utf8_lossy(topic_of(frame)),
                    "len": frame.len(),
                    "frame": BASE64.encode(frame),
                });
                writeln!(file, "{line}").map_err(write_failed)?;
                n += 1;
            }
            Err(SocketError::Timeout { .. } | SocketError::Interrupted { .. }) => {
                file.flush().map_err(write_failed)?
            }
            Err(e) => return Err(e.into()),
        }
    }
    file.flush().map_err(write_failed)?;
    eprintln!("exbus: {}", done(n));
    sub.close().map_err(Failure::from)
}

/// One recorded frame.
#[derive(Debug)]
struct Frame {
    t: Duration,
    bytes: Vec<u8>,
}

/// Reads and checks the whole recording before anything is bound.
fn load(path: &PathBuf, topics: &[String]) -> Result<Vec<Frame>, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Usage(format!("cannot open {}: {e}", path.display())))?;
    let bad = |n: usize, what: &str| Failure::Usage(format!("{} line {n}: {what}", path.display()));
    let mut frames = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| bad(n, &e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line).map_err(|e| bad(n, &format!("not JSON: {e}")))?;
        if n == 1 {
            match v.get("exbus_record").and_then(Value::as_u64) {
                Some(1) => continue,
                Some(other) => return Err(bad(n, &format!("recording format {other}; this exbus reads 1"))),
                None => return Err(bad(n, "not an exbus recording (no \"exbus_record\" header)")),
            }
        }
        let t = v.get("t").and_then(Value::as_f64).ok_or_else(|| bad(n, "no \"t\""))?;
        let t = Duration::try_from_secs_f64(t).map_err(|_| bad(n, "a negative \"t\""))?;
        let b64 = v.get("frame").and_then(Value::as_str).ok_or_else(|| bad(n, "no \"frame\""))?;
        let bytes = BASE64.decode(b64).map_err(|e| bad(n, &format!("\"frame\" is not base64: {e}")))?;
        if topics.is_empty() || topics.iter().any(|p| topic_of(&bytes).starts_with(p.as_bytes())) {
            frames.push(Frame { t, bytes });
        }
    }
    Ok(frames)
}

/// `exbus replay`.
pub fn replay(args: &ReplayArgs) -> Result<(), Failure> {
    let eps = args.at.resolve(Role::Bind)?;
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        return Err(Failure::Usage(format!(
            "invalid --speed {}: above 0, 1 is the original timing",
            args.speed
        )));
    }
    let frames = load(&args.file, &args.topics)?;
    let Some(first) = frames.first() else {
        return Err(Failure::Usage(format!("{} has no frame to replay", args.file.display())));
    };
    let b = Publisher::builder().lossless(true).send_timeout(args.timeout);
    let mut publisher = endpoint::open(secure(b, &args.security)?, &eps)?;
    announce("replaying", eps[0].role(), &publisher.endpoint(), publisher.endpoints());
    let mut watch = Watch::new(&eps);
    let first_topic = String::from_utf8_lossy(topic_of(&first.bytes)).into_owned();
    let mut sent = 0u64;
    let summary = |sent: u64| format!("replayed {sent} frame(s)");
    let ready = args.wait_subscribers == 0
        || wait_until(
            &mut publisher,
            args.timeout,
            &mut watch,
            |p, d| p.wait_for_subscribers_to(&first_topic, args.wait_subscribers, d),
            Publisher::peer_count,
        )?;
    if !ready {
        return Err(Failure::Timeout(format!(
            "no subscriber to topic \"{first_topic}\" within {}: nothing replayed",
            show(args.timeout)
        )));
    }
    let origin = first.t;
    loop {
        let start = Instant::now();
        for frame in &frames {
            let due = start + (frame.t.saturating_sub(origin)).div_f64(args.speed);
            loop {
                if interrupted() {
                    return Err(Failure::Interrupted(summary(sent)));
                }
                let now = Instant::now();
                if now >= due {
                    break;
                }
                std::thread::sleep((due - now).min(TICK));
            }
            let result = loop {
                match publisher.publish_raw(&frame.bytes) {
                    Err(SocketError::Interrupted { .. }) if !interrupted() => {}
                    Err(SocketError::Interrupted { .. }) => return Err(Failure::Interrupted(summary(sent))),
                    other => break other,
                }
            };
            result.map_err(|e| match e {
                SocketError::Timeout { .. } => Failure::Timeout(format!(
                    "a frame could not be sent within {} (a subscriber stopped reading); {}",
                    show(args.timeout),
                    summary(sent)
                )),
                other => Failure::Runtime(format!("{other}; {}", summary(sent))),
            })?;
            sent += 1;
            watch.tick(|| publisher.peer_count());
        }
        if !args.repeat {
            break;
        }
    }
    eprintln!("exbus: {}", summary(sent));
    publisher.close().map_err(Failure::from)
}
