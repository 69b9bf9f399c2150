//! The service runtime: a service composed of its sockets, run on tokio until a signal
//! or a shutdown handle stops it gracefully.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use super::context::{Context, Outgoing, Shared, TopicMode};
use super::dispatch::{Called, CatchUnwind, Dispatch, HandlerResult, Handlers, Table};
use super::error::ServiceError;
use super::health::{health_dir, HealthBook, HealthStatus, ServiceState};
use crate::config::{PublisherConfig, PullConfig, PushConfig, SubscriberConfig};
use crate::error::{DecodeErrorKind, EncodeError, Framing};
use crate::socket::{Error as SocketError, Publisher, PullSocket, PushSocket, Subscriber};
use crate::HEARTBEAT_INTERVAL;

/// The topic heartbeats go to in [`TopicMode::ByType`] (their type's name).
pub const HEARTBEAT_TOPIC_DEFAULT: &str = "Heartbeat";

/// How many frames wait for a sending socket before `publish`/`push` wait.
const OUTBOX: usize = 1024;
/// Background tasks and in-flight handlers get this long after a stop (Python: 5 s).
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

type Background = Box<dyn FnOnce(Context) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Builds a [`Service`] from its sockets and handlers.
///
/// Receiving sockets: [`subscriber`](Self::subscriber)s and [`pull`](Self::pull)s
/// (work), plus the PULL of each [`worker`](Self::worker) pair (responses, matched to
/// [`Context::request`]s). Sending sockets: one [`publisher`](Self::publisher), the
/// default [`push`](Self::push) (where a handler's return value goes) and the PUSH of
/// each worker pair. The `*_config` methods build the socket from its
/// `[sockets.NAME]` table.
pub struct ServiceBuilder {
    name: String,
    handlers: Handlers,
    publisher: Option<Publisher>,
    receivers: Vec<(String, Receiver, bool)>,
    pushes: Vec<(String, PushSocket)>,
    default_push: Option<usize>,
    max_concurrent: usize,
    topic_mode: TopicMode,
    heartbeat: Option<Duration>,
    heartbeat_topic: Option<String>,
    deadline: Duration,
    signals: bool,
    health_file: Option<(PathBuf, String)>,
    background: Vec<Background>,
    error: Option<ServiceError>,
}

impl std::fmt::Debug for ServiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let receivers: Vec<&str> = self.receivers.iter().map(|(name, ..)| name.as_str()).collect();
        let pushes: Vec<&str> = self.pushes.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ServiceBuilder")
            .field("name", &self.name)
            .field("handlers", &self.handlers)
            .field("receivers", &receivers)
            .field("pushes", &pushes)
            .field("publisher", &self.publisher.is_some())
            .field("max_concurrent", &self.max_concurrent)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

pub(crate) enum Receiver {
    Sub(Subscriber),
    Pull(PullSocket),
}

impl Receiver {
    async fn recv(&mut self) -> Result<&[u8], SocketError> {
        match self {
            Receiver::Sub(s) => s.receive_raw_async().await,
            Receiver::Pull(p) => p.pull_raw_async().await,
        }
    }

    fn framing(&self) -> Framing {
        match self {
            Receiver::Sub(_) => Framing::Pub,
            Receiver::Pull(_) => Framing::Push,
        }
    }

    /// Frames still queued (received by libzmq, never handled), read and counted.
    fn drain(&mut self) -> u64 {
        let mut n = 0;
        loop {
            let r = match self {
                Receiver::Sub(s) => s.try_receive::<Value>().map(|o| o.is_some()),
                Receiver::Pull(p) => p.try_pull::<Value>().map(|o| o.is_some()),
            };
            match r {
                Ok(true) | Err(SocketError::Decode(_)) => n += 1,
                _ => return n,
            }
        }
    }

    fn close(self) -> Result<(), SocketError> {
        match self {
            Receiver::Sub(s) => s.close(),
            Receiver::Pull(p) => p.close(),
        }
    }
}

