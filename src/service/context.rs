//! The handle handlers get: publishing, pushing, requests, shutdown and health.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::error::ServiceError;
use super::health::{HealthCheck, HealthSnapshot, HealthStatus, ServiceState};
pub(crate) use super::shared::{Outgoing, Shared};
use crate::{ImageReady, Message, RenderRequest};

/// How [`Context::publish`] picks a message's topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TopicMode {
    /// The publisher's fixed default topic (what [`Publisher::publish`](crate::Publisher::publish) does).
    #[default]
    Fixed,
    /// As the later Python services: the message's `"type"`, else the publisher's
    /// default topic, else [`ServiceError::NoTopic`]. An explicit topic
    /// ([`Context::publish_to`]) always wins.
    ByType,
}

/// A request a controller sends and a worker answers: its response names the same
/// `request_id`.
pub trait Request: Message {
    /// The message type the worker answers with.
    type Response: Message;
    /// The id the response will carry in its `request_id` field.
    fn request_id(&self) -> &str;
}

/// A response matched to its request by its `request_id` field.
pub trait Response: Message {
    /// The id of the request this answers, if it names one.
    fn request_id(&self) -> Option<&str>;
}

impl Request for RenderRequest {
    type Response = ImageReady;
    fn request_id(&self) -> &str {
        &self.request_id
    }
}

impl Response for ImageReady {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

/// The handle a handler gets, and that [`Service::context`](super::Service::context)
/// gives before the service runs: publishing, pushing, requests, shutdown and health.
/// Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("service", &self.shared.name).finish_non_exhaustive()
    }
}

async fn send(tx: &mpsc::Sender<Outgoing>, frame: Vec<u8>) -> Result<(), ServiceError> {
    tx.send(Outgoing { frame, sent: None }).await.map_err(|_| ServiceError::Stopped)
}

