//! Health: the service's state and counters, and the health JSON file the Python
//! services write for the installation's monitoring.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// How many checks a health file keeps (as the Python services).
pub const MAX_CHECKS: usize = 50;

/// Where a service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceState {
    /// Built, sockets not yet receiving.
    Starting,
    /// Receiving and handling.
    Running,
    /// Running, but handlers failed or sends were dropped since the last heartbeat.
    Degraded,
    /// Shutting down: not receiving, finishing in-flight handlers.
    Stopping,
    /// Stopped; sockets closed.
    Stopped,
}

impl ServiceState {
    /// The state's lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Starting => "starting",
            ServiceState::Running => "running",
            ServiceState::Degraded => "degraded",
            ServiceState::Stopping => "stopping",
            ServiceState::Stopped => "stopped",
        }
    }

    fn status(self) -> HealthStatus {
        match self {
            ServiceState::Running | ServiceState::Stopping => HealthStatus::Healthy,
            ServiceState::Degraded => HealthStatus::Warning,
            ServiceState::Starting | ServiceState::Stopped => HealthStatus::Unknown,
        }
    }
}

/// A check's status, as the Python health files write it; ordered from least to most
/// severe (`unknown` < `healthy` < `warning` < `error` < `fatal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthStatus {
    /// Not known.
    Unknown,
    /// All good.
    Healthy,
    /// Working, with problems.
    Warning,
    /// Failing.
    Error,
    /// Cannot go on.
    Fatal,
}

impl HealthStatus {
    /// The wire value (`healthy`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Unknown => "unknown",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Warning => "warning",
            HealthStatus::Error => "error",
            HealthStatus::Fatal => "fatal",
        }
    }
}

/// One health check.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    /// What was checked.
    pub name: String,
    /// Its status.
    pub status: HealthStatus,
    /// An explanation.
    pub message: Option<String>,
    /// When (ISO 8601, UTC).
    pub timestamp: String,
    /// More about it.
    pub metadata: serde_json::Map<String, Value>,
}

impl HealthCheck {
    /// A check stamped now.
    pub fn now(name: &str, status: HealthStatus, message: Option<&str>) -> HealthCheck {
        HealthCheck {
            name: name.to_owned(),
            status,
            message: message.map(str::to_owned),
            timestamp: iso8601(SystemTime::now()),
            metadata: serde_json::Map::new(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "status": self.status.as_str(),
            "message": self.message,
            "timestamp": self.timestamp,
            "metadata": self.metadata,
        })
    }
}

/// The service's health now: its state, checks and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSnapshot {
    /// The service's name.
    pub service_name: String,
    /// Its state.
    pub state: ServiceState,
    /// The worst status among the checks (`unknown` without any).
    pub overall_status: HealthStatus,
    /// The last 50 checks, oldest first.
    pub checks: Vec<HealthCheck>,
    /// Since the service was built.
    pub uptime: Duration,
    /// Messages handled.
    pub processed: u64,
    /// Handler failures and other recorded errors.
    pub error_count: u64,
    /// Restarts (always 0 for a process that does not restart itself).
    pub restart_count: u64,
}

impl HealthSnapshot {
    pub(crate) fn unknown(name: &str) -> HealthSnapshot {
        HealthSnapshot {
            service_name: name.to_owned(),
            state: ServiceState::Starting,
            overall_status: HealthStatus::Unknown,
            checks: Vec::new(),
            uptime: Duration::ZERO,
            processed: 0,
            error_count: 0,
            restart_count: 0,
        }
    }

    /// The health file's JSON object, with the fields the Python services write
    /// (`service_name`, `overall_status`, `checks`, `last_updated`, `uptime`,
    /// `restart_count`, `error_count`).
    pub fn to_json(&self) -> Value {
        json!({
            "service_name": self.service_name,
            "overall_status": self.overall_status.as_str(),
            "checks": self.checks.iter().map(HealthCheck::to_json).collect::<Vec<_>>(),
            "last_updated": iso8601(SystemTime::now()),
            "uptime": self.uptime.as_secs_f64(),
            "restart_count": self.restart_count,
            "error_count": self.error_count,
        })
    }