impl ServiceBuilder {
    fn new(name: &str) -> ServiceBuilder {
        ServiceBuilder {
            name: name.to_owned(),
            handlers: Handlers::new(),
            publisher: None,
            receivers: Vec::new(),
            pushes: Vec::new(),
            default_push: None,
            max_concurrent: 1,
            topic_mode: TopicMode::Fixed,
            heartbeat: Some(HEARTBEAT_INTERVAL),
            heartbeat_topic: None,
            deadline: SHUTDOWN_DEADLINE,
            signals: true,
            health_file: None,
            background: Vec::new(),
            error: None,
        }
    }

    fn named(&mut self, name: &str) {
        let taken =
            self.receivers.iter().any(|(n, ..)| n == name) || self.pushes.iter().any(|(n, _)| n == name);
        if taken {
            self.error.get_or_insert(ServiceError::DuplicateSocket { name: name.to_owned() });
        }
    }

    /// The handlers every received frame is dispatched to.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = handlers;
        self
    }

    /// The publisher: [`Context::publish`] and the heartbeat go there.
    pub fn publisher(mut self, publisher: Publisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// A subscriber whose messages are dispatched to the handlers.
    pub fn subscriber(mut self, subscriber: Subscriber) -> Self {
        let name = format!("subscriber{}", self.receivers.len());
        self.named(&name);
        self.receivers.push((name, Receiver::Sub(subscriber), false));
        self
    }

    /// A PULL socket of work: its messages are dispatched to the handlers, at most
    /// [`max_concurrent`](Self::max_concurrent) at once; at capacity it stops pulling
    /// (back-pressure: PUSH round robin gives the next task to another worker).
    pub fn pull(mut self, pull: PullSocket) -> Self {
        let name = format!("pull{}", self.receivers.len());
        self.named(&name);
        self.receivers.push((name, Receiver::Pull(pull), false));
        self
    }

    /// The default PUSH socket: a handler's return value is pushed there (a worker's
    /// responses), and [`Context::push`].
    pub fn push(mut self, push: PushSocket) -> Self {
        self.named("responses");
        self.default_push = Some(self.pushes.len());
        self.pushes.push(("responses".to_owned(), push));
        self
    }

    /// A named worker, as a controller sees it: `push` sends it requests
    /// ([`Context::request`], [`Context::push_to`]), `pull` receives its responses,
    /// matched by `request_id` (the others are counted and dispatched to the handlers).
    pub fn worker(mut self, name: &str, push: PushSocket, pull: PullSocket) -> Self {
        self.named(name);
        self.pushes.push((name.to_owned(), push));
        self.receivers.push((name.to_owned(), Receiver::Pull(pull), true));
        self
    }

    /// [`publisher`](Self::publisher) from its configuration.
    ///
    /// # Errors
    /// [`ServiceError::Build`] when the socket cannot be built.
    pub fn publisher_config(self, config: &PublisherConfig) -> Result<Self, ServiceError> {
        Ok(self.publisher(config.build()?))
    }

    /// [`subscriber`](Self::subscriber) from its configuration.
    ///
    /// # Errors
    /// [`ServiceError::Build`] when the socket cannot be built.
    pub fn subscriber_config(self, config: &SubscriberConfig) -> Result<Self, ServiceError> {
        Ok(self.subscriber(config.build()?))
    }

    /// [`pull`](Self::pull) from its configuration.
    ///
    /// # Errors
    /// [`ServiceError::Build`] when the socket cannot be built.
    pub fn pull_config(self, config: &PullConfig) -> Result<Self, ServiceError> {
        Ok(self.pull(config.build()?))
    }

    /// [`push`](Self::push) from its configuration.
    ///
    /// # Errors
    /// [`ServiceError::Build`] when the socket cannot be built.
    pub fn push_config(self, config: &PushConfig) -> Result<Self, ServiceError> {
        Ok(self.push(config.build()?))
    }

    /// At most `n` handlers run at once (default 1: in order, on the receiving task).
    /// Above 1, async handlers run as tokio tasks.
    ///
    /// The default differs from the Python `WorkerService`'s 10 on purpose: 1 keeps
    /// a subscriber's messages in order, and a worker at capacity stops pulling
    /// instead of dropping work, so the next task goes to an idle worker. Raise it
    /// for handlers that wait on I/O.
    pub fn max_concurrent(mut self, n: usize) -> Self {
        if n == 0 {
            self.error.get_or_insert(ServiceError::ZeroConcurrency);
        }
        self.max_concurrent = n.max(1);
        self
    }

    /// How [`Context::publish`] picks topics (default [`TopicMode::Fixed`]).
    pub fn topic_mode(mut self, mode: TopicMode) -> Self {
        self.topic_mode = mode;
        self
    }

    /// How often the service publishes its [`Heartbeat`](crate::Heartbeat) (default
    /// [`HEARTBEAT_INTERVAL`]; `None`: never). Also how often the health file is
    /// written and the degraded state is reviewed.
    pub fn heartbeat(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat = interval;
        self
    }

    /// The heartbeat's topic (default: by the topic mode, as any message).
    pub fn heartbeat_topic(mut self, topic: &str) -> Self {
        self.heartbeat_topic = Some(topic.to_owned());
        self
    }

    /// How long in-flight handlers get after a stop (default 5 s, as Python).
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Whether [`Service::run`] stops on SIGINT and SIGTERM (default true; a second
    /// signal skips the deadline).
    pub fn handle_signals(mut self, on: bool) -> Self {
        self.signals = on;
        self
    }

    /// Writes the health file `<health_dir()>/<service_type>.json` (see
    /// [`health_dir`]) at every heartbeat interval and state change.
    pub fn health_file(self, service_type: &str) -> Self {
        self.health_file_in(health_dir(), service_type)
    }

    /// As [`health_file`](Self::health_file), in `dir`.
    pub fn health_file_in(mut self, dir: impl Into<PathBuf>, service_type: &str) -> Self {
        self.health_file = Some((dir.into(), service_type.to_owned()));
        self
    }

    /// A background task, started by [`Service::run`] and cancelled when it stops (it
    /// may also watch [`Context::stopped`]).
    pub fn background<F, Fut>(mut self, task: F) -> Self
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.background.push(Box::new(move |ctx| Box::pin(task(ctx))));
        self
    }

    /// The service.
    ///
    /// # Errors
    /// [`ServiceError::DuplicateHandler`] / [`ServiceError::DuplicateTopic`] for two
    /// handlers of one type or topic, [`ServiceError::DuplicateSocket`],
    /// [`ServiceError::ZeroConcurrency`].
    pub fn build(self) -> Result<Service, ServiceError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let table = self.handlers.into_table()?;
        let default_topic = self.publisher.as_ref().map(|p| p.topic().to_owned()).filter(|t| !t.is_empty());
        let mut publisher_tx = None;
        let mut writers = Vec::new();
        if let Some(p) = self.publisher {
            let (tx, rx) = mpsc::channel(OUTBOX);
            publisher_tx = Some(tx);
            writers.push(Writer { name: "publisher".to_owned(), socket: Sender::Pub(p), rx });
        }
        let mut push_tx = Vec::new();
        for (name, push) in self.pushes {
            let (tx, rx) = mpsc::channel(OUTBOX);
            push_tx.push((name.clone(), tx));
            writers.push(Writer { name, socket: Sender::Push(push), rx });
        }
        let shared = Shared::new(
            self.name,
            self.topic_mode,
            default_topic,
            publisher_tx,
            push_tx,
            self.default_push,
            HealthBook::new(),
        );
        Ok(Service {
            ctx: Context { shared: Arc::new(shared) },
            table,
            receivers: self.receivers,
            writers,
            max_concurrent: self.max_concurrent,
            heartbeat: self.heartbeat,
            heartbeat_topic: self.heartbeat_topic,
            deadline: self.deadline,
            signals: self.signals,
            health_file: self.health_file,
            background: self.background,
        })
    }
}

