//! Typed dispatch: a [`Handlers`] set looks a frame's handler up by its `"type"` once,
//! decodes the frame straight into the handler's type and calls it.
//!
//! This file holds the registration API and the frozen table's dispatch (its fast path
//! on the frame's bytes beside the general one, ~420 lines); what a handler's call gives
//! is in `outcome.rs`, where it is counted in `counts.rs`.

mod counts;
mod outcome;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::context::Context;
use super::error::ServiceError;
use crate::codec::de::peek_type;
use crate::codec::tag::{decode_fast_after, decode_general, decode_tagged, decode_tagged_after, leading_tag};
use crate::error::{DecodeError, DecodeErrorKind, Framing};
use crate::{AnyMessage, Message, Topic};

pub(crate) use counts::{Counter, Label};
use outcome::{call_async, call_sync};
pub(crate) use outcome::{Called, CatchUnwind, HandlerResult};
pub use outcome::{Outcome, Reply};

/// A typed handler's entry: decodes checked text and calls the handler.
type TypedFn = dyn Fn(&Context, Text<'_>) -> Result<Called, DecodeErrorKind> + Send + Sync;
/// A typed handler's fast entry: the fast path on a frame's unchecked JSON bytes that open
/// with a tag the type accepts (the body at the offset), calling the handler; `None`
/// (the handler not called): it does not take the document.
type FastFn = dyn Fn(&Context, &[u8], usize) -> Option<Called> + Send + Sync;

/// A checked document for a typed handler.
#[derive(Clone, Copy)]
enum Text<'a> {
    /// It opens with the tag (read and accepted), the body at the offset, or `None`.
    Tagged(&'a str, Option<usize>),
    /// The fast path did not take it already: the general path.
    General(&'a str),
}

/// Decodes a document for a typed handler: see [`Text`].
fn decode_text<M: Message>(text: Text<'_>) -> Result<M, DecodeErrorKind> {
    match text {
        Text::Tagged(json, Some(after)) => decode_tagged_after::<M>(json, after),
        Text::Tagged(json, None) => decode_tagged::<M>(json),
        Text::General(json) => decode_general::<M>(json),
    }
}
type TopicFn = dyn Fn(&Context, Topic, AnyMessage) -> Called + Send + Sync;
type UnknownFn = dyn Fn(&Context, Topic, Value) -> Called + Send + Sync;
type UndecodableFn = dyn Fn(&Context, DecodeError) -> Called + Send + Sync;

struct Typed {
    type_name: &'static str,
    call: Arc<TypedFn>,
    fast: Arc<FastFn>,
    counter: Arc<Counter>,
}

/// A set of handlers: by message type ([`on`](Self::on), [`on_fn`](Self::on_fn)), by
/// topic ([`on_topic`](Self::on_topic)), for unknown types
/// ([`on_unknown`](Self::on_unknown)) and for frames that do not decode
/// ([`on_undecodable`](Self::on_undecodable)).
///
/// A frame goes to the handler of its exact topic if there is one, else to the handler
/// of its `"type"` (its wire name or an alias), else to the catch-all topic handler
/// (registered under `""` or `"*"`), else to the unknown-type handler. A handler's
/// error or panic is logged with the message type and counted; the loop goes on.
///
/// Registering a second handler for a type (or an alias of it) or a topic is recorded
/// and reported as [`ServiceError::DuplicateHandler`] by
/// [`ServiceBuilder::build`](super::ServiceBuilder::build): nothing is overridden.
///
/// # Example
/// ```
/// use experimance_common::service::{Context, Handlers};
/// use experimance_common::{EraChanged, IdleStatus, RenderRequest, ImageReady};
///
/// let handlers = Handlers::new()
///     // async: awaits, publishes through the context
///     .on(|ctx: Context, era: EraChanged| async move { ctx.publish(&era).await })
///     // a plain function; its return value is a worker's response
///     .on_fn(|_ctx, r: RenderRequest| ImageReady {
///         request_id: Some(r.request_id.clone()),
///         image_id: r.request_id,
///         uri: "file:///tmp/x.png".into(),
///     })
///     .on_fn(|_ctx, _idle: IdleStatus| ()) // also receives `"type": "Idle"`
///     .on_unknown(|_ctx, topic, value| println!("{topic}: {value}"));
/// assert_eq!(handlers.type_names(), ["EraChanged", "RenderRequest", "IdleStatus"]);
/// ```
#[derive(Default)]
pub struct Handlers {
    typed: Vec<Typed>,
    /// `(wire name or alias, index into typed)`, searched linearly (a service has few).
    names: Vec<(&'static str, usize)>,
    topics: HashMap<String, (Arc<TopicFn>, Arc<Counter>)>,
    catch_all: Option<(Arc<TopicFn>, Arc<Counter>)>,
    unknown: Option<Arc<UnknownFn>>,
    undecodable: Option<Arc<UndecodableFn>>,
    pub(crate) duplicate: Option<ServiceError>,
}

/// The handlers by what they take (the closures themselves have no `Debug`).
impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut topics: Vec<&str> = self.topics.keys().map(String::as_str).collect();
        topics.sort_unstable();
        f.debug_struct("Handlers")
            .field("types", &self.type_names())
            .field("topics", &topics)
            .field("catch_all", &self.catch_all.is_some())
            .field("unknown", &self.unknown.is_some())
            .field("undecodable", &self.undecodable.is_some())
            .finish_non_exhaustive()
    }
}

impl Handlers {
    /// An empty set.
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// The wire names that have a typed handler, in registration order.
    pub fn type_names(&self) -> Vec<&'static str> {
        self.typed.iter().map(|t| t.type_name).collect()
    }

    fn add_typed<M: Message>(mut self, call: Arc<TypedFn>, fast: Arc<FastFn>) -> Handlers {
        let index = self.typed.len();
        for &name in std::iter::once(&M::TYPE).chain(M::ALIASES) {
            if self.names.iter().any(|(n, _)| *n == name) {
                self.duplicate.get_or_insert(ServiceError::DuplicateHandler { type_name: name });
                return self;
            }
        }
        for &name in std::iter::once(&M::TYPE).chain(M::ALIASES) {
            self.names.push((name, index));
        }
        self.typed.push(Typed { type_name: M::TYPE, call, fast, counter: Arc::default() });
        self
    }

    /// Registers an async handler for messages of type `M` (dispatched by `"type"`,
    /// aliases included), decoded into `M`. It gets a [`Context`] (cheap to clone) for
    /// publishing and pushing; what it returns is an [`Outcome`].
    pub fn on<M, F, Fut>(self, handler: F) -> Handlers
    where
        M: Message,
        F: Fn(Context, M) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Outcome,
    {
        let handler = Arc::new(handler);
        let fast_handler = handler.clone();
        self.add_typed::<M>(
            Arc::new(move |ctx: &Context, text: Text<'_>| {
                Ok(call_async(handler(ctx.clone(), decode_text::<M>(text)?)))
            }),
            Arc::new(move |ctx: &Context, json: &[u8], after: usize| {
                Some(call_async(fast_handler(ctx.clone(), decode_fast_after::<M>(json, after)?)))
            }),
        )
    }

    /// Registers a plain function for messages of type `M`; it runs on the receiving
    /// task (keep it short, or use [`on`](Self::on)).
    pub fn on_fn<M, F, R>(self, handler: F) -> Handlers
    where
        M: Message,
        F: Fn(&Context, M) -> R + Send + Sync + 'static,
        R: Outcome,
    {
        let handler = Arc::new(handler);
        let fast_handler = handler.clone();
        self.add_typed::<M>(
            Arc::new(move |ctx: &Context, text: Text<'_>| {
                let msg = decode_text::<M>(text)?;
                Ok(call_sync(|| handler(ctx, msg)))
            }),
            Arc::new(move |ctx: &Context, json: &[u8], after: usize| {
                let msg = decode_fast_after::<M>(json, after)?;
                Some(call_sync(|| fast_handler(ctx, msg)))
            }),
        )
    }

    /// Registers an async handler for every frame on exactly `topic` (before any typed
    /// handler), or, for `""` or `"*"`, for every frame no typed handler takes. It gets
    /// the topic and the message decoded as [`AnyMessage`].
    pub fn on_topic<F, Fut>(mut self, topic: &str, handler: F) -> Handlers
    where
        F: Fn(Context, Topic, AnyMessage) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Outcome,
    {
        let f: Arc<TopicFn> =
            Arc::new(move |ctx: &Context, t: Topic, m: AnyMessage| call_async(handler(ctx.clone(), t, m)));
        let entry = (f, Arc::default());
        if topic.is_empty() || topic == "*" {
            if self.catch_all.is_some() {
                self.duplicate.get_or_insert(ServiceError::DuplicateTopic { topic: topic.to_owned() });
            } else {
                self.catch_all = Some(entry);
            }
        } else if self.topics.contains_key(topic) {
            self.duplicate.get_or_insert(ServiceError::DuplicateTopic { topic: topic.to_owned() });
        } else {
            self.topics.insert(topic.to_owned(), entry);
        }
        self
    }

    /// Registers the handler for messages no other handler takes (an unregistered
    /// `"type"`, a type without a handler): it gets the topic (empty for PULL frames)
    /// and the whole document. Without one, such messages are counted and skipped.
    pub fn on_unknown<F, R>(mut self, handler: F) -> Handlers
    where
        F: Fn(&Context, Topic, Value) -> R + Send + Sync + 'static,
        R: Outcome,
    {
        self.unknown =
            Some(Arc::new(move |ctx: &Context, t: Topic, v: Value| call_sync(|| handler(ctx, t, v))));
        self
    }

    /// Registers the handler for frames that do not decode (not JSON, not an object,
    /// no topic separator, or a known type whose fields do not fit): it gets the
    /// [`DecodeError`], which holds the raw frame. Without one, they are counted and
    /// logged.
    pub fn on_undecodable<F, R>(mut self, handler: F) -> Handlers
    where
        F: Fn(&Context, DecodeError) -> R + Send + Sync + 'static,
        R: Outcome,
    {
        self.undecodable = Some(Arc::new(move |ctx: &Context, e: DecodeError| call_sync(|| handler(ctx, e))));
        self
    }

    pub(crate) fn into_table(self) -> Result<Arc<Table>, ServiceError> {
        if let Some(e) = self.duplicate {
            return Err(e);
        }
        Ok(Arc::new(Table {
            handlers: self,
            unknown_counts: Mutex::default(),
            undecodable_count: Counter::default(),
        }))
    }
}

