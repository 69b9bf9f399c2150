//! Every log event a socket emits (feature `tracing`, on by default), in one place.
//!
//! The events go through `tracing-core` (the core that `tracing` re-exports and every
//! `tracing` subscriber implements), each with a static callsite as `tracing::info!`
//! would expand to. Not `tracing` itself: its blanket traits show up in rustc's method
//! suggestions for every type, which spoils the builder's compile errors (tests/ui).
//!
//! | event (name) | level | target | fields besides `socket` and `endpoint` |
//! |---|---|---|---|
//! | `bind` | DEBUG | `experimance_common::socket` | |
//! | `connect` | DEBUG | `experimance_common::socket` | |
//! | `connected` | INFO | `experimance_common::socket` | `peer` (a connecting socket) |
//! | `reconnected` | INFO | `experimance_common::socket` | `peer` |
//! | `disconnected` | INFO | `experimance_common::socket` | `peer` (a connecting socket) |
//! | `handshake failed` | WARN | `experimance_common::socket` | `peer`, `reason` |
//! | `authentication refused` | WARN | `experimance_common::auth` | `peer`, `zap_status` |
//! | `decode error` | WARN | `experimance_common::socket` | `expected`, `len`, `error` |
//! | `publish timed out` | WARN | `experimance_common::socket` | `timeout_ms` |
//! | `close dropped messages` | WARN | `experimance_common::socket` | `linger_ms` |
//!
//! `socket` is the kind (`"publisher"`, `"subscriber"`, `"push"`, `"pull"`); `endpoint`
//! the endpoint the event is about (every endpoint, joined with `", "`, for the events
//! of the whole socket). Each socket also has a span, `socket` with the fields `kind`
//! and `endpoints`, that its events are children of; it is made when the socket is
//! built under a subscriber that wants it (events of a socket built before any
//! subscriber was installed carry the fields alone).
//!
//! libzmq reports connections on the socket's monitor, which the socket reads when it
//! next waits, times out, counts its peers or gives its [`stats`](super::SocketStats):
//! connection events are emitted then, not at the moment libzmq saw them. No event is
//! emitted for a healthy message. With no subscriber, an event costs one load of its
//! callsite's cached interest; without the feature, nothing.

#[cfg(feature = "tracing")]
use std::borrow::Cow;

/// What the events of one socket name it by, and its span.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) struct Source {
    pub(crate) kind: &'static str,
    /// Every endpoint connects: a monitor event's endpoint is then the peer's address.
    pub(crate) connects: bool,
    /// Every endpoint, joined with ", ".
    pub(crate) endpoints: String,
    /// The endpoints that completed a handshake so far (a connecting socket's next
    /// handshake on one of them is a reconnection).
    seen: Vec<String>,
    #[cfg(feature = "tracing")]
    span: Option<imp::Span>,
}

impl Source {
    pub(crate) fn new(kind: &'static str, connects: bool, endpoints: &[String]) -> Source {
        let endpoints = endpoints.join(", ");
        Source {
            kind,
            connects,
            #[cfg(feature = "tracing")]
            span: imp::Span::new(kind, &endpoints),
            endpoints,
            seen: Vec::new(),
        }
    }
}

/// Why a handshake failed, as the monitor said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandshakeFailure {
    /// The peer's authentication (ZAP) refused, with its status code.
    Auth(u32),
    /// The peer spoke ZMTP wrongly (or another security mechanism).
    Protocol,
    /// libzmq gave no detail (a connection that ended during the handshake).
    NoDetail,
}

/// A monitor event's endpoint as text (libzmq writes ASCII addresses).
#[cfg(feature = "tracing")]
fn text(endpoint: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(endpoint)
}