enum Sender {
    Pub(Publisher),
    Push(PushSocket),
}

struct Writer {
    name: String,
    socket: Sender,
    rx: mpsc::Receiver<Outgoing>,
}

/// A complete frame, sent as it is.
struct Frame(Vec<u8>);

impl crate::codec::sealed::Sealed for Frame {
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        buf.extend_from_slice(&self.0);
        Ok(())
    }
    fn read_json(json: &str) -> Result<Self, DecodeErrorKind> {
        Ok(Frame(json.as_bytes().to_vec()))
    }
    /// The frame has its topic already.
    fn encode_pub(&self, _topic: &str, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        buf.clear();
        self.write_json(buf)
    }
}

/// What one sending socket did.
#[derive(Debug, Default)]
struct WriterReport {
    sent: u64,
    failed: u64,
    dropped_at_close: u64,
    close_error: Option<String>,
}

impl Writer {
    async fn run(mut self, mut close: watch::Receiver<bool>, ctx: Context) -> (String, WriterReport) {
        let mut report = WriterReport::default();
        let mut closing = false;
        loop {
            let frame = tokio::select! {
                biased;
                f = self.rx.recv() => f,
                _ = close.wait_for(|c| *c), if !closing => {
                    // Take nothing new; what is queued still goes out.
                    closing = true;
                    self.rx.close();
                    continue;
                }
            };
            let Some(Outgoing { frame, sent: waiter }) = frame else { break };
            let sent = match &mut self.socket {
                Sender::Pub(p) => p.publish_async(&Frame(frame)).await,
                Sender::Push(p) => p.push_async(&Frame(frame)).await,
            };
            let sent = match waiter {
                Some(waiter) => {
                    let failed = sent.as_ref().err().map(ToString::to_string);
                    // The waiter may have timed out and gone; the outcome still counts.
                    let _ = waiter.send(sent);
                    failed.map_or(Ok(()), Err)
                }
                None => sent.map_err(|e| e.to_string()),
            };
            match sent {
                Ok(()) => report.sent += 1,
                Err(e) => {
                    report.failed += 1;
                    if closing {
                        report.dropped_at_close += 1;
                    }
                    ctx.shared.note_error();
                    log::warn!("{}: send on {} failed, frame dropped: {e}", ctx.name(), self.name);
                }
            }
        }
        let socket = self.socket;
        let closed = tokio::task::spawn_blocking(move || match socket {
            Sender::Pub(p) => p.close(),
            Sender::Push(p) => p.close(),
        })
        .await;
        report.close_error = match closed {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        (self.name, report)
    }
}

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

/// Handled and failed counts of one message type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Handlers that returned `Ok`.
    pub handled: u64,
    /// Handlers that returned `Err` or panicked.
    pub failed: u64,
}