/// `a == b`, for a wire name: names of 8 to 16 bytes (most) are compared as two
/// overlapping words each, without a call of `memcmp`.
fn name_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word =
        |s: &[u8], at: usize| s.get(at..at + 8).and_then(|w| w.try_into().ok()).map(u64::from_ne_bytes);
    if (8..=16).contains(&n) {
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    a == b
}

/// The JSON bytes of `frame` (after an ASCII topic for a PUB frame), when it opens with
/// its tag: with the name and the offset past it (see [`leading_tag`]).
fn tagged_json(frame: &[u8], framing: Framing) -> Option<(&[u8], &[u8], usize)> {
    let json = match framing {
        Framing::Push => frame,
        Framing::Pub => {
            let space = memchr::memchr(b' ', frame)?;
            if !frame[..space].is_ascii() {
                return None;
            }
            &frame[space + 1..]
        }
    };
    let (name, after) = leading_tag(json)?;
    Some((json, name, after))
}

/// The frozen handler set a running service dispatches with.
pub(crate) struct Table {
    /// The handlers, checked (no duplicate) and no longer changed.
    handlers: Handlers,
    /// Per type name of the messages no handler took (the slow path).
    unknown_counts: Mutex<BTreeMap<String, u64>>,
    undecodable_count: Counter,
}

