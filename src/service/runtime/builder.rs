//! [`ServiceBuilder`]: a service's sockets, handlers and settings, checked by `build`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::reader::Receiver;
use super::writer::{Sender, Writer};
use super::Service;
use crate::config::{PublisherConfig, PullConfig, PushConfig, SubscriberConfig};
use crate::service::context::{Context, Shared, TopicMode};
use crate::service::dispatch::Handlers;
use crate::service::error::ServiceError;
use crate::service::health::{health_dir, HealthBook};
use crate::socket::{Publisher, PullSocket, PushSocket, Subscriber};
use crate::HEARTBEAT_INTERVAL;

/// How many frames wait for a sending socket before `publish`/`push` wait.
const OUTBOX: usize = 1024;
/// Background tasks and in-flight handlers get this long after a stop (Python: 5 s).
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

pub(super) type Background = Box<dyn FnOnce(Context) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

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
    topic_mode: TopicMode,
    settings: Settings,
    error: Option<ServiceError>,
}

/// How a service runs: set on the builder, used by [`Service::run`].
pub(super) struct Settings {
    pub(super) max_concurrent: usize,
    pub(super) heartbeat: Option<Duration>,
    pub(super) heartbeat_topic: Option<String>,
    pub(super) deadline: Duration,
    pub(super) signals: bool,
    pub(super) health_file: Option<(PathBuf, String)>,
    pub(super) background: Vec<Background>,
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
            .field("max_concurrent", &self.settings.max_concurrent)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl ServiceBuilder {
    pub(super) fn new(name: &str) -> ServiceBuilder {
        ServiceBuilder {
            name: name.to_owned(),
            handlers: Handlers::new(),
            publisher: None,
            receivers: Vec::new(),
            pushes: Vec::new(),
            default_push: None,
            topic_mode: TopicMode::Fixed,
            settings: Settings {
                max_concurrent: 1,
                heartbeat: Some(HEARTBEAT_INTERVAL),
                heartbeat_topic: None,
                deadline: SHUTDOWN_DEADLINE,
                signals: true,
                health_file: None,
                background: Vec::new(),
            },
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
        self.settings.max_concurrent = n.max(1);
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
        self.settings.heartbeat = interval;
        self
    }

    /// The heartbeat's topic (default: by the topic mode, as any message).
    pub fn heartbeat_topic(mut self, topic: &str) -> Self {
        self.settings.heartbeat_topic = Some(topic.to_owned());
        self
    }

    /// How long in-flight handlers get after a stop (default 5 s, as Python).
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// Whether [`Service::run`] stops on SIGINT and SIGTERM (default true; a second
    /// signal skips the deadline).
    pub fn handle_signals(mut self, on: bool) -> Self {
        self.settings.signals = on;
        self
    }

    /// Writes the health file `<health_dir()>/<service_type>.json` (see
    /// [`health_dir`]) at every heartbeat interval and state change.
    pub fn health_file(self, service_type: &str) -> Self {
        self.health_file_in(health_dir(), service_type)
    }

    /// As [`health_file`](Self::health_file), in `dir`.
    pub fn health_file_in(mut self, dir: impl Into<PathBuf>, service_type: &str) -> Self {
        self.settings.health_file = Some((dir.into(), service_type.to_owned()));
        self
    }

    /// A background task, started by [`Service::run`] and cancelled when it stops (it
    /// may also watch [`Context::stopped`]).
    pub fn background<F, Fut>(mut self, task: F) -> Self
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.settings.background.push(Box::new(move |ctx| Box::pin(task(ctx))));
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
            settings: self.settings,
        })
    }
}
