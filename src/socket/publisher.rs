//! [`Publisher`]: the PUB side of PUB/SUB (Python's `ZmqPublisher`).

use std::time::{Duration, Instant};

use super::builder::{exact_subscription, sealed::BuildFromParts, Kind, Parts, SocketBuilder, SocketKind};
use super::core::Core;
use super::error::{Error, Operation, Result};
use super::options::deadline;
use crate::codec::Payload;

/// Publishes messages to every matching subscriber (Python's `ZmqPublisher`).
///
/// Each message is one frame `"<topic> <json>"`. Publishing never blocks: ZeroMQ drops
/// a message for a subscriber whose queue is full, unless lossless publishing was asked
/// for ([`SocketBuilder::lossless`]), in which case it waits up to the send timeout and
/// then returns [`Error::Timeout`].
///
/// The socket is an XPUB socket (wire-identical to PUB for subscribers), so it sees
/// subscriptions and can [wait for subscribers](Self::wait_for_subscribers) instead of
/// sleeping to beat the "slow joiner" problem.
///
/// A `Publisher` is `Send` (move it to another thread) but not `Sync` (use it from one
/// thread at a time), like the libzmq socket inside.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use experimance_common::socket::{Publisher, Subscriber};
/// use experimance_common::Heartbeat;
///
/// let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*")?.topic("status-updates")?.build()?;
/// let mut subscriber = Subscriber::builder().connect(&publisher.endpoint())?.subscribe("status-updates").build()?;
/// publisher.wait_for_subscribers(1, Duration::from_secs(5))?;
///
/// publisher.publish(&Heartbeat::now("example-service"))?;
/// let (topic, heartbeat) = subscriber.receive::<Heartbeat>()?;
/// assert_eq!((topic.as_str(), heartbeat.service.as_str()), ("status-updates", "example-service"));
/// publisher.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Publisher {
    /// Before `core`: dropped first, so the fd is deregistered before the socket closes.
    #[cfg(feature = "tokio")]
    reactor: super::asyncio::Registration,
    pub(crate) core: Core,
    topic: String,
    /// Live subscriptions as the XPUB socket reported them, with their counts.
    subscriptions: Vec<(Vec<u8>, usize)>,
    since_drain: u32,
}

/// How many publishes go by between two reads of pending subscription messages.
const DRAIN_EVERY: u32 = 256;

impl SocketKind for Publisher {}

impl BuildFromParts for Publisher {
    const KIND: Kind = Kind::PUBLISHER;
    fn from_parts(parts: Parts) -> Result<Self> {
        let core = Core::open(Self::KIND, &parts)?;
        Ok(Publisher {
            #[cfg(feature = "tokio")]
            reactor: Default::default(),
            core,
            topic: parts.default_topic.unwrap_or_default(),
            subscriptions: Vec::new(),
            since_drain: 0,
        })
    }
}

impl Publisher {
    /// Starts building a publisher.
    pub fn builder() -> SocketBuilder<Publisher> {
        SocketBuilder::new()
    }

    /// Publishes `msg` on the default topic.
    ///
    /// # Errors
    /// [`Error::Encode`] when the message cannot be encoded (nothing is sent);
    /// [`Error::Timeout`] when lossless publishing waited the whole send timeout.
    pub fn publish<P: Payload>(&mut self, msg: &P) -> Result<()> {
        msg.encode_pub(&self.topic, self.core.buf_mut())?;
        self.send()
    }

    /// Publishes `msg` on `topic`.
    ///
    /// # Errors
    /// As [`publish`](Self::publish); also [`Error::Encode`] for a topic with a space.
    pub fn publish_to<P: Payload>(&mut self, topic: &str, msg: &P) -> Result<()> {
        msg.encode_pub(topic, self.core.buf_mut())?;
        self.send()
    }

    /// Publishes a frame exactly as given (it should be `"<topic> <json>"`).
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn publish_raw(&mut self, frame: &[u8]) -> Result<()> {
        self.core.buf_mut().clear();
        self.core.buf_mut().extend_from_slice(frame);
        self.send()
    }

    fn send(&mut self) -> Result<()> {
        self.since_drain += 1;
        if self.since_drain >= DRAIN_EVERY {
            self.read_subscriptions(Duration::ZERO)?;
        }
        self.core.send_buf(Operation::Publish, None)
    }

