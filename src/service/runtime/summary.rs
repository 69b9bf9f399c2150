//! What a service did: [`Summary`], returned by [`Service::run`](super::Service::run).

use std::collections::BTreeMap;

/// Handled and failed counts of one message type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Handlers that returned `Ok`.
    pub handled: u64,
    /// Handlers that returned `Err` or panicked.
    pub failed: u64,
}

/// What a service did, returned by [`Service::run`](super::Service::run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The service's name.
    pub service: String,
    /// Per handler label: a type's wire name, `topic:<t>` for topic handlers.
    pub by_type: BTreeMap<String, TypeCounts>,
    /// Messages of types without a handler (handled by the unknown-type handler, or
    /// skipped without one), by type name.
    pub unknown: BTreeMap<String, u64>,
    /// Frames that did not decode, whether an
    /// [`on_undecodable`](crate::service::Handlers::on_undecodable) handler took them or
    /// not. A service receives its frames raw and decodes them itself, so its sockets'
    /// [`decode_errors`](crate::socket::SocketStats::decode_errors) stay 0: they are
    /// counted here.
    ///
    /// ```
    /// use experimance_common::service::{Handlers, Harness};
    /// use experimance_common::IdleStatus;
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let summary = rt.block_on(async {
    ///     let handlers = Handlers::new().on_fn(|_ctx, _m: IdleStatus| ());
    ///     let mut service = Harness::builder("doc").handlers(handlers).pull().start().await?;
    ///     service.push_raw(b"{not json").await?;
    ///     service.push_raw(br#"{"type": "IdleStatus", "status": "yes"}"#).await?;
    ///     service.processed(2).await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(service.stop().await)
    /// })?;
    /// assert_eq!(summary.undecodable, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
