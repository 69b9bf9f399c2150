//! Testing a service without ports: the real sockets on `inproc://`, the other ends held
//! by the test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::context::Context;
use super::dispatch::Handlers;
use super::error::ServiceError;
use super::runtime::{Service, ServiceBuilder, Summary};
use crate::codec::Payload;
use crate::socket::{Publisher, PullSocket, PushSocket, Subscriber};
use crate::Topic;

static NEXT: AtomicU64 = AtomicU64::new(0);

fn endpoint(name: &str, what: &str) -> String {
    format!("inproc://harness-{name}-{}-{what}", NEXT.fetch_add(1, Ordering::Relaxed))
}

type Configure = Box<dyn FnOnce(ServiceBuilder) -> ServiceBuilder + Send>;

/// Describes the sockets of a service under test; [`start`](Self::start) runs it.
pub struct HarnessBuilder {
    name: String,
    handlers: Handlers,
    subscribe: Option<Vec<String>>,
    pull: bool,
    publish_topic: Option<String>,
    push: bool,
    timeout: Duration,
    configure: Vec<Configure>,
}

impl std::fmt::Debug for HarnessBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarnessBuilder")
            .field("name", &self.name)
            .field("handlers", &self.handlers)
            .field("subscribe", &self.subscribe)
            .field("pull", &self.pull)
            .field("publish_topic", &self.publish_topic)
            .field("push", &self.push)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A service running on `inproc://` with the test holding the other end of each of its
/// sockets: [`publish`](Self::publish) and [`push`](Self::push) send it messages,
/// [`processed`](Self::processed) awaits its handlers, [`published`](Self::published)
/// and [`pushed`](Self::pushed) read what it sent; every wait is bounded by the
/// harness's timeout. The sockets are the library's real ones, not mocks.
///
/// # Example
/// ```
/// use experimance_common::service::{Context, Handlers, Harness};
/// use experimance_common::{ImageReady, RenderRequest, Era, Biome};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let handlers = Handlers::new().on(|_ctx: Context, r: RenderRequest| async move {
///     ImageReady { request_id: Some(r.request_id.clone()), image_id: r.request_id, uri: "mem://1".into() }
/// });
/// let mut h = Harness::builder("image_server").handlers(handlers).pull().push().start().await?;
/// h.push(&RenderRequest {
///     request_id: "r1".into(), era: Era::Modern, biome: Biome::Forest,
///     prompt: "a forest".into(), depth_map_png: None,
/// }).await?;
/// let reply: ImageReady = h.pushed().await?;
/// assert_eq!(reply.request_id.as_deref(), Some("r1"));
/// let summary = h.stop().await;
/// assert_eq!(summary.count("RenderRequest").handled, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Harness {
    ctx: Context,
    to_service_pub: Option<(Publisher, String)>,
    to_service_push: Option<PushSocket>,
    from_service_pub: Option<Subscriber>,
    from_service_push: Option<PullSocket>,
    timeout: Duration,
    run: JoinHandle<Summary>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").field("service", &self.ctx.name()).finish_non_exhaustive()
    }
}