#[cfg(feature = "tracing")]
impl Source {
    /// The peer's address, when the monitor's endpoint is one: for a connecting socket.
    fn peer<'a>(&self, endpoint: &'a str) -> Option<&'a str> {
        self.connects.then_some(endpoint)
    }

    /// Bound to `endpoint` (`bound`), or connecting to it.
    pub(crate) fn attached(&self, endpoint: &str, bound: bool) {
        let (site, message) = if bound { (&imp::BIND, "bound") } else { (&imp::CONNECT, "connecting") };
        site.emit(self, [Some(&format_args!("{message}")), Some(&self.kind), Some(&endpoint)]);
    }

    /// A completed handshake on `endpoint`: connected, or reconnected for a connecting
    /// socket that was connected to that endpoint before.
    pub(crate) fn connected(&mut self, endpoint: &[u8]) {
        if !imp::CONNECTED.wanted(self) && !imp::RECONNECTED.wanted(self) {
            return;
        }
        let endpoint = text(endpoint);
        let again = self.connects && self.seen.iter().any(|e| *e == endpoint);
        if self.connects && !again {
            self.seen.push(endpoint.clone().into_owned());
        }
        let (site, message) =
            if again { (&imp::RECONNECTED, "reconnected") } else { (&imp::CONNECTED, "connected") };
        let peer = self.peer(&endpoint);
        site.emit(
            self,
            [Some(&format_args!("{message}")), Some(&self.kind), Some(&&*endpoint), value(&peer)],
        );
    }

    /// A handshaken connection on `endpoint` went away.
    pub(crate) fn disconnected(&self, endpoint: &[u8]) {
        if !imp::DISCONNECTED.wanted(self) {
            return;
        }
        let endpoint = text(endpoint);
        let peer = self.peer(&endpoint);
        imp::DISCONNECTED.emit(
            self,
            [Some(&format_args!("disconnected")), Some(&self.kind), Some(&&*endpoint), value(&peer)],
        );
    }

    /// A handshake on `endpoint` failed; a refusal by authentication is its own event
    /// (target `experimance_common::auth`), for security logs to select.
    pub(crate) fn handshake_failed(&self, endpoint: &[u8], why: HandshakeFailure) {
        let site = match why {
            HandshakeFailure::Auth(_) => &imp::AUTH_REFUSED,
            _ => &imp::HANDSHAKE_FAILED,
        };
        if !site.wanted(self) {
            return;
        }
        let endpoint = text(endpoint);
        let peer = self.peer(&endpoint);
        let reason = match why {
            HandshakeFailure::Auth(status) => {
                let message = if self.connects {
                    "refused by the server's authentication"
                } else {
                    "refused a connecting peer: authentication failed"
                };
                return site.emit(
                    self,
                    [
                        Some(&format_args!("{message}")),
                        Some(&self.kind),
                        Some(&&*endpoint),
                        Some(&status),
                        value(&peer),
                    ],
                );
            }
            HandshakeFailure::Protocol => "protocol",
            HandshakeFailure::NoDetail => "no detail",
        };
        site.emit(
            self,
            [
                Some(&format_args!("handshake failed")),
                Some(&self.kind),
                Some(&&*endpoint),
                value(&peer),
                Some(&reason),
            ],
        );
    }

    /// A frame that did not decode as `expected` (a Rust type name).
    pub(crate) fn decode_error(&self, expected: &str, error: &crate::DecodeError) {
        imp::DECODE_ERROR.emit(
            self,
            [
                Some(&format_args!("a received frame did not decode")),
                Some(&self.kind),
                Some(&self.endpoints.as_str()),
                Some(&expected),
                Some(&error.raw().len()),
                // Bounded whatever the frame's size: its length, an escaped prefix, why.
                Some(&format_args!("{error}")),
            ],
        );
    }

    /// A lossless publish waited `after` for a full subscriber queue.
    pub(crate) fn publish_timed_out(&self, after: std::time::Duration) {
        imp::PUBLISH_TIMEOUT.emit(
            self,
            [
                Some(&format_args!("a lossless publish timed out: a subscriber's queue stayed full")),
                Some(&self.kind),
                Some(&self.endpoints.as_str()),
                Some(&imp::millis(after)),
            ],
        );
    }

    /// A close whose linger passed with messages still queued.
    pub(crate) fn close_dropped(&self, linger: std::time::Duration) {
        imp::CLOSE_DROPPED.emit(
            self,
            [
                Some(&format_args!("close gave up after the linger; messages still queued were dropped")),
                Some(&self.kind),
                Some(&self.endpoints.as_str()),
                Some(&imp::millis(linger)),
            ],
        );
    }
}

/// An optional field's value (absent from the event when `None`).
#[cfg(feature = "tracing")]
fn value<'a>(v: &'a Option<&str>) -> Option<&'a dyn tracing_core::field::Value> {
    v.as_ref().map(|v| v as &dyn tracing_core::field::Value)
}

/// Without the feature every event is nothing.
#[cfg(not(feature = "tracing"))]
impl Source {
    pub(crate) fn attached(&self, _endpoint: &str, _bound: bool) {}
    pub(crate) fn connected(&mut self, _endpoint: &[u8]) {}
    pub(crate) fn disconnected(&self, _endpoint: &[u8]) {}
    pub(crate) fn handshake_failed(&self, _endpoint: &[u8], _why: HandshakeFailure) {}
    pub(crate) fn decode_error(&self, _expected: &str, _error: &crate::DecodeError) {}
    pub(crate) fn publish_timed_out(&self, _after: std::time::Duration) {}
    pub(crate) fn close_dropped(&self, _linger: std::time::Duration) {}
}

#[cfg(feature = "tracing")]
mod imp;