impl Context {
    /// The service's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    fn publisher(&self) -> Result<&mpsc::Sender<Outgoing>, ServiceError> {
        self.shared.publisher.as_ref().ok_or_else(|| ServiceError::NoSocket { what: "publisher".into() })
    }

    /// The topic [`publish`](Self::publish) uses for a message of type `type_name`.
    fn topic_for<'a>(&'a self, type_name: Option<&'a str>) -> Result<&'a str, ServiceError> {
        let by_type = match self.shared.topic_mode {
            TopicMode::ByType => type_name,
            TopicMode::Fixed => None,
        };
        by_type.or(self.shared.default_topic.as_deref()).ok_or(ServiceError::NoTopic)
    }

    /// Publishes `msg` on the service's publisher, its topic chosen by the service's
    /// [`TopicMode`]. Queued for the publishing task: returns once accepted (waits
    /// while that queue is full).
    ///
    /// # Errors
    /// [`ServiceError::NoSocket`] without a publisher, [`ServiceError::Encode`],
    /// [`ServiceError::NoTopic`], [`ServiceError::Stopped`] after the service stopped.
    pub async fn publish<M: Message>(&self, msg: &M) -> Result<(), ServiceError> {
        let topic = self.topic_for(Some(M::TYPE))?;
        self.publish_to(topic, msg).await
    }

    /// Publishes `msg` on `topic`.
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub async fn publish_to<M: Message>(&self, topic: &str, msg: &M) -> Result<(), ServiceError> {
        let tx = self.publisher()?;
        let mut frame = Vec::new();
        crate::codec::encode_pub(topic, msg, &mut frame)?;
        send(tx, frame).await
    }

    /// Publishes a free-form JSON object; by type, its `"type"` field picks the topic.
    ///
    /// # Errors
    /// As [`publish`](Self::publish); [`ServiceError::Encode`] when it is not an object.
    pub async fn publish_value(&self, value: &Value) -> Result<(), ServiceError> {
        let tx = self.publisher()?;
        let topic = self.topic_for(value.get("type").and_then(Value::as_str))?;
        let mut frame = Vec::new();
        crate::codec::encode_pub(topic, value, &mut frame)?;
        send(tx, frame).await
    }

    /// Publishes an already encoded PUB frame (`"<topic> <json>"`).
    pub(crate) async fn publish_frame(&self, frame: Vec<u8>) -> Result<(), ServiceError> {
        send(self.publisher()?, frame).await
    }

    fn push_socket(&self, name: Option<&str>) -> Result<&mpsc::Sender<Outgoing>, ServiceError> {
        let found = match name {
            Some(name) => self.shared.pushes.iter().find(|(n, _)| n == name),
            None => self.shared.default_push.and_then(|i| self.shared.pushes.get(i)),
        };
        found.map(|(_, tx)| tx).ok_or_else(|| ServiceError::NoSocket {
            what: name.map_or("default push socket".to_owned(), |n| format!("push socket \"{n}\"")),
        })
    }

    /// Pushes `msg` on the service's default push socket (a worker's responses).
    ///
    /// # Errors
    /// [`ServiceError::NoSocket`], [`ServiceError::Encode`], [`ServiceError::Stopped`].
    pub async fn push<M: Message>(&self, msg: &M) -> Result<(), ServiceError> {
        let tx = self.push_socket(None)?;
        let mut frame = Vec::new();
        crate::codec::encode_push(msg, &mut frame)?;
        send(tx, frame).await
    }

    /// Pushes `msg` to the named worker without waiting for an answer (fire and forget).
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub async fn push_to<M: Message>(&self, worker: &str, msg: &M) -> Result<(), ServiceError> {
        let tx = self.push_socket(Some(worker))?;
        let mut frame = Vec::new();
        crate::codec::encode_push(msg, &mut frame)?;
        send(tx, frame).await
    }

    /// Pushes `msg` to every named worker socket (each PUSH round-robins among its
    /// peers); returns how many sockets took it.
    ///
    /// # Errors
    /// As [`push`](Self::push), for the first socket that fails.
    pub async fn push_all<M: Message>(&self, msg: &M) -> Result<usize, ServiceError> {
        let mut frame = Vec::new();
        crate::codec::encode_push(msg, &mut frame)?;
        let mut n = 0;
        for (i, (_, tx)) in self.shared.pushes.iter().enumerate() {
            if Some(i) != self.shared.default_push {
                send(tx, frame.clone()).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) async fn push_reply(&self, frame: Vec<u8>) -> Result<(), ServiceError> {
        send(self.push_socket(None)?, frame).await
    }

    /// Sends `request` to the named worker and awaits its response, matched by
    /// `request_id`, for up to `timeout`. A response that comes after the timeout is
    /// counted as late (see [`Summary`](super::Summary)) and dispatched to the handlers.
    ///
    /// # Errors
    /// [`ServiceError::RequestTimeout`]; [`ServiceError::RequestNotSent`] as soon as
    /// the push socket fails to send it (no worker took it within the socket's send
    /// timeout, for example); [`ServiceError::DuplicateRequest`] when a
    /// request with the same id is waiting; [`ServiceError::Decode`] when the response
    /// does not decode as `R::Response`; as [`push`](Self::push).
    pub async fn request<R: Request>(
        &self,
        worker: &str,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response, ServiceError> {
        let id = request.request_id().to_owned();
        let tx = self.push_socket(Some(worker))?;
        let mut frame = Vec::new();
        crate::codec::encode_push(request, &mut frame)?;
        let (reply_tx, reply_rx) = oneshot::channel();
        {
            let mut pending = self.shared.pending.lock().map_err(|_| ServiceError::Stopped)?;
            if pending.contains_key(&id) {
                return Err(ServiceError::DuplicateRequest { request_id: id });
            }
            pending.insert(id.clone(), reply_tx);
        }
        let (sent_tx, sent_rx) = oneshot::channel();
        let exchange = async {
            tx.send(Outgoing { frame, sent: Some(sent_tx) }).await.map_err(|_| ServiceError::Stopped)?;
            // A request that never left is an error now, not a timeout later.
            match sent_rx.await {
                Ok(Ok(())) => {}
                Ok(Err(source)) => {
                    return Err(ServiceError::RequestNotSent { request_id: id.clone(), source })
                }
                Err(_) => return Err(ServiceError::Stopped),
            }
            reply_rx.await.map_err(|_| ServiceError::Stopped)
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(json)) => Ok(crate::codec::decode_push::<R::Response>(&json)?),
            Ok(Err(e)) => {
                self.shared.expire(&id);
                Err(e)
            }
            Err(_) => {
                self.shared.expire(&id);
                Err(ServiceError::RequestTimeout { request_id: id, after: timeout })
            }
        }
    }

    /// Asks the service to shut down gracefully (as SIGINT does).
    pub fn shutdown(&self) {
        self.shared.request_stop();
    }

    /// Resolves once a shutdown was asked for (for background loops).
    pub async fn stopped(&self) {
        let mut rx = self.shared.stop_tx.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Resolves once at least `n` frames were dealt with (handled, failed or skipped).
    pub async fn processed_at_least(&self, n: u64) {
        let mut rx = self.shared.processed_tx.subscribe();
        // Subscribed first, then read: an increment this read misses sees the receiver
        // and sends.
        while self.shared.processed.load(Ordering::SeqCst) < n {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Whether a shutdown was asked for.
    pub fn is_stopping(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }

    /// Messages handled so far (every dispatched frame whose handler finished).
    pub fn processed(&self) -> u64 {
        self.shared.processed.load(Ordering::SeqCst)
    }

    /// Records a health check (kept among the last 50; the worst sets the overall
    /// status of the health file).
    pub fn record_check(&self, name: &str, status: HealthStatus, message: Option<&str>) {
        if let Ok(mut h) = self.shared.health.lock() {
            h.record(HealthCheck::now(name, status, message));
        }
    }

    /// The service's state and counters now.
    pub fn health(&self) -> HealthSnapshot {
        let uptime = self.shared.started.elapsed();
        match self.shared.health.lock() {
            Ok(h) => h.snapshot(&self.shared.name, uptime, self.processed()),
            Err(_) => HealthSnapshot::unknown(&self.shared.name),
        }
    }

    pub(crate) fn set_state(&self, state: ServiceState) {
        if let Ok(mut h) = self.shared.health.lock() {
            h.set_state(state);
        }
    }
}
