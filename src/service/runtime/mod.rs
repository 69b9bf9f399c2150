//! The service runtime: a service composed of its sockets, run on tokio until a signal
//! or a shutdown handle stops it gracefully.
//!
//! Split by concern: `builder.rs` describes a service and checks it (`build`), this file
//! runs it (start, stop in order, the heartbeat and health tick, signals), the
//! receiving sockets' loop is in `reader.rs`, the sending sockets' in `writer.rs`, and the
//! [`Summary`] it returns in `summary.rs`.

mod builder;
mod reader;
mod summary;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

pub use builder::ServiceBuilder;
pub use summary::{Summary, TypeCounts};

use super::context::{Context, TopicMode};
use super::dispatch::Table;
use super::error::ServiceError;
use super::health::{HealthStatus, ServiceState};
use crate::HEARTBEAT_INTERVAL;
use builder::Settings;
use reader::{Reader, Receiver};
use writer::{Writer, WriterReport};

/// The topic heartbeats go to in [`TopicMode::ByType`] (their type's name).
pub const HEARTBEAT_TOPIC_DEFAULT: &str = "Heartbeat";

/// A stop handle: [`shutdown`](Self::shutdown) stops the service as SIGINT does.
#[derive(Debug, Clone)]
pub struct Shutdown {
    ctx: Context,
}

impl Shutdown {
    /// Starts the graceful stop.
    pub fn shutdown(&self) {
        self.ctx.shutdown();
    }
}

/// A service: its sockets, handlers and settings; [`run`](Self::run) it.
pub struct Service {
    ctx: Context,
    table: Arc<Table>,
    receivers: Vec<(String, Receiver, bool)>,
    writers: Vec<Writer>,
    settings: Settings,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("name", &self.ctx.name()).finish_non_exhaustive()
    }
}

/// The heartbeat frame: `<topic> ` and the document as Python's `json.dumps` writes
/// `{"type": "Heartbeat", "timestamp": ..., "service": ..., "tasks_processed": ...}`.
pub(crate) fn heartbeat_frame(topic: &str, service: &str, timestamp: f64, tasks_processed: u64) -> Vec<u8> {
    let doc = json!({
        "type": "Heartbeat",
        "timestamp": timestamp,
        "service": service,
        "tasks_processed": tasks_processed,
    });
    let text = super::pyjson::to_python_json(&doc).unwrap_or_default();
    let mut frame = Vec::with_capacity(topic.len() + 1 + text.len());
    frame.extend_from_slice(topic.as_bytes());
    frame.push(b' ');
    frame.extend_from_slice(text.as_bytes());
    frame
}

