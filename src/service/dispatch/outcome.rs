//! What calling a handler gives: its [`Outcome`] (a [`Reply`] to push, or nothing), a
//! panic caught as an error, and the [`Called`] result or future the runtime awaits.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use serde_json::Value;

use crate::service::error::{BoxError, ServiceError};
use crate::{AnyMessage, Message};

/// A response a handler gives back: the PUSH frame of a message, pushed by a worker on
/// its response socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub(crate) frame: Vec<u8>,
}

impl Reply {
    /// The reply of `msg` (its PUSH frame, `"type"` included).
    ///
    /// # Errors
    /// [`ServiceError::Encode`] when the message cannot be encoded.
    pub fn new<M: Message>(msg: &M) -> Result<Reply, ServiceError> {
        let mut frame = Vec::new();
        crate::codec::encode_push(msg, &mut frame)?;
        Ok(Reply { frame })
    }

    /// The JSON document that will be pushed.
    pub fn json(&self) -> &[u8] {
        &self.frame
    }
}

/// What a handler may return: nothing (`()`), a message (pushed back as the response
/// by a worker), an `Option` of one (`None`: no response, as Python's `None`), or a
/// `Result` of any of these (an `Err` is logged and counted as a failure).
pub trait Outcome: Send + 'static {
    /// The response to push, if any.
    ///
    /// # Errors
    /// The handler's error.
    fn into_reply(self) -> Result<Option<Reply>, BoxError>;
}

impl Outcome for () {
    fn into_reply(self) -> Result<Option<Reply>, BoxError> {
        Ok(None)
    }
}

impl Outcome for Reply {
    fn into_reply(self) -> Result<Option<Reply>, BoxError> {
        Ok(Some(self))
    }
}

impl<M: Message> Outcome for M {
    fn into_reply(self) -> Result<Option<Reply>, BoxError> {
        Reply::new(&self).map(Some).map_err(Into::into)
    }
}

impl Outcome for AnyMessage {
    fn into_reply(self) -> Result<Option<Reply>, BoxError> {
        let mut frame = Vec::new();
        crate::codec::encode_push(&self, &mut frame)?;
        Ok(Some(Reply { frame }))
    }
}

impl Outcome for Value {
    fn into_reply(self) -> Result<Option<Reply>, BoxError> {
        let mut frame = Vec::new();
        crate::codec::encode_push(&self, &mut frame)?;
        Ok(Some(Reply { frame }))
    }
}

impl<T: Outcome> Outcome for Option<T> {
    fn into_reply(self) -> Result<Option<Reply>, BoxError> {
        self.map_or(Ok(None), Outcome::into_reply)
    }
}

impl<T: Outcome, E: Into<BoxError> + Send + 'static> Outcome for Result<T, E> {
    fn into_reply(self) -> Result<Option<Reply>, BoxError> {
        self.map_err(Into::into).and_then(Outcome::into_reply)
    }
}

/// A handler that panicked; its payload as text.
#[derive(Debug, thiserror::Error)]
#[error("the handler panicked: {0}")]
pub(crate) struct Panicked(String);

fn panicked(payload: Box<dyn std::any::Any + Send>) -> BoxError {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    Box::new(Panicked(text))
}

pub(crate) type HandlerResult = Result<Option<Reply>, BoxError>;
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;

/// A boxed handler future whose panic becomes an error.
pub(crate) struct CatchUnwind(pub(crate) HandlerFuture);

impl Future for CatchUnwind {
    type Output = HandlerResult;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<HandlerResult> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => Poll::Ready(Err(panicked(payload))),
        }
    }
}

/// What calling a handler gave: a result now (plain functions), or a future to await.
pub(crate) enum Called {
    Done(HandlerResult),
    Pending(HandlerFuture),
}

pub(super) fn call_sync<R: Outcome>(f: impl FnOnce() -> R) -> Called {
    Called::Done(match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.into_reply(),
        Err(payload) => Err(panicked(payload)),
    })
}

pub(super) fn call_async<Fut>(fut: Fut) -> Called
where
    Fut: Future + Send + 'static,
    Fut::Output: Outcome,
{
    Called::Pending(Box::pin(async move { fut.await.into_reply() }))
}
