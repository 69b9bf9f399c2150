//! A `tracing-core` subscriber that keeps every event and span it is given (feature
//! `tracing`), for tests that check the library's log events.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Level, Metadata, Subscriber};

/// Fields as (name, value) pairs: strings as they are, everything else as its `Debug`.
pub type Fields = Vec<(String, String)>;

/// One event: its name, level, target, fields (the message as `message`) and the
/// fields of its parent span, if it has one.
#[derive(Debug, Clone)]
pub struct Captured {
    pub name: String,
    pub level: Level,
    pub target: String,
    pub fields: Fields,
    /// The name and fields of the event's explicit parent span.
    pub span: Option<(String, Fields)>,
}

fn find<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

impl Captured {
    pub fn field(&self, name: &str) -> Option<&str> {
        find(&self.fields, name)
    }

    /// A field of the parent span.
    pub fn span_field(&self, name: &str) -> Option<&str> {
        self.span.as_ref().and_then(|(_, fields)| find(fields, name))
    }
}

/// The subscriber; clones share what was captured.
#[derive(Clone, Default)]
pub struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
    spans: Arc<Mutex<HashMap<u64, (String, Fields)>>>,
    closed: Arc<Mutex<Vec<u64>>>,
    next_id: Arc<AtomicU64>,
}

impl Capture {
    /// Runs `f` with this subscriber as the thread's default.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing_core::dispatcher::with_default(&Dispatch::new(self.clone()), f)
    }

    /// Every event so far, in order.
    pub fn events(&self) -> Vec<Captured> {
        self.events.lock().unwrap().clone()
    }

    /// The events named `name`.
    pub fn named(&self, name: &str) -> Vec<Captured> {
        self.events().into_iter().filter(|e| e.name == name).collect()
    }

    /// How many spans were made, and how many of them were closed.
    pub fn spans_made_and_closed(&self) -> (usize, usize) {
        (self.spans.lock().unwrap().len(), self.closed.lock().unwrap().len())
    }
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = Vec::new();
        span.record(&mut Visitor(&mut fields));
        self.spans.lock().unwrap().insert(id, (span.metadata().name().to_owned(), fields));
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Visitor(&mut fields));
        let m = event.metadata();
        let span = event.parent().and_then(|id| self.spans.lock().unwrap().get(&id.into_u64()).cloned());
        let captured = Captured {
            name: m.name().to_owned(),
            level: *m.level(),
            target: m.target().to_owned(),
            fields,
            span,
        };
        self.events.lock().unwrap().push(captured);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
    fn try_close(&self, id: Id) -> bool {
        self.closed.lock().unwrap().push(id.into_u64());
        true
    }
}
