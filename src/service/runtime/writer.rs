//! The loop of one sending socket: frames from the handlers and the context, sent in
//! order; at close, what is queued still goes out, bounded by the socket's linger.

use tokio::sync::{mpsc, watch};

use crate::error::{DecodeErrorKind, EncodeError};
use crate::service::context::{Context, Outgoing};
use crate::socket::{Publisher, PushSocket};

/// A sending socket of a service.
pub(super) enum Sender {
    Pub(Publisher),
    Push(PushSocket),
}

/// Sends what the service queued for one socket.
pub(super) struct Writer {
    pub(super) name: String,
    pub(super) socket: Sender,
    pub(super) rx: mpsc::Receiver<Outgoing>,
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
pub(super) struct WriterReport {
    pub(super) sent: u64,
    pub(super) failed: u64,
    pub(super) dropped_at_close: u64,
    pub(super) close_error: Option<String>,
}

impl Writer {
    pub(super) async fn run(
        mut self,
        mut close: watch::Receiver<bool>,
        ctx: Context,
    ) -> (String, WriterReport) {
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