/// What a service did, returned by [`Service::run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The service's name.
    pub service: String,
    /// Per handler label: a type's wire name, `topic:<t>` for topic handlers.
    pub by_type: BTreeMap<String, TypeCounts>,
    /// Messages of types without a handler (handled by the unknown-type handler, or
    /// skipped without one), by type name.
    pub unknown: BTreeMap<String, u64>,
    /// Frames that did not decode.
    pub undecodable: u64,
    /// Frames dealt with (handled, failed or skipped).
    pub processed: u64,
    /// Responses that came after their request timed out.
    pub late_responses: u64,
    /// Responses that answer no request of this controller.
    pub unmatched_responses: u64,
    /// Frames sent, per sending socket.
    pub sent: BTreeMap<String, u64>,
    /// Frames that could not be sent (timed out, ...), per sending socket.
    pub send_failures: BTreeMap<String, u64>,
    /// Frames that could not be sent while closing, per sending socket.
    pub dropped_at_close: BTreeMap<String, u64>,
    /// Frames still queued in a receiving socket at close (received by libzmq, never
    /// handled), per receiving socket.
    pub unread_at_close: BTreeMap<String, u64>,
    /// Sockets whose close failed (the linger expired with messages queued).
    pub close_errors: BTreeMap<String, String>,
    /// Handlers still running at the deadline, abandoned.
    pub abandoned: u64,
    /// Heartbeats published.
    pub heartbeats: u64,
    /// Why the service could not run, if it could not.
    pub startup_error: Option<String>,
}

impl Summary {
    /// Whether the shutdown was clean: every in-flight handler finished, every frame
    /// accepted for sending was sent, every socket closed within its linger.
    pub fn is_clean(&self) -> bool {
        self.abandoned == 0
            && self.close_errors.is_empty()
            && self.dropped_at_close.values().all(|&n| n == 0)
            && self.startup_error.is_none()
    }

    /// The process exit code: 0 after a clean shutdown, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        i32::from(!self.is_clean())
    }

    /// Handled plus failed of one type.
    pub fn count(&self, type_name: &str) -> TypeCounts {
        self.by_type.get(type_name).copied().unwrap_or_default()
    }
}

