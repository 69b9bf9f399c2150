//! The loop of one receiving socket: back-pressure, receive, dispatch to the handlers
//! (inline or spawned), responses matched to requests, and what is left at close.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::error::Framing;
use crate::service::context::Context;
use crate::service::dispatch::{Called, CatchUnwind, Dispatch, HandlerResult, Label, Table};
use crate::socket::{Error as SocketError, PullSocket, Subscriber};

/// A receiving socket of a service.
pub(crate) enum Receiver {
    Sub(Subscriber),
    Pull(PullSocket),
}

impl Receiver {
    pub(super) async fn recv(&mut self) -> Result<&[u8], SocketError> {
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
    pub(super) fn drain(&mut self) -> u64 {
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

    pub(super) fn close(self) -> Result<(), SocketError> {
        match self {
            Receiver::Sub(s) => s.close(),
            Receiver::Pull(p) => p.close(),
        }
    }
}

/// Runs one receiving socket until the service stops.
pub(super) struct Reader {
    pub(super) ctx: Context,
    pub(super) table: Arc<Table>,
    /// `None`: the only receiver, handlers inline (sequential without permits).
    pub(super) permits: Option<Arc<Semaphore>>,
    pub(super) max_concurrent: usize,
    pub(super) correlate: bool,
}

impl Reader {
    pub(super) async fn run(self, mut sock: Receiver) -> Receiver {
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

    async fn finish(&self, label: &Label, result: HandlerResult) {
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