fn now_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Service {
    /// Starts describing a service named `name` (its heartbeats' `service`).
    pub fn builder(name: &str) -> ServiceBuilder {
        ServiceBuilder::new(name)
    }

    /// The service's context: publish, push, request and stop from outside a handler.
    pub fn context(&self) -> Context {
        self.ctx.clone()
    }

    /// A handle that stops the service.
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown { ctx: self.ctx.clone() }
    }

    /// Runs the service until SIGINT or SIGTERM (unless
    /// [`handle_signals(false)`](ServiceBuilder::handle_signals)) or a shutdown
    /// handle fires. Then it stops receiving, lets in-flight handlers finish within
    /// the deadline, closes the sockets with their linger (flushing what was accepted)
    /// and returns the [`Summary`]. It never fails: a setup failure (the signal
    /// handlers) is [`Summary::startup_error`], and the service does not run.
    pub async fn run(self) -> Summary {
        let Service {
            ctx,
            table,
            receivers,
            writers,
            settings:
                Settings {
                    max_concurrent,
                    heartbeat,
                    heartbeat_topic,
                    deadline,
                    signals,
                    health_file,
                    background,
                },
        } = self;
        let shared = ctx.shared.clone();
        let hurry = Arc::new(Notify::new());
        let mut startup_error = None;
        let mut signal_task = None;
        if signals {
            match install_signals(ctx.clone(), hurry.clone()) {
                Ok(task) => signal_task = Some(task),
                Err(e) => {
                    startup_error = Some(ServiceError::Signals(e).to_string());
                    shared.request_stop();
                }
            }
        }

        let (close_tx, close_rx) = watch::channel(false);
        let writer_tasks: Vec<JoinHandle<(String, WriterReport)>> =
            writers.into_iter().map(|w| tokio::spawn(w.run(close_rx.clone(), ctx.clone()))).collect();
        let permits = Arc::new(Semaphore::new(max_concurrent));
        // One receiving socket running its handlers inline is sequential by itself: it
        // needs no permit per message (a semaphore release takes a lock).
        let inline_only = max_concurrent == 1 && receivers.len() == 1;
        let reader_tasks: Vec<JoinHandle<(String, Receiver)>> = receivers
            .into_iter()
            .map(|(name, sock, correlate)| {
                let r = Reader {
                    ctx: ctx.clone(),
                    table: table.clone(),
                    permits: (!inline_only).then(|| permits.clone()),
                    max_concurrent,
                    correlate,
                };
                tokio::spawn(async move { (name, r.run(sock).await) })
            })
            .collect();
        let heartbeats = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn(tick(
            ctx.clone(),
            heartbeat,
            heartbeat_topic,
            health_file.clone(),
            heartbeats.clone(),
        ));
        let background: Vec<JoinHandle<()>> =
            background.into_iter().map(|b| tokio::spawn(b(ctx.clone()))).collect();
        ctx.set_state(ServiceState::Running);
        write_health(&ctx, &health_file).await;

        // Run until asked to stop.
        let mut stop = shared.stop_tx.subscribe();
        let _ = stop.wait_for(|s| *s).await;
        ctx.set_state(ServiceState::Stopping);
        write_health(&ctx, &health_file).await;
        for b in &background {
            b.abort();
        }

        // 1. Stop receiving, 2. let in-flight handlers finish within the deadline.
        let end = tokio::time::Instant::now() + deadline;
        let mut summary = Summary { service: ctx.name().to_owned(), startup_error, ..Summary::default() };
        let mut readers = Vec::new();
        for task in reader_tasks {
            let abort = task.abort_handle();
            tokio::select! {
                r = task => if let Ok(r) = r { readers.push(r) },
                _ = tokio::time::sleep_until(end) => abort.abort(),
                _ = hurry.notified() => abort.abort(),
            }
        }
        let all = u32::try_from(max_concurrent).unwrap_or(u32::MAX);
        let finished = tokio::select! {
            p = permits.acquire_many(all) => p.is_ok(),
            _ = tokio::time::sleep_until(end) => false,
            _ = hurry.notified() => false,
        };
        if !finished {
            summary.abandoned =
                u64::try_from(max_concurrent - permits.available_permits()).unwrap_or(u64::MAX);
        }
        ticker.abort();

        // 3. Close the sockets: receivers (counting what was never read), then the
        // senders, which flush what was accepted, bounded by their linger.
        for (name, mut sock) in readers {
            let (unread, closed) = tokio::task::spawn_blocking(move || (sock.drain(), sock.close()))
                .await
                .unwrap_or((0, Ok(())));
            if unread > 0 {
                summary.unread_at_close.insert(name.clone(), unread);
            }
            if let Err(e) = closed {
                summary.close_errors.insert(name, e.to_string());
            }
        }
        let _ = close_tx.send(true);
        for task in writer_tasks {
            let Ok((name, report)) = task.await else { continue };
            summary.sent.insert(name.clone(), report.sent);
            if report.failed > 0 {
                summary.send_failures.insert(name.clone(), report.failed);
            }
            if report.dropped_at_close > 0 {
                summary.dropped_at_close.insert(name.clone(), report.dropped_at_close);
            }
            if let Some(e) = report.close_error {
                summary.close_errors.insert(name, e);
            }
        }
        if let Some(t) = signal_task {
            t.abort();
        }

        // 4. The summary.
        let (by_type, unknown, undecodable_handled, undecodable_failed) = table.counts();
        summary.by_type =
            by_type.into_iter().map(|(k, (handled, failed))| (k, TypeCounts { handled, failed })).collect();
        summary.unknown = unknown;
        summary.undecodable = undecodable_handled + undecodable_failed;
        summary.processed = shared.processed.load(Ordering::Relaxed);
        summary.late_responses = shared.late.load(Ordering::Relaxed);
        summary.unmatched_responses = shared.unmatched.load(Ordering::Relaxed);
        summary.heartbeats = heartbeats.load(Ordering::Relaxed);
        ctx.set_state(ServiceState::Stopped);
        if !summary.is_clean() {
            ctx.record_check("shutdown", HealthStatus::Error, Some("shutdown was not clean"));
        }
        write_health(&ctx, &health_file).await;
        summary
    }
}

