//! Promises under faults, blocking and async: a subscriber that stops reading cannot
//! make a lossless publish spin or outlive its timeout; a huge duration never panics;
//! close reports dropped messages exactly when messages were dropped; a push to an
//! inproc peer that is gone does not report success.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use experimance_common::socket::{Error, Operation, Publisher, PullSocket, PushSocket, Subscriber, MAX_WAIT};
use serde_json::{json, Value};

mod support;
use net::{bind_endpoint, unique, DeadPort, Transport, READY, SHORT, SLACK};
use support::net;

/// CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime: {}", std::io::Error::last_os_error());
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn assert_timed_out<T: std::fmt::Debug>(
    r: Result<T, Error>,
    op: Operation,
    after: Duration,
    elapsed: Duration,
) {
    match r {
        Err(Error::Timeout { op: o, after: a }) => assert_eq!((o, a), (op, after)),
        other => panic!("expected a {op} timeout, got {other:?}"),
    }
    assert!(elapsed >= after, "{op} returned after {elapsed:?}, before its timeout {after:?}");
    assert!(elapsed <= after + SLACK, "{op} returned after {elapsed:?}, timeout {after:?}");
}

/// A frame big enough that a few hundred fill the kernel's tcp buffers too.
fn big_counter(seq: u64) -> Value {
    json!({"type": "Counter", "seq": seq, "pad": "x".repeat(64 * 1024)})
}

fn lossless_pair() -> (Publisher, Subscriber) {
    let publisher = Publisher::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .lossless(true)
        .send_hwm(4)
        .send_timeout(SHORT)
        .build()
        .unwrap();
    let subscriber = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_all()
        .receive_hwm(4)
        .build()
        .unwrap();
    (publisher, subscriber)
}

/// A lossless tcp publisher whose one subscriber never reads, filled until a publish
/// times out; the subscriber is returned so it stays connected.
fn stalled_publisher() -> (Publisher, Subscriber) {
    let (mut publisher, subscriber) = lossless_pair();
    publisher.wait_for_subscribers(1, READY).unwrap();
    for seq in 0.. {
        assert!(seq < 10_000, "a lossless publisher accepted {seq} messages nobody reads");
        match publisher.publish(&big_counter(seq)) {
            Ok(()) => {}
            Err(Error::Timeout { .. }) => break,
            Err(e) => panic!("filling the queue: {e}"),
        }
    }
    (publisher, subscriber)
}