/// One dispatched frame: the handler's result or future, and where to count it.
pub(crate) struct Dispatch {
    pub(crate) called: Called,
    pub(crate) label: Label,
}

impl Table {
    /// Finds and calls the handler of `frame` (a PUB frame when `framing` is
    /// [`Framing::Pub`], else a PUSH frame). `None`: nothing left to do, the frame is
    /// counted (no handler took it, or a typed handler finished with no response).
    pub(crate) fn dispatch(&self, ctx: &Context, frame: &[u8], framing: Framing) -> Option<Dispatch> {
        // The fast path first: a frame that opens with the tag of a typed handler's type
        // (no topic handler to consult, which needs the topic's text), decoded by the
        // fast path, whose own checks make the text check needless (`codec::fast`).
        let mut fast_tried = false;
        if self.handlers.topics.is_empty() {
            if let Some((json, name, after)) = tagged_json(frame, framing) {
                if let Some(i) = self.slot(name) {
                    fast_tried = true;
                    if let Some(called) = (self.handlers.typed[i].fast)(ctx, json, after) {
                        return self.called(i, called);
                    }
                }
            }
        }
        // The frame's text, checked once as every decoder checks it (UTF-8, no lone
        // surrogate), so each handler's decode reads it without checking again.
        let split = match framing {
            Framing::Pub => crate::codec::split_pub_text(frame),
            Framing::Push => crate::codec::json_text(frame, 0).map(|json| ("", json)),
        };
        let (topic, json) = match split {
            Ok(split) => split,
            Err(kind) => return self.undecodable(ctx, DecodeError::new(kind, frame, framing)),
        };
        if !self.handlers.topics.is_empty() {
            if let Some((f, counter)) = self.handlers.topics.get(topic) {
                let label = Label::Topic(format!("topic:{topic}"), counter.clone());
                return self.any(ctx, f, topic, json, frame, framing, label);
            }
        }
        // The name as both writers put it (the tag first), else by parsing.
        let (name, after): (Cow<'_, str>, _) = match leading_tag(json.as_bytes()) {
            // The name ends at an ASCII quote in checked text: a `str` slice.
            Some((name, after)) => {
                (Cow::Borrowed(json.get(after - 1 - name.len()..after - 1).unwrap_or_default()), Some(after))
            }
            None => match peek_type(json) {
                Ok(Some(name)) => (name, None),
                Ok(None) => (Cow::Borrowed(""), None),
                Err(kind) => return self.undecodable(ctx, DecodeError::new(kind, frame, framing)),
            },
        };
        if let Some(i) = self.slot(name.as_bytes()) {
            let text = if fast_tried { Text::General(json) } else { Text::Tagged(json, after) };
            return match (self.handlers.typed[i].call)(ctx, text) {
                Ok(called) => self.called(i, called),
                Err(kind) => self.undecodable(ctx, DecodeError::new(kind, frame, framing)),
            };
        }
        if let Some((f, counter)) = &self.handlers.catch_all {
            let label = Label::Topic("topic:*".to_owned(), counter.clone());
            return self.any(ctx, f, topic, json, frame, framing, label);
        }
        let label = if name.is_empty() { "(no type)".to_owned() } else { name.into_owned() };
        let Some(unknown) = &self.handlers.unknown else {
            self.count_unknown(&label);
            log::debug!("{}: no handler for a {label} message", ctx.name());
            return None;
        };
        match crate::codec::de::parse_object(json) {
            Ok(value) => Some(Dispatch {
                called: unknown(ctx, Topic::from(topic), value),
                label: Label::Unknown(label),
            }),
            Err(kind) => self.undecodable(ctx, DecodeError::new(kind, frame, framing)),
        }
    }