/// A service: its sockets, handlers and settings; [`run`](Self::run) it.
pub struct Service {
    ctx: Context,
    table: Arc<Table>,
    receivers: Vec<(String, Receiver, bool)>,
    writers: Vec<Writer>,
    max_concurrent: usize,
    heartbeat: Option<Duration>,
    heartbeat_topic: Option<String>,
    deadline: Duration,
    signals: bool,
    health_file: Option<(PathBuf, String)>,
    background: Vec<Background>,
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
            max_concurrent,
            heartbeat,
            heartbeat_topic,
            deadline,
            signals,
            health_file,
            background,
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

struct Reader {
    ctx: Context,
    table: Arc<Table>,
    /// `None`: the only receiver, handlers inline (sequential without permits).
    permits: Option<Arc<Semaphore>>,
    max_concurrent: usize,
    correlate: bool,
}

impl Reader {
    async fn run(self, mut sock: Receiver) -> Receiver {
        let framing = sock.framing();
        let mut stop = self.ctx.shared.stop_tx.subscribe();
        loop {
            if self.ctx.is_stopping() {
                break;
            }
            // Back-pressure: no free slot, no pull.
            let permit = match &self.permits {
                None => None,
                Some(permits) => match permits.clone().try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) => tokio::select! {
                        biased;
                        _ = stop.wait_for(|s| *s) => break,
                        p = permits.clone().acquire_owned() => match p { Ok(p) => Some(p), Err(_) => break },
                    },
                },
            };
            // A frame that is already queued is taken without a select (the hot path);
            // otherwise the receive races the stop.
            let mut recv = std::pin::pin!(sock.recv());
            let received = match std::future::poll_fn(|cx| Poll::Ready(recv.as_mut().poll(cx))).await {
                Poll::Ready(r) => r,
                Poll::Pending => tokio::select! {
                    biased;
                    r = &mut recv => r,
                    _ = stop.wait_for(|s| *s) => break,
                },
            };
            let frame = match received {
                Ok(frame) => frame,
                Err(e) if e.is_timeout() => continue,
                Err(SocketError::Interrupted { .. }) => continue,
                Err(e @ SocketError::Decode(_)) => {
                    log::warn!("{}: receive: {e}", self.ctx.name());
                    continue;
                }
                Err(e) => {
                    log::error!("{}: receive failed, this socket stops: {e}", self.ctx.name());
                    self.ctx.shared.note_error();
                    break;
                }
            };
            if self.correlate {
                if let Framing::Push = framing {
                    if self.ctx.shared.deliver_response(frame) {
                        self.ctx.shared.note_processed();
                        continue;
                    }
                }
            }
            let Some(Dispatch { called, label }) = self.table.dispatch(&self.ctx, frame, framing) else {
                self.ctx.shared.note_processed();
                continue;
            };
            match called {
                // The common case (a plain function, no response): counted here, without
                // the future that pushing a response needs.
                Called::Done(result @ Ok(None)) => {
                    self.table.finish(&self.ctx, &label, &result);
                    self.ctx.shared.note_processed();
                }
                Called::Done(result) => self.finish(&label, result).await,
                Called::Pending(fut) if self.max_concurrent == 1 => {
                    let result = CatchUnwind(fut).await;
                    self.finish(&label, result).await;
                }
                Called::Pending(fut) => {
                    let me = Reader {
                        ctx: self.ctx.clone(),
                        table: self.table.clone(),
                        permits: self.permits.clone(),
                        max_concurrent: self.max_concurrent,
                        correlate: false,
                    };
                    tokio::spawn(async move {
                        let _slot = permit;
                        let result = CatchUnwind(fut).await;
                        me.finish(&label, result).await;
                    });
                    continue;
                }
            }
            drop(permit);
        }
        sock
    }

    async fn finish(&self, label: &super::dispatch::Label, result: HandlerResult) {
        self.table.finish(&self.ctx, label, &result);
        if let Ok(Some(reply)) = result {
            if let Err(e) = self.ctx.push_reply(reply.frame).await {
                self.ctx.shared.note_error();
                log::warn!("{}: cannot push the {} response: {e}", self.ctx.name(), label.name());
            }
        }
        self.ctx.shared.note_processed();
    }
}
