//! What every [`Context`](super::Context) of one service shares: the sending sockets'
//! queues, the requests waiting for a response, the counters and the stop signal.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot, watch};

use super::context::TopicMode;
use super::health::HealthBook;

/// How many timed-out request ids are remembered, to tell a late response from an
/// unmatched one.
const EXPIRED_MEMORY: usize = 4096;

/// The state behind every [`Context`] of one service.
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) topic_mode: TopicMode,
    pub(crate) default_topic: Option<String>,
    pub(crate) publisher: Option<mpsc::Sender<Outgoing>>,
    /// Named push sockets; the default one (responses) is `default_push`.
    pub(crate) pushes: Vec<(String, mpsc::Sender<Outgoing>)>,
    pub(crate) default_push: Option<usize>,
    pub(crate) pending: Mutex<HashMap<String, oneshot::Sender<Vec<u8>>>>,
    expired: Mutex<VecDeque<String>>,
    pub(crate) processed: AtomicU64,
    pub(crate) processed_tx: watch::Sender<u64>,
    pub(crate) late: AtomicU64,
    pub(crate) unmatched: AtomicU64,
    pub(crate) errors_since_tick: AtomicU64,
    pub(crate) stop_tx: watch::Sender<bool>,
    pub(crate) stopping: AtomicBool,
    pub(crate) health: Mutex<HealthBook>,
    pub(crate) started: Instant,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: String,
        topic_mode: TopicMode,
        default_topic: Option<String>,
        publisher: Option<mpsc::Sender<Outgoing>>,
        pushes: Vec<(String, mpsc::Sender<Outgoing>)>,
        default_push: Option<usize>,
        health: HealthBook,
    ) -> Shared {
        Shared {
            name,
            topic_mode,
            default_topic,
            publisher,
            pushes,
            default_push,
            pending: Mutex::default(),
            expired: Mutex::default(),
            processed: AtomicU64::new(0),
            processed_tx: watch::channel(0).0,
            late: AtomicU64::new(0),
            unmatched: AtomicU64::new(0),
            errors_since_tick: AtomicU64::new(0),
            stop_tx: watch::channel(false).0,
            stopping: AtomicBool::new(false),
            health: Mutex::new(health),
            started: Instant::now(),
        }
    }

    pub(crate) fn note_error(&self) {
        self.errors_since_tick.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut h) = self.health.lock() {
            h.error_count += 1;
        }
    }

    pub(crate) fn note_processed(&self) {
        let n = self.processed.fetch_add(1, Ordering::SeqCst) + 1;
        // Only while someone waits ([`Context::processed_at_least`]): a watch send
        // takes a lock, which the hot path should not pay for.
        if self.processed_tx.receiver_count() > 0 {
            self.processed_tx.send_replace(n);
        }
    }

    pub(crate) fn request_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop_tx.send_replace(true);
    }

    /// A response frame from a worker: delivered to its waiting request (`true`), or
    /// counted as late or unmatched (`false`: dispatch it to the handlers).
    pub(crate) fn deliver_response(&self, json: &[u8]) -> bool {
        #[derive(serde::Deserialize)]
        struct Id<'a> {
            #[serde(borrow, default)]
            request_id: Option<std::borrow::Cow<'a, str>>,
        }
        let id = serde_json::from_slice::<Id<'_>>(json).ok().and_then(|i| i.request_id);
        let Some(id) = id else {
            self.unmatched.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let waiting = self.pending.lock().ok().and_then(|mut p| p.remove(id.as_ref()));
        if let Some(tx) = waiting {
            if tx.send(json.to_vec()).is_ok() {
                return true;
            }
        }
        let late = self.expired.lock().map(|e| e.iter().any(|x| x == id.as_ref())).unwrap_or(false);
        if late {
            self.late.fetch_add(1, Ordering::Relaxed);
        } else {
            self.unmatched.fetch_add(1, Ordering::Relaxed);
        }
        false
    }

    pub(crate) fn expire(&self, id: &str) {
        if let Ok(mut p) = self.pending.lock() {
            p.remove(id);
        }
        if let Ok(mut e) = self.expired.lock() {
            if e.len() >= EXPIRED_MEMORY {
                e.pop_front();
            }
            e.push_back(id.to_owned());
        }
    }
}

/// One frame for a sending socket's writer task.
pub(crate) struct Outgoing {
    pub(crate) frame: Vec<u8>,
    /// Told the send's outcome, for a caller that waits on it ([`Context::request`]);
    /// fire-and-forget sends leave it empty and the writer only counts and logs.
    pub(crate) sent: Option<oneshot::Sender<Result<(), crate::socket::Error>>>,
}