impl HarnessBuilder {
    /// The service's handlers.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = handlers;
        self
    }

    /// Gives the service a subscriber to these topic prefixes; the harness publishes to
    /// it ([`Harness::publish`]).
    pub fn subscriber(mut self, topics: &[&str]) -> Self {
        self.subscribe = Some(topics.iter().map(|t| (*t).to_owned()).collect());
        self
    }

    /// Gives the service a PULL socket; the harness pushes to it ([`Harness::push`]).
    pub fn pull(mut self) -> Self {
        self.pull = true;
        self
    }

    /// Gives the service a publisher with this default topic; the harness subscribes to
    /// everything it publishes ([`Harness::published`]).
    pub fn publisher(mut self, topic: &str) -> Self {
        self.publish_topic = Some(topic.to_owned());
        self
    }

    /// Gives the service its default PUSH socket; the harness pulls what it pushes
    /// ([`Harness::pushed`]).
    pub fn push(mut self) -> Self {
        self.push = true;
        self
    }

    /// The bound on every wait (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Any other setting of the service (`max_concurrent`, `topic_mode`, ...).
    pub fn configure(mut self, f: impl FnOnce(ServiceBuilder) -> ServiceBuilder + Send + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    /// Connects every pair (waiting until each is connected or subscribed) and runs
    /// the service (without signal handling, without heartbeats unless configured).
    ///
    /// # Errors
    /// A socket error, or the service's build error.
    pub async fn start(self) -> Result<Harness, ServiceError> {
        let t = self.timeout;
        let mut b =
            Service::builder(&self.name).handlers(self.handlers).handle_signals(false).heartbeat(None);
        let mut to_service_pub = None;
        if let Some(topics) = self.subscribe {
            let ep = endpoint(&self.name, "events");
            let first = topics.first().cloned().unwrap_or_default();
            let mut publisher = Publisher::builder().bind(&ep)?.topic(&first)?.build()?;
            let mut sb = Subscriber::builder().connect(&ep)?.subscribe(&first);
            for topic in topics.iter().skip(1) {
                sb = sb.subscribe(topic);
            }
            b = b.subscriber(sb.build()?);
            publisher.wait_for_subscribers_async(1, t).await?;
            to_service_pub = Some((publisher, first));
        }
        let mut to_service_push = None;
        if self.pull {
            let ep = endpoint(&self.name, "work");
            let mut push = PushSocket::builder().bind(&ep)?.build()?;
            b = b.pull(PullSocket::builder().connect(&ep)?.build()?);
            push.wait_connected_async(t).await?;
            to_service_push = Some(push);
        }
        let mut from_service_pub = None;
        if let Some(topic) = self.publish_topic {
            let ep = endpoint(&self.name, "published");
            let mut publisher = Publisher::builder().bind(&ep)?.topic(&topic)?.build()?;
            let sub = Subscriber::builder().connect(&ep)?.subscribe_all().build()?;
            publisher.wait_for_subscribers_async(1, t).await?;
            b = b.publisher(publisher);
            from_service_pub = Some(sub);
        }
        let mut from_service_push = None;
        if self.push {
            let ep = endpoint(&self.name, "pushed");
            let pull = PullSocket::builder().bind(&ep)?.build()?;
            let mut push = PushSocket::builder().connect(&ep)?.build()?;
            push.wait_connected_async(t).await?;
            b = b.push(push);
            from_service_push = Some(pull);
        }
        for f in self.configure {
            b = f(b);
        }
        let service = b.build()?;
        let ctx = service.context();
        let run = tokio::spawn(service.run());
        Ok(Harness {
            ctx,
            to_service_pub,
            to_service_push,
            from_service_pub,
            from_service_push,
            timeout: t,
            run,
        })
    }
}

impl Harness {
    /// Describes a service named `name` under test.
    pub fn builder(name: &str) -> HarnessBuilder {
        HarnessBuilder {
            name: name.to_owned(),
            handlers: Handlers::new(),
            subscribe: None,
            pull: false,
            publish_topic: None,
            push: false,
            timeout: Duration::from_secs(5),
            configure: Vec::new(),
        }
    }