#[cfg(unix)]
fn install_signals(ctx: Context, hurry: Arc<Notify>) -> std::io::Result<JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(tokio::spawn(async move {
        let mut first = true;
        loop {
            let which = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
            if first {
                log::info!("{}: {which}, stopping gracefully", ctx.name());
                ctx.shutdown();
                first = false;
            } else {
                log::warn!("{}: second {which}: not waiting for handlers", ctx.name());
                hurry.notify_waiters();
                hurry.notify_one();
            }
        }
    }))
}

#[cfg(not(unix))]
fn install_signals(ctx: Context, _hurry: Arc<Notify>) -> std::io::Result<JoinHandle<()>> {
    Ok(tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctx.shutdown();
        }
    }))
}

async fn write_health(ctx: &Context, file: &Option<(PathBuf, String)>) {
    let Some((dir, service_type)) = file.clone() else { return };
    let snapshot = ctx.health();
    let written = tokio::task::spawn_blocking(move || snapshot.write_file(&dir, &service_type)).await;
    if let Ok(Err(e)) = written {
        log::warn!("{}: cannot write the health file: {e}", ctx.name());
    }
}

/// Heartbeats, the degraded state and the health file, every interval.
async fn tick(
    ctx: Context,
    interval: Option<Duration>,
    topic: Option<String>,
    health_file: Option<(PathBuf, String)>,
    heartbeats: Arc<AtomicU64>,
) {
    let mut timer = tokio::time::interval(interval.unwrap_or(HEARTBEAT_INTERVAL));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let topic = match (topic, ctx.shared.topic_mode) {
        (Some(t), _) => Some(t),
        (None, TopicMode::ByType) => Some(HEARTBEAT_TOPIC_DEFAULT.to_owned()),
        (None, TopicMode::Fixed) => ctx.shared.default_topic.clone(),
    };
    let mut first = true;
    loop {
        timer.tick().await;
        // The count first: a failure it includes was noted before it, so the swap
        // below sees it, and the heartbeat never reports work whose failure this tick
        // has not reviewed.
        let processed = ctx.processed();
        // The first tick comes at once, before any interval has passed: it reviews
        // nothing (on a busy machine it may run after the first failures, which
        // belong to the first interval).
        if !std::mem::take(&mut first) {
            let errors = ctx.shared.errors_since_tick.swap(0, Ordering::SeqCst);
            if !ctx.is_stopping() {
                ctx.set_state(if errors > 0 { ServiceState::Degraded } else { ServiceState::Running });
            }
        }
        if let (Some(_), Some(topic), Some(_)) = (interval, &topic, &ctx.shared.publisher) {
            let frame = heartbeat_frame(topic, ctx.name(), now_seconds(), processed);
            if ctx.publish_frame(frame).await.is_ok() {
                heartbeats.fetch_add(1, Ordering::Relaxed);
            }
        }
        write_health(&ctx, &health_file).await;
    }
}
