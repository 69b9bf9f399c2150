//! Where dispatched frames are counted: per typed handler and topic handler, the
//! unknown types, and the undecodable frames.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{HandlerResult, Table};
use crate::service::context::Context;

/// Handled and failed counts of one label (a type name, `topic:<t>`, ...).
#[derive(Debug, Default)]
pub(crate) struct Counter {
    pub(crate) handled: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// `(label -> (handled, failed), unknown type -> count, undecodable handled, failed)`.
pub(crate) type Counts = (BTreeMap<String, (u64, u64)>, BTreeMap<String, u64>, u64, u64);

/// Where a dispatch is counted.
#[derive(Clone)]
pub(crate) enum Label {
    /// A typed handler: its wire name and index (no reference count per message).
    Typed(&'static str, usize),
    Topic(String, Arc<Counter>),
    Unknown(String),
    Undecodable,
}

impl Label {
    pub(crate) fn name(&self) -> &str {
        match self {
            Label::Typed(n, _) => n,
            Label::Topic(t, _) => t,
            Label::Unknown(n) => n,
            Label::Undecodable => "(undecodable)",
        }
    }
}

impl Table {
    pub(crate) fn count_unknown(&self, name: &str) {
        if let Ok(mut map) = self.unknown_counts.lock() {
            *map.entry(name.to_owned()).or_default() += 1;
        }
    }

    /// Counts a finished handler: `Ok` as handled, `Err` as failed (and logs it).
    pub(crate) fn finish(&self, ctx: &Context, label: &Label, result: &HandlerResult) {
        let counter = match label {
            Label::Typed(_, i) => self.handlers.typed.get(*i).map(|t| &*t.counter),
            Label::Topic(_, c) => Some(&**c),
            Label::Undecodable => Some(&self.undecodable_count),
            Label::Unknown(name) => {
                self.count_unknown(name);
                None
            }
        };
        match result {
            Ok(_) => {
                if let Some(c) = counter {
                    c.handled.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) => {
                if let Some(c) = counter {
                    c.failed.fetch_add(1, Ordering::Relaxed);
                }
                ctx.shared.note_error();
                log::warn!("{}: the {} handler failed: {e}", ctx.name(), label.name());
            }
        }
    }

    /// `(label, handled, failed)` of every label seen, plus the unknown types (handled
    /// by the unknown-type handler or by nobody) and the undecodable frames.
    pub(crate) fn counts(&self) -> Counts {
        let mut map = BTreeMap::new();
        let mut add = |name: &str, c: &Counter| {
            let (h, f) = (c.handled.load(Ordering::Relaxed), c.failed.load(Ordering::Relaxed));
            if h + f > 0 {
                map.insert(name.to_owned(), (h, f));
            }
        };
        for t in &self.handlers.typed {
            add(t.type_name, &t.counter);
        }
        for (topic, (_, c)) in &self.handlers.topics {
            add(&format!("topic:{topic}"), c);
        }
        if let Some((_, c)) = &self.handlers.catch_all {
            add("topic:*", c);
        }
        let unknown = self.unknown_counts.lock().map(|m| m.clone()).unwrap_or_default();
        let u = &self.undecodable_count;
        (map, unknown, u.handled.load(Ordering::Relaxed), u.failed.load(Ordering::Relaxed))
    }
}