    /// The service's context (its counters, health, requests).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    fn missing(what: &str) -> ServiceError {
        ServiceError::NoSocket { what: format!("harness {what} (not configured)") }
    }

    /// Publishes `msg` to the service's subscriber, on the first subscribed topic.
    ///
    /// # Errors
    /// [`ServiceError::NoSocket`] without [`HarnessBuilder::subscriber`]; a socket error.
    pub async fn publish<P: Payload>(&mut self, msg: &P) -> Result<(), ServiceError> {
        let (p, topic) = self.to_service_pub.as_mut().ok_or_else(|| Self::missing("subscriber"))?;
        Ok(p.publish_to_async(topic, msg).await?)
    }

    /// Publishes `msg` on `topic` to the service's subscriber.
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub async fn publish_to<P: Payload>(&mut self, topic: &str, msg: &P) -> Result<(), ServiceError> {
        let (p, _) = self.to_service_pub.as_mut().ok_or_else(|| Self::missing("subscriber"))?;
        Ok(p.publish_to_async(topic, msg).await?)
    }

    /// Publishes a raw frame (for undecodable input).
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn publish_raw(&mut self, frame: &[u8]) -> Result<(), ServiceError> {
        let (p, _) = self.to_service_pub.as_mut().ok_or_else(|| Self::missing("subscriber"))?;
        Ok(p.publish_raw(frame)?)
    }

    /// Pushes `msg` to the service's PULL socket.
    ///
    /// # Errors
    /// [`ServiceError::NoSocket`] without [`HarnessBuilder::pull`]; a socket error.
    pub async fn push<P: Payload>(&mut self, msg: &P) -> Result<(), ServiceError> {
        let p = self.to_service_push.as_mut().ok_or_else(|| Self::missing("pull"))?;
        Ok(p.push_timeout_async(msg, self.timeout).await?)
    }

    /// Pushes a raw frame to the service's PULL socket.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub async fn push_raw(&mut self, frame: &[u8]) -> Result<(), ServiceError> {
        let p = self.to_service_push.as_mut().ok_or_else(|| Self::missing("pull"))?;
        Ok(p.push_raw_async(frame).await?)
    }

    /// Waits until the service has dealt with at least `n` frames in all (handled,
    /// failed or skipped), so their effects are done.
    ///
    /// # Errors
    /// [`ServiceError::HarnessTimeout`].
    pub async fn processed(&self, n: u64) -> Result<(), ServiceError> {
        tokio::time::timeout(self.timeout, self.ctx.processed_at_least(n)).await.map_err(|_| {
            ServiceError::HarnessTimeout {
                what: format!("{n} processed frames ({} so far)", self.ctx.processed()),
                after: self.timeout,
            }
        })
    }

    /// The next message the service published, with its topic.
    ///
    /// # Errors
    /// [`ServiceError::NoSocket`] without [`HarnessBuilder::publisher`]; a socket error
    /// (a timeout, a frame that is not a `P`).
    pub async fn published<P: Payload>(&mut self) -> Result<(Topic, P), ServiceError> {
        let s = self.from_service_pub.as_mut().ok_or_else(|| Self::missing("publisher"))?;
        Ok(s.receive_within_async(self.timeout).await?)
    }

    /// The next raw frame the service published.
    ///
    /// # Errors
    /// As [`published`](Self::published).
    pub async fn published_raw(&mut self) -> Result<Vec<u8>, ServiceError> {
        let s = self.from_service_pub.as_mut().ok_or_else(|| Self::missing("publisher"))?;
        Ok(tokio::time::timeout(self.timeout, s.receive_raw_async())
            .await
            .map_err(|_| ServiceError::HarnessTimeout {
                what: "a published frame".into(),
                after: self.timeout,
            })??
            .to_vec())
    }

    /// The next message the service pushed.
    ///
    /// # Errors
    /// [`ServiceError::NoSocket`] without [`HarnessBuilder::push`]; a socket error.
    pub async fn pushed<P: Payload>(&mut self) -> Result<P, ServiceError> {
        let p = self.from_service_push.as_mut().ok_or_else(|| Self::missing("push"))?;
        Ok(p.pull_within_async(self.timeout).await?)
    }

    /// Whether something the service published is waiting to be read (never waits).
    ///
    /// # Errors
    /// As [`published`](Self::published).
    pub fn has_published(&mut self) -> Result<bool, ServiceError> {
        let s = self.from_service_pub.as_mut().ok_or_else(|| Self::missing("publisher"))?;
        Ok(s.receive_raw_within(Duration::ZERO).map(|_| true).or_else(|e| {
            if e.is_timeout() {
                Ok(false)
            } else {
                Err(e)
            }
        })?)
    }

    /// Stops the service gracefully and returns its summary.
    pub async fn stop(self) -> Summary {
        self.ctx.shutdown();
        match self.run.await {
            Ok(summary) => summary,
            Err(e) => Summary { startup_error: Some(e.to_string()), ..Summary::default() },
        }
    }
}