    /// The typed handler of a wire name (or alias).
    fn slot(&self, name: &[u8]) -> Option<usize> {
        self.handlers.names.iter().find(|(n, _)| name_eq(n.as_bytes(), name)).map(|&(_, i)| i)
    }

    /// What typed handler `i` gave: the common case (a plain function, no response) is
    /// counted here.
    fn called(&self, i: usize, called: Called) -> Option<Dispatch> {
        let typed = &self.handlers.typed[i];
        if matches!(called, Called::Done(Ok(None))) {
            typed.counter.handled.fetch_add(1, Ordering::Relaxed);
            // Nothing in it to drop: spares the call of its drop glue (14 instr/msg).
            std::mem::forget(called);
            return None;
        }
        Some(Dispatch { called, label: Label::Typed(typed.type_name, i) })
    }

    #[allow(clippy::too_many_arguments)]
    fn any(
        &self,
        ctx: &Context,
        f: &Arc<TopicFn>,
        topic: &str,
        json: &str,
        frame: &[u8],
        framing: Framing,
        label: Label,
    ) -> Option<Dispatch> {
        match AnyMessage::read_json(json) {
            Ok(msg) => Some(Dispatch { called: f(ctx, Topic::from(topic), msg), label }),
            Err(kind) => self.undecodable(ctx, DecodeError::new(kind, frame, framing)),
        }
    }

    fn undecodable(&self, ctx: &Context, e: DecodeError) -> Option<Dispatch> {
        match &self.handlers.undecodable {
            Some(f) => Some(Dispatch { called: f(ctx, e), label: Label::Undecodable }),
            None => {
                self.undecodable_count.failed.fetch_add(1, Ordering::Relaxed);
                log::warn!("{}: a frame that does not decode: {e}", ctx.name());
                None
            }
        }
    }
}