#[test]
fn lossless_publish_to_a_stalled_subscriber_times_out_without_spinning() {
    let (mut publisher, _subscriber) = stalled_publisher();
    let cpu = thread_cpu_time();
    let start = Instant::now();
    let r = publisher.publish_to("t", &big_counter(u64::MAX));
    let elapsed = start.elapsed();
    let used = thread_cpu_time() - cpu;
    assert_timed_out(r, Operation::Publish, SHORT, elapsed);
    assert!(used < elapsed / 3, "the blocking publish used {used:?} of CPU in {elapsed:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn lossless_publish_async_to_a_stalled_subscriber_waits_without_spinning() {
    // All async, so that the socket's readiness is already known to tokio (the
    // subscription arrived) when the queue fills: an XPUB socket reports POLLOUT even
    // when a lossless send would block, so a loop that only waits on readiness spins.
    let (mut publisher, mut subscriber) = lossless_pair();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();
    publisher.publish_async(&big_counter(0)).await.unwrap();
    subscriber.receive_async::<Value>().await.unwrap();
    for seq in 1.. {
        assert!(seq < 10_000, "a lossless publisher accepted {seq} messages nobody reads");
        match tokio::time::timeout(READY, publisher.publish_async(&big_counter(seq))).await {
            Ok(Ok(())) => {}
            Ok(Err(Error::Timeout { .. })) => break,
            Ok(Err(e)) => panic!("filling the queue: {e}"),
            Err(_) => panic!("a publish with a {SHORT:?} timeout had not returned after {READY:?}"),
        }
    }

    // The executor stays free: a task ticks while the publish waits.
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let cpu = thread_cpu_time();
    let start = Instant::now();
    let r = publisher.publish_async(&big_counter(u64::MAX)).await;
    let elapsed = start.elapsed();
    let used = thread_cpu_time() - cpu;
    assert_timed_out(r, Operation::Publish, SHORT, elapsed);
    assert!(used < elapsed / 3, "the async publish used {used:?} of CPU in {elapsed:?} (spinning)");
    let ticked = ticks.load(std::sync::atomic::Ordering::Relaxed);
    assert!(ticked >= 5, "the executor was blocked: the ticker ran {ticked} times in {elapsed:?}");
    ticker.abort();

    // A surrounding timeout cancels it, every time.
    for _ in 0..20 {
        let start = Instant::now();
        let r =
            tokio::time::timeout(Duration::from_millis(5), publisher.publish_async(&big_counter(0))).await;
        assert!(r.is_err(), "the publish was not cancelled: {r:?}");
        assert!(start.elapsed() < SLACK, "cancelling took {:?}", start.elapsed());
    }
    let r = tokio::time::timeout(Duration::ZERO, publisher.publish_async(&big_counter(0))).await;
    assert!(r.is_err(), "a zero timeout did not cancel the publish: {r:?}");
}

// ---------------------------------------------------------------------------------
// Huge durations are clamped to MAX_WAIT: no call panics or overflows a deadline.

#[test]
fn huge_durations_never_panic_blocking() {
    let mut pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .timeout(Duration::MAX)
        .linger(Duration::MAX)
        .build()
        .unwrap();
    let mut push = PushSocket::builder()
        .connect(&pull.endpoint())
        .unwrap()
        .timeout(Duration::MAX)
        .linger(Duration::MAX)
        .build()
        .unwrap();
    push.wait_connected(Duration::MAX).unwrap();
    assert_eq!(pull.wait_for_peers(1, Duration::MAX).unwrap(), 1);
    push.push_timeout(&json!({"type": "Ping", "n": 1}), Duration::MAX).unwrap();
    push.push(&json!({"type": "Ping", "n": 2})).unwrap();
    assert_eq!(pull.pull_within::<Value>(Duration::MAX).unwrap()["n"], 1);
    assert_eq!(pull.pull::<Value>().unwrap()["n"], 2);

    let mut publisher = Publisher::builder()
        .bind(&bind_endpoint(Transport::Tcp))
        .unwrap()
        .linger(Duration::MAX)
        .build()
        .unwrap();
    let mut subscriber =
        Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe_all().build().unwrap();
    assert_eq!(publisher.wait_for_subscribers(1, Duration::MAX).unwrap(), 1);
    assert_eq!(publisher.wait_for_subscribers_to("any", 1, Duration::MAX).unwrap(), 1);
    publisher.publish(&json!({"type": "Ping"})).unwrap();
    assert_eq!(subscriber.receive_within::<Value>(Duration::MAX).unwrap().1["type"], "Ping");

    // Nothing is queued, so a linger of Duration::MAX closes at once.
    let start = Instant::now();
    push.close().unwrap();
    publisher.close().unwrap();
    drop(pull);
    drop(subscriber);
    assert!(start.elapsed() < SLACK, "closing took {:?}", start.elapsed());
}

#[tokio::test]
async fn huge_durations_never_panic_async() {
    let cancel = Duration::from_millis(50);
    let dead = DeadPort::new();
    let mut pull = PullSocket::builder().connect(&dead.endpoint).unwrap().build().unwrap();
    let mut push = PushSocket::builder().connect(&dead.endpoint).unwrap().build().unwrap();
    let mut publisher = Publisher::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut subscriber =
        Subscriber::builder().connect(&dead.endpoint).unwrap().subscribe_all().build().unwrap();

    let r = tokio::time::timeout(cancel, pull.pull_within_async::<Value>(Duration::MAX)).await;
    assert!(r.is_err(), "{r:?}");
    let r =
        tokio::time::timeout(cancel, push.push_timeout_async(&json!({"type": "Ping"}), Duration::MAX)).await;
    assert!(r.is_err(), "{r:?}");
    let r = tokio::time::timeout(cancel, push.wait_connected_async(Duration::MAX)).await;
    assert!(r.is_err(), "{r:?}");
    let r = tokio::time::timeout(cancel, pull.wait_for_peers_async(1, Duration::MAX)).await;
    assert!(r.is_err(), "{r:?}");
    let r = tokio::time::timeout(cancel, publisher.wait_for_subscribers_async(1, Duration::MAX)).await;
    assert!(r.is_err(), "{r:?}");
    let r = tokio::time::timeout(cancel, subscriber.receive_within_async::<Value>(Duration::MAX)).await;
    assert!(r.is_err(), "{r:?}");

    // The socket timeouts themselves may be huge too.
    let mut slow =
        PullSocket::builder().connect(&dead.endpoint).unwrap().timeout(Duration::MAX).build().unwrap();
    let r = tokio::time::timeout(cancel, slow.pull_async::<Value>()).await;
    assert!(r.is_err(), "{r:?}");
    assert!(MAX_WAIT > Duration::from_secs(24 * 86_400), "MAX_WAIT is about 24.8 days");
}

#[test]
fn drop_with_an_infinite_linger_and_nothing_queued_returns_at_once() {
    let dead = DeadPort::new();
    let push = PushSocket::builder().connect(&dead.endpoint).unwrap().linger(Duration::MAX).build().unwrap();
    let start = Instant::now();
    drop(push);
    assert!(start.elapsed() < SLACK, "dropping took {:?}", start.elapsed());
}

// ---------------------------------------------------------------------------------
// close() reports dropped messages exactly when messages were dropped.

/// A push that queues to `dead` (which never answers) and closes with `linger`.
fn push_to_nobody(dead: &DeadPort, linger: Duration) -> PushSocket {
    PushSocket::builder().connect(&dead.endpoint).unwrap().immediate(false).linger(linger).build().unwrap()
}

fn push_with_stuck_messages(dead: &DeadPort, linger: Duration) -> PushSocket {
    let mut push = push_to_nobody(dead, linger);
    for seq in 0..100 {
        push.push(&json!({"type": "Task", "seq": seq})).unwrap();
    }
    push
}

#[test]
fn close_with_linger_zero_and_messages_queued_reports_them_dropped() {
    for linger in [Duration::ZERO, Duration::from_micros(1), Duration::from_millis(2)] {
        let dead = DeadPort::new();
        let push = push_with_stuck_messages(&dead, linger);
        let start = Instant::now();
        match push.close() {
            Err(Error::LingerExpired { linger: l }) => assert_eq!(l, linger),
            other => panic!("100 messages were dropped at linger {linger:?}, and close said {other:?}"),
        }
        assert!(start.elapsed() < SLACK, "closing took {:?}", start.elapsed());
    }
}

#[test]
fn close_with_small_lingers_and_nothing_queued_is_ok() {
    let lingers = [0, 1, 10, 100, 500]
        .map(Duration::from_micros)
        .into_iter()
        .chain([1, 2, 5].map(Duration::from_millis));
    for linger in lingers {
        // Nothing ever sent.
        let dead = DeadPort::new();
        let idle = push_to_nobody(&dead, linger);
        assert!(idle.close().is_ok(), "an idle socket with linger {linger:?} reported a drop");

        // Everything sent was received.
        let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let mut push =
            PushSocket::builder().connect(&pull.endpoint()).unwrap().linger(linger).build().unwrap();
        push.wait_connected(READY).unwrap();
        for seq in 0..100 {
            push.push(&json!({"type": "Task", "seq": seq})).unwrap();
        }
        for seq in 0..100 {
            assert_eq!(pull.pull::<Value>().unwrap()["seq"], seq);
        }
        let r = push.close();
        assert!(r.is_ok(), "all 100 were delivered, and close with linger {linger:?} said {r:?}");
    }
}

// ---------------------------------------------------------------------------------
// A push to an inproc peer that was closed times out, as over tcp.

fn inproc_pair(push_binds: bool) -> (PushSocket, PullSocket) {
    let endpoint = format!("inproc://{}", unique("faults"));
    if push_binds {
        let push = PushSocket::builder().bind(&endpoint).unwrap().send_timeout(SHORT).build().unwrap();
        let pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
        (push, pull)
    } else {
        let pull = PullSocket::builder().bind(&endpoint).unwrap().build().unwrap();
        let push = PushSocket::builder().connect(&endpoint).unwrap().send_timeout(SHORT).build().unwrap();
        (push, pull)
    }
}

#[test]
fn inproc_push_after_its_pull_was_dropped_times_out() {
    for push_binds in [true, false] {
        for _ in 0..20 {
            let (mut push, mut pull) = inproc_pair(push_binds);
            push.push(&json!({"type": "Ping"})).unwrap();
            assert_eq!(pull.pull::<Value>().unwrap()["type"], "Ping");
            drop(pull);
            let start = Instant::now();
            let r = push.push(&json!({"type": "Lost"}));
            assert_timed_out(r, Operation::Push, SHORT, start.elapsed());
        }
    }
}

#[tokio::test]
async fn inproc_push_async_after_its_pull_was_dropped_times_out() {
    for push_binds in [true, false] {
        for _ in 0..20 {
            let (mut push, mut pull) = inproc_pair(push_binds);
            push.push_async(&json!({"type": "Ping"})).await.unwrap();
            assert_eq!(pull.pull_async::<Value>().await.unwrap()["type"], "Ping");
            drop(pull);
            let start = Instant::now();
            let r = push.push_async(&json!({"type": "Lost"})).await;
            assert_timed_out(r, Operation::Push, SHORT, start.elapsed());
        }
    }
}

// ---------------------------------------------------------------------------------
// Every bounded call returns within its timeout with no peer: the worst overshoot.

const CALLS: usize = 10;
const BOUND: Duration = Duration::from_millis(20);

/// Runs `call` `CALLS` times and returns the worst time over `BOUND` it took; each
/// call must time out.
fn worst_overshoot(what: &str, mut call: impl FnMut() -> Result<(), Error>) -> Duration {
    let mut worst = Duration::ZERO;
    for _ in 0..CALLS {
        let start = Instant::now();
        let r = call();
        let elapsed = start.elapsed();
        assert!(matches!(r, Err(Error::Timeout { .. })), "{what}: expected a timeout, got {r:?}");
        assert!(elapsed >= BOUND, "{what} returned after {elapsed:?}, before its bound {BOUND:?}");
        worst = worst.max(elapsed - BOUND);
    }
    assert!(worst < SLACK, "{what} overshot its bound by {worst:?}");
    worst
}

fn unpeered() -> (PullSocket, PushSocket, Subscriber, Publisher, DeadPort) {
    let dead = DeadPort::new();
    let pull = PullSocket::builder().connect(&dead.endpoint).unwrap().timeout(BOUND).build().unwrap();
    let push = PushSocket::builder().connect(&dead.endpoint).unwrap().timeout(BOUND).build().unwrap();
    let sub = Subscriber::builder()
        .connect(&dead.endpoint)
        .unwrap()
        .subscribe_all()
        .timeout(BOUND)
        .build()
        .unwrap();
    let publisher = Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().timeout(BOUND).build().unwrap();
    (pull, push, sub, publisher, dead)
}

#[test]
fn every_blocking_call_returns_within_its_bound_with_no_peer() {
    let (mut pull, mut push, mut sub, mut publisher, _dead) = unpeered();
    let ping = json!({"type": "Ping"});
    let worst = [
        worst_overshoot("pull", || pull.pull::<Value>().map(drop)),
        worst_overshoot("pull_within", || pull.pull_within::<Value>(BOUND).map(drop)),
        worst_overshoot("pull_raw", || pull.pull_raw().map(drop)),
        worst_overshoot("push", || push.push(&ping)),
        worst_overshoot("push_timeout", || push.push_timeout(&ping, BOUND)),
        worst_overshoot("receive", || sub.receive::<Value>().map(drop)),
        worst_overshoot("receive_within", || sub.receive_within::<Value>(BOUND).map(drop)),
        worst_overshoot("receive_raw", || sub.receive_raw().map(drop)),
        worst_overshoot("wait_connected", || push.wait_connected(BOUND)),
        worst_overshoot("wait_for_peers", || pull.wait_for_peers(1, BOUND).map(drop)),
        worst_overshoot("wait_for_subscribers", || publisher.wait_for_subscribers(1, BOUND).map(drop)),
    ]
    .into_iter()
    .max()
    .unwrap();
    eprintln!("worst overshoot over a {BOUND:?} bound, blocking, no peer: {worst:?}");
}

#[tokio::test]
async fn every_async_call_returns_within_its_bound_with_no_peer() {
    let (mut pull, mut push, mut sub, mut publisher, _dead) = unpeered();
    let ping = json!({"type": "Ping"});
    let mut worst = Duration::ZERO;
    for _ in 0..CALLS {
        let calls: [(&str, Timed); 9] = [
            ("pull_async", timed(pull.pull_async::<Value>()).await),
            ("pull_within_async", timed(pull.pull_within_async::<Value>(BOUND)).await),
            ("pull_raw_async", timed(async { pull.pull_raw_async().await.map(drop) }).await),
            ("push_async", timed(push.push_async(&ping)).await),
            ("push_timeout_async", timed(push.push_timeout_async(&ping, BOUND)).await),
            ("receive_async", timed(async { sub.receive_async::<Value>().await.map(drop) }).await),
            ("wait_connected_async", timed(push.wait_connected_async(BOUND)).await),
            (
                "wait_for_peers_async",
                timed(async { pull.wait_for_peers_async(1, BOUND).await.map(drop) }).await,
            ),
            (
                "wait_for_subscribers_async",
                timed(async { publisher.wait_for_subscribers_async(1, BOUND).await.map(drop) }).await,
            ),
        ];
        for (what, (elapsed, r)) in calls {
            assert!(matches!(r, Err(Error::Timeout { .. })), "{what}: expected a timeout, got {r:?}");
            assert!(elapsed >= BOUND, "{what} returned after {elapsed:?}, before its bound {BOUND:?}");
            assert!(elapsed - BOUND < SLACK, "{what} overshot its bound by {:?}", elapsed - BOUND);
            worst = worst.max(elapsed - BOUND);
        }
    }
    eprintln!("worst overshoot over a {BOUND:?} bound, async, no peer: {worst:?}");
}

/// How long a call took, and its result with the value dropped.
type Timed = (Duration, Result<(), Error>);

/// Awaits `fut`, returning how long it took and its result with the value dropped.
async fn timed<T>(fut: impl std::future::Future<Output = Result<T, Error>>) -> Timed {
    let start = Instant::now();
    let r = fut.await.map(drop);
    (start.elapsed(), r)
}