    /// Reads subscription messages: those queued, then for up to `wait` for one more.
    fn read_subscriptions(&mut self, wait: Duration) -> Result<bool> {
        self.since_drain = 0;
        let mut got = false;
        let mut timeout = wait;
        loop {
            match self.core.recv_frame(Operation::WaitSubscribers, Some(timeout)) {
                Ok(()) => {
                    got = true;
                    timeout = Duration::ZERO;
                    self.note_subscription();
                }
                Err(Error::Timeout { .. }) => return Ok(got),
                Err(Error::Decode(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Records the (un)subscription message in `self.core.frame`.
    fn note_subscription(&mut self) {
        match self.core.frame().split_first() {
            Some((1, topic)) => match self.subscriptions.iter_mut().find(|(t, _)| t == topic) {
                Some((_, n)) => *n += 1,
                None => self.subscriptions.push((topic.to_vec(), 1)),
            },
            Some((0, topic)) => {
                if let Some(i) = self.subscriptions.iter().position(|(t, _)| t == topic) {
                    self.subscriptions[i].1 -= 1;
                    if self.subscriptions[i].1 == 0 {
                        self.subscriptions.swap_remove(i);
                    }
                }
            }
            _ => {}
        }
    }

    /// How many live subscriptions would receive a message published on `topic`.
    /// A subscriber counts once per matching subscription it made.
    pub fn subscribers_to(&mut self, topic: &str) -> Result<usize> {
        self.read_subscriptions(Duration::ZERO)?;
        Ok(self.count_matching(topic))
    }

    fn count_matching(&self, topic: &str) -> usize {
        let frame_start = exact_subscription(topic);
        self.subscriptions
            .iter()
            .filter(|(s, _)| {
                if s.len() <= frame_start.len() {
                    frame_start.starts_with(s)
                } else {
                    s.starts_with(&frame_start)
                }
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Waits until at least `n` subscriptions match the default topic, so that what is
    /// published next reaches them (no slow-joiner loss, no sleep).
    ///
    /// # Errors
    /// [`Error::Timeout`] when fewer than `n` subscribed within `timeout`.
    pub fn wait_for_subscribers(&mut self, n: usize, timeout: Duration) -> Result<usize> {
        let topic = self.topic.clone();
        self.wait_for_subscribers_to(&topic, n, timeout)
    }

    /// Waits until at least `n` subscriptions match `topic`.
    ///
    /// # Errors
    /// [`Error::Timeout`] when fewer than `n` subscribed within `timeout`.
    pub fn wait_for_subscribers_to(&mut self, topic: &str, n: usize, timeout: Duration) -> Result<usize> {
        let deadline = deadline(Instant::now(), timeout);
        self.read_subscriptions(Duration::ZERO)?;
        loop {
            let count = self.count_matching(topic);
            if count >= n {
                return Ok(count);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout { op: Operation::WaitSubscribers, after: timeout });
            }
            self.read_subscriptions(left)?;
        }
    }

    /// The default topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

/// The tokio API (feature `tokio`): the same operations, awaiting instead of blocking.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl Publisher {
    /// Publishes `msg` on the default topic without blocking the executor (Python's
    /// `publish_async`). Cancel safe: a dropped future has published nothing.
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub async fn publish_async<P: Payload>(&mut self, msg: &P) -> Result<()> {
        msg.encode_pub(&self.topic, self.core.buf_mut())?;
        self.send_async().await
    }

    /// Publishes `msg` on `topic` without blocking the executor. Cancel safe.
    ///
    /// # Errors
    /// As [`publish_to`](Self::publish_to).
    pub async fn publish_to_async<P: Payload>(&mut self, topic: &str, msg: &P) -> Result<()> {
        msg.encode_pub(topic, self.core.buf_mut())?;
        self.send_async().await
    }

    /// Publishes a frame exactly as given (it should be `"<topic> <json>"`), without
    /// blocking the executor. Cancel safe.
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub async fn publish_raw_async(&mut self, frame: &[u8]) -> Result<()> {
        self.core.buf_mut().clear();
        self.core.buf_mut().extend_from_slice(frame);
        self.send_async().await
    }

    async fn send_async(&mut self) -> Result<()> {
        self.since_drain += 1;
        if self.since_drain >= DRAIN_EVERY {
            self.read_subscriptions(Duration::ZERO)?;
        }
        self.reactor.send_buf(&mut self.core, Operation::Publish, None).await
    }

    /// Waits, without blocking the executor, until at least `n` subscriptions match the
    /// default topic. Cancel safe.
    ///
    /// # Errors
    /// [`Error::Timeout`] when fewer than `n` subscribed within `timeout`.
    pub async fn wait_for_subscribers_async(&mut self, n: usize, timeout: Duration) -> Result<usize> {
        let topic = self.topic.clone();
        self.wait_for_subscribers_to_async(&topic, n, timeout).await
    }

    /// Waits, without blocking the executor, until at least `n` subscriptions match
    /// `topic`. Cancel safe.
    ///
    /// # Errors
    /// [`Error::Timeout`] when fewer than `n` subscribed within `timeout`.
    pub async fn wait_for_subscribers_to_async(
        &mut self,
        topic: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<usize> {
        let deadline = deadline(tokio::time::Instant::now(), timeout);
        loop {
            self.read_subscriptions(Duration::ZERO)?;
            let count = self.count_matching(topic);
            if count >= n {
                return Ok(count);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout { op: Operation::WaitSubscribers, after: timeout });
            }
            // A subscription message is a receivable frame on the XPUB socket: await one.
            // It stays queued (cancel safe) and is read by `read_subscriptions` above.
            match self.reactor.recv_frame(&mut self.core, Operation::WaitSubscribers, Some(left)).await {
                Ok(()) => self.note_subscription(),
                Err(Error::Timeout { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

super::common::common_socket_methods!(Publisher);
