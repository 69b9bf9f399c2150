//! The `tracing-core` plumbing of [`events`](super): each event's static callsite and
//! metadata, the socket's span, and the emitting of an event under it.

use tracing_core::callsite::DefaultCallsite;
use tracing_core::field::{Field, FieldSet, Value, ValueSet};
use tracing_core::span::{Attributes, Id};
use tracing_core::{dispatcher, Dispatch, Event, Level, Metadata};

use super::Source;

const SOCKET: &str = "experimance_common::socket";
const AUTH: &str = "experimance_common::auth";

/// One event's static callsite and metadata.
pub(super) struct Site {
    callsite: &'static DefaultCallsite,
    meta: &'static Metadata<'static>,
}

/// Declares a callsite (`$cs`), its metadata (`$meta`) and the [`Site`] `$site`.
macro_rules! site {
    ($site:ident, $cs:ident, $meta:ident, $name:literal, $target:expr, $level:expr, $kind:expr, [$($f:literal),*]) => {
        static $cs: DefaultCallsite = DefaultCallsite::new(&$meta);
        static $meta: Metadata<'static> = Metadata::new(
            $name,
            $target,
            $level,
            Some(file!()),
            Some(line!()),
            Some(module_path!()),
            FieldSet::new(&[$($f),*], tracing_core::identify_callsite!(&$cs)),
            $kind,
        );
        pub(super) static $site: Site = Site { callsite: &$cs, meta: &$meta };
    };
}

use tracing_core::metadata::Kind as K;
site!(BIND, BIND_CS, BIND_META, "bind", SOCKET, Level::DEBUG, K::EVENT, ["message", "socket", "endpoint"]);
site!(
    CONNECT,
    CONNECT_CS,
    CONNECT_META,
    "connect",
    SOCKET,
    Level::DEBUG,
    K::EVENT,
    ["message", "socket", "endpoint"]
);
site!(
    CONNECTED,
    CONNECTED_CS,
    CONNECTED_META,
    "connected",
    SOCKET,
    Level::INFO,
    K::EVENT,
    ["message", "socket", "endpoint", "peer"]
);
site!(
    RECONNECTED,
    RECONNECTED_CS,
    RECONNECTED_META,
    "reconnected",
    SOCKET,
    Level::INFO,
    K::EVENT,
    ["message", "socket", "endpoint", "peer"]
);
site!(
    DISCONNECTED,
    DISCONNECTED_CS,
    DISCONNECTED_META,
    "disconnected",
    SOCKET,
    Level::INFO,
    K::EVENT,
    ["message", "socket", "endpoint", "peer"]
);
site!(
    HANDSHAKE_FAILED,
    HANDSHAKE_CS,
    HANDSHAKE_META,
    "handshake failed",
    SOCKET,
    Level::WARN,
    K::EVENT,
    ["message", "socket", "endpoint", "peer", "reason"]
);
site!(
    AUTH_REFUSED,
    AUTH_CS,
    AUTH_META,
    "authentication refused",
    AUTH,
    Level::WARN,
    K::EVENT,
    ["message", "socket", "endpoint", "zap_status", "peer"]
);
site!(
    DECODE_ERROR,
    DECODE_CS,
    DECODE_META,
    "decode error",
    SOCKET,
    Level::WARN,
    K::EVENT,
    ["message", "socket", "endpoint", "expected", "len", "error"]
);
site!(
    PUBLISH_TIMEOUT,
    PUBLISH_CS,
    PUBLISH_META,
    "publish timed out",
    SOCKET,
    Level::WARN,
    K::EVENT,
    ["message", "socket", "endpoint", "timeout_ms"]
);
site!(
    CLOSE_DROPPED,
    CLOSE_CS,
    CLOSE_META,
    "close dropped messages",
    SOCKET,
    Level::WARN,
    K::EVENT,
    ["message", "socket", "endpoint", "linger_ms"]
);
site!(SPAN, SPAN_CS, SPAN_META, "socket", SOCKET, Level::INFO, K::SPAN, ["kind", "endpoints"]);

impl Site {
    /// Whether some subscriber may want this event (the cheap check first).
    pub(super) fn wanted(&self, source: &Source) -> bool {
        if self.callsite.interest().is_never() {
            return false;
        }
        match &source.span {
            Some(span) => span.dispatch.enabled(self.meta),
            None => dispatcher::get_default(|d| d.enabled(self.meta)),
        }
    }

    /// Emits the event, `values` in the order of its field names, to the subscriber
    /// of the socket's span (or the current one) if it wants it. The values are
    /// references and `format_args!`: nothing is formatted unless it is recorded.
    pub(super) fn emit<const N: usize>(&self, source: &Source, values: [Option<&dyn Value>; N]) {
        if self.callsite.interest().is_never() {
            return;
        }
        match &source.span {
            Some(span) => {
                if span.dispatch.enabled(self.meta) {
                    with_values(self.meta, values, |v| {
                        span.dispatch.event(&Event::new_child_of(span.id.clone(), self.meta, v))
                    });
                }
            }
            None => dispatcher::get_default(|d| {
                if d.enabled(self.meta) {
                    with_values(self.meta, values, |v| d.event(&Event::new(self.meta, v)));
                }
            }),
        }
    }
}

/// Calls `f` with `values` as the value set of `meta`'s fields (in their order).
fn with_values<const N: usize>(
    meta: &'static Metadata<'static>,
    values: [Option<&dyn Value>; N],
    f: impl FnOnce(&ValueSet<'_>),
) {
    let fields = meta.fields();
    let names: Vec<Field> = fields.iter().collect();
    // Every site above names as many fields as its callers give values.
    if names.len() != N {
        return;
    }
    let pairs: [(&Field, Option<&dyn Value>); N] = std::array::from_fn(|i| (&names[i], values[i]));
    f(&fields.value_set(&pairs));
}

/// The span of one socket, closed when the socket is gone.
pub(super) struct Span {
    dispatch: Dispatch,
    id: Id,
}

impl Span {
    pub(super) fn new(kind: &'static str, endpoints: &str) -> Option<Span> {
        if SPAN.callsite.interest().is_never() {
            return None;
        }
        dispatcher::get_default(|d| {
            if !d.enabled(SPAN.meta) {
                return None;
            }
            let mut id = None;
            // A child of the span current where the socket is built (a service's).
            with_values(SPAN.meta, [Some(&kind as &dyn Value), Some(&endpoints as &dyn Value)], |v| {
                id = Some(d.new_span(&Attributes::new(SPAN.meta, v)));
            });
            id.map(|id| Span { dispatch: d.clone(), id })
        })
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.dispatch.try_close(self.id.clone());
    }
}

pub(super) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