    /// Writes the health file `<dir>/<service_type>.json` atomically (a temporary file
    /// in `dir`, then a rename), creating `dir` if needed. Returns its path.
    ///
    /// # Errors
    /// The I/O error of creating, writing or renaming.
    ///
    /// # Example
    /// ```
    /// use experimance_common::service::{HealthSnapshot, ServiceState, HealthStatus};
    /// let dir = std::env::temp_dir().join(format!("health-doc-{}", std::process::id()));
    /// let snapshot = HealthSnapshot {
    ///     service_name: "image_server".into(), state: ServiceState::Running,
    ///     overall_status: HealthStatus::Healthy, checks: vec![],
    ///     uptime: std::time::Duration::from_secs(3), processed: 7, error_count: 0, restart_count: 0,
    /// };
    /// let path = snapshot.write_file(&dir, "image_server")?;
    /// let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    /// assert_eq!(v["overall_status"], "healthy");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_file(&self, dir: &Path, service_type: &str) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{service_type}.json"));
        let tmp = dir.join(format!(".{service_type}.json.{}.tmp", std::process::id()));
        let mut text = serde_json::to_vec_pretty(&self.to_json()).map_err(std::io::Error::other)?;
        text.push(b'\n');
        std::fs::write(&tmp, &text)?;
        match std::fs::rename(&tmp, &path) {
            Ok(()) => Ok(path),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// The health directory of the Python services: `/var/cache/experimance/health` when
/// `EXPERIMANCE_ENV=production`, else `./logs/health`.
pub fn health_dir() -> PathBuf {
    match std::env::var("EXPERIMANCE_ENV") {
        Ok(env) if env == "production" => PathBuf::from("/var/cache/experimance/health"),
        _ => PathBuf::from("logs/health"),
    }
}

/// The mutable health record of a running service.
#[derive(Debug)]
pub(crate) struct HealthBook {
    pub(crate) state: ServiceState,
    checks: VecDeque<HealthCheck>,
    pub(crate) error_count: u64,
}

impl HealthBook {
    pub(crate) fn new() -> HealthBook {
        HealthBook { state: ServiceState::Starting, checks: VecDeque::new(), error_count: 0 }
    }

    pub(crate) fn record(&mut self, check: HealthCheck) {
        if self.checks.len() >= MAX_CHECKS {
            self.checks.pop_front();
        }
        self.checks.push_back(check);
    }

    /// Changes the state, recording a `lifecycle` check when it changed.
    pub(crate) fn set_state(&mut self, state: ServiceState) {
        if self.state != state {
            self.state = state;
            self.record(HealthCheck::now("lifecycle", state.status(), Some(state.as_str())));
        }
    }

    pub(crate) fn snapshot(&self, name: &str, uptime: Duration, processed: u64) -> HealthSnapshot {
        // The overall status is the worst among the checks (fatal > error > warning >
        // healthy > unknown), as in the Python services.
        let overall_status = self.checks.iter().map(|c| c.status).max().unwrap_or(HealthStatus::Unknown);
        HealthSnapshot {
            service_name: name.to_owned(),
            state: self.state,
            overall_status,
            checks: self.checks.iter().cloned().collect(),
            uptime,
            processed,
            error_count: self.error_count,
            restart_count: 0,
        }
    }
}

/// `t` as ISO 8601 in UTC with microseconds (`2026-01-31T12:00:00.000000+00:00`, what
/// Python's `datetime.now(timezone.utc).isoformat()` writes).
pub(crate) fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_known_instants() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000000+00:00");
        let t = UNIX_EPOCH + Duration::from_micros(1_709_210_096_123_456); // leap day 2024
        assert_eq!(iso8601(t), "2024-02-29T12:34:56.123456+00:00");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso8601(t), "2000-02-29T00:00:00.000000+00:00");
    }

    #[test]
    fn overall_is_the_worst_check_and_only_the_last_50_are_kept() {
        let mut book = HealthBook::new();
        assert_eq!(book.snapshot("s", Duration::ZERO, 0).overall_status, HealthStatus::Unknown);
        book.set_state(ServiceState::Running);
        assert_eq!(book.snapshot("s", Duration::ZERO, 0).overall_status, HealthStatus::Healthy);
        book.record(HealthCheck::now("disk", HealthStatus::Error, Some("full")));
        assert_eq!(book.snapshot("s", Duration::ZERO, 0).overall_status, HealthStatus::Error);
        for _ in 0..MAX_CHECKS {
            book.record(HealthCheck::now("ping", HealthStatus::Healthy, None));
        }
        let snap = book.snapshot("s", Duration::ZERO, 0);
        assert_eq!(snap.checks.len(), MAX_CHECKS);
        assert_eq!(snap.overall_status, HealthStatus::Healthy, "the error check aged out");
    }
}
