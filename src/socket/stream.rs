//! Receiving sockets as [`futures_core::Stream`]s (feature `tokio`):
//! [`Subscriber::stream`](super::Subscriber::stream) and
//! [`PullSocket::stream`](super::PullSocket::stream).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::Result;

/// The messages of a receiving socket, as a [`Stream`] of the same typed results its
/// `_async` receive returns.
///
/// - Every item is one receive: `Ok` with a message, or the error that receive
///   returned. A timeout ([`Error::Timeout`](super::Error::Timeout), after the socket's
///   receive timeout) and a frame that does not decode
///   ([`Error::Decode`](super::Error::Decode), with its raw bytes) are items too, and
///   the stream goes on after them: it never ends by itself.
/// - Cancel safe: dropping a pending `next()` (in `tokio::select!` or a timeout), or
///   the stream itself, takes no message; the next receive returns it.
/// - It borrows the socket mutably; drop it to use the socket again.
///
/// Built once per stream (one allocation), not once per message.
#[must_use = "a stream does nothing unless polled"]
pub struct Messages<'a, T> {
    next: Pin<Box<dyn Stream<Item = Result<T>> + Send + 'a>>,
}

impl<'a, T> Messages<'a, T> {
    /// A socket's receive loop (a `futures_util::stream::unfold` over the socket).
    pub(crate) fn new(receives: impl Stream<Item = Result<T>> + Send + 'a) -> Self {
        Messages { next: Box::pin(receives) }
    }
}

impl<T> Stream for Messages<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.next.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Never ends by itself.
        (usize::MAX, None)
    }
}

impl<T> fmt::Debug for Messages<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}
