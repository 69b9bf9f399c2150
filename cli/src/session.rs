//! What every long-running command shares: the interrupt flag (Ctrl-C, SIGTERM), the
//! connection watch on stderr, durations on the command line, and stdout that ends
//! quietly when its reader goes away.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use experimance_common::socket::{Endpoint, Error as SocketError, Role};

use crate::Failure;

/// How often the loops look at the interrupt flag and the connection count.
pub const TICK: Duration = Duration::from_millis(100);
/// How long a connecting socket may go without a connection before a warning.
pub const WARN_AFTER: Duration = Duration::from_secs(3);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Catches Ctrl-C (SIGINT) and SIGTERM: they set a flag that the loops check, so each
/// command prints its summary and exits with code 130.
pub fn catch_interrupts() {
    // Fails only if a handler is already installed, which nothing else does.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// Whether Ctrl-C or SIGTERM arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A duration on the command line: `500ms`, `2m`, `1h30m` (humantime), or a bare
/// number of seconds (`1.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(secs) = text.trim().parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid number of seconds: {text}"));
    }
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("invalid duration {text:?}: {e} (try 500ms, 5s, 2m)"))
}

/// A duration as people write it (`500ms`, `5s`, `2m`).
pub fn show(d: Duration) -> String {
    if d.subsec_millis() != 0 && d < Duration::from_secs(10) {
        format!("{} ms", d.as_millis())
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}

/// Prints on stderr when peers connect and disconnect, and warns once when a
/// connecting socket still has no peer after [`WARN_AFTER`] (nothing bound there, or a
/// refused handshake): a quiet bus and no bus no longer look the same.
#[derive(Debug)]
pub struct Watch {
    names: String,
    connects: bool,
    peers: usize,
    start: Instant,
    last_check: Option<Instant>,
    warned: bool,
}

impl Watch {
    /// Watches a socket on `endpoints`.
    pub fn new(endpoints: &[Endpoint]) -> Self {
        let names: Vec<&str> = endpoints.iter().map(Endpoint::as_str).collect();
        Watch {
            names: names.join(", "),
            connects: endpoints.first().is_some_and(|e| e.role() == Role::Connect),
            peers: 0,
            start: Instant::now(),
            last_check: None,
            warned: false,
        }
    }

    /// Looks at the peer count (at most once per [`TICK`]): `peers` is called then.
    pub fn tick(&mut self, peers: impl FnOnce() -> usize) {
        if self.last_check.is_some_and(|t| t.elapsed() < TICK) {
            return;
        }
        self.last_check = Some(Instant::now());
        self.update(peers());
    }

    /// Reports a new peer count.
    pub fn update(&mut self, now: usize) {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if now > self.peers {
            if self.connects {
                eprintln!("exbus: connected to {} ({now} peer{})", self.names, plural(now));
            } else {
                eprintln!("exbus: a peer connected to {} ({now} peer{})", self.names, plural(now));
            }
        } else if now < self.peers {
            eprintln!("exbus: disconnected: {now} peer{} left on {}", plural(now), self.names);
        }
        self.peers = now;
        if now == 0 && self.connects && !self.warned && self.start.elapsed() >= WARN_AFTER {
            self.warned = true;
            eprintln!(
                "exbus: warning: no connection to {} after {}: is anything bound there?",
                self.names,
                show(WARN_AFTER)
            );
        }
    }
}

/// Waits until `ready` (given at most [`TICK`] each call) succeeds or `limit` passes,
/// looking at the interrupt flag and the connections in between: `Ok(true)` when ready,
/// `Ok(false)` when `limit` passed, [`Failure::Interrupted`] ("nothing sent") on Ctrl-C.
pub fn wait_until<S>(
    socket: &mut S,
    limit: Duration,
    watch: &mut Watch,
    mut ready: impl FnMut(&mut S, Duration) -> Result<usize, SocketError>,
    mut peers: impl FnMut(&mut S) -> usize,
) -> Result<bool, Failure> {
    let deadline = Instant::now() + limit;
    loop {
        if interrupted() {
            return Err(Failure::Interrupted("nothing sent".into()));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match ready(socket, left.min(TICK)) {
            Ok(_) => return Ok(true),
            Err(SocketError::Interrupted { .. }) => {}
            Err(SocketError::Timeout { .. }) if !left.is_zero() => watch.tick(|| peers(socket)),
            Err(SocketError::Timeout { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Lines on stdout, flushed one by one; a reader that went away (`| head -2`) ends the
/// command quietly with code 0.
#[derive(Debug)]
pub struct Out {
    out: std::io::StdoutLock<'static>,
}

impl Out {
    /// Locks stdout.
    pub fn new() -> Self {
        Out { out: std::io::stdout().lock() }
    }

    /// Writes `bytes` and a line feed.
    pub fn line(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.out
            .write_all(bytes)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush())
            .map_err(io_failure)
    }
}

/// A failed write: the reader closed the pipe (exit 0, nothing printed), or an error.
pub fn io_failure(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::PipeClosed
    } else {
        Failure::Runtime(format!("cannot write output: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").unwrap_err().contains("500ms"));
        assert_eq!(show(Duration::from_millis(500)), "500 ms");
        assert_eq!(show(Duration::from_secs(120)), "2m");
    }
}
