//! Closing flushes what was accepted, bounded by the linger, and never hangs: neither
//! `close()` nor `Drop`, whatever the peer does. A close that gives up, a failed build
//! or an idle inproc peer must not wedge the shared context for the sockets after it.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use experimance_common::DEFAULT_LINGER;
use serde_json::{json, Value};

mod support;
use support::net::DeadPort;
use support::{unique_inproc, READY, SLACK};

fn push_with_queued_messages(dead: &DeadPort, linger: Option<Duration>) -> PushSocket {
    let builder = PushSocket::builder().connect(&dead.endpoint).unwrap().immediate(false);
    let builder = match linger {
        Some(l) => builder.linger(l),
        None => builder,
    };
    let mut push = builder.build().unwrap();
    for seq in 0..100 {
        push.push(&json!({"type": "Task", "seq": seq})).unwrap();
    }
    push
}

/// A tcp push/pull pair still connects, delivers and closes at once: the shared
/// context is not wedged.
fn assert_context_still_works() {
    let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut push = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    push.push(&json!({"type": "Ping"})).unwrap();
    assert_eq!(pull.pull::<Value>().unwrap()["type"], "Ping");
    let start = Instant::now();
    push.close().unwrap();
    pull.close().unwrap();
    assert!(start.elapsed() < SLACK, "closing a delivered pair took {:?}", start.elapsed());
}

#[test]
fn close_right_after_pushing_delivers_everything_in_order() {
    const N: u64 = 10_000;
    let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut pull = PullSocket::builder()
        .connect(&push.endpoint())
        .unwrap()
        .receive_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    push.wait_connected(READY).unwrap();
    let puller = std::thread::spawn(move || {
        for seq in 0..N {
            let v = pull.pull::<Value>().unwrap();
            assert_eq!(v["seq"], json!(seq), "message {seq} out of order");
        }
        pull.try_pull::<Value>().unwrap()
    });
    for seq in 0..N {
        push.push(&json!({"type": "Task", "seq": seq})).unwrap();
    }
    // At once: most of the 10,000 are still queued in libzmq.
    push.close().unwrap();
    assert_eq!(puller.join().unwrap(), None, "exactly the messages pushed");
}

#[test]
fn drop_with_queued_messages_and_no_peer_returns_after_the_linger() {
    let linger = Duration::from_millis(300);
    let dead = DeadPort::new();
    let push = push_with_queued_messages(&dead, Some(linger));
    let start = Instant::now();
    drop(push);
    let elapsed = start.elapsed();
    // It did try to deliver for the linger (Python's close drops at once), and no longer.
    assert!(elapsed >= linger - Duration::from_millis(50), "dropped after {elapsed:?}");
    assert!(elapsed <= linger + SLACK, "dropped after {elapsed:?}");
}

#[test]
fn close_with_queued_messages_and_no_peer_reports_the_expired_linger() {
    let linger = Duration::from_millis(300);
    let dead = DeadPort::new();
    let push = push_with_queued_messages(&dead, Some(linger));
    let start = Instant::now();
    let result = push.close();
    let elapsed = start.elapsed();
    match result {
        Err(Error::LingerExpired { linger: l }) => assert_eq!(l, linger),
        other => panic!("expected LingerExpired, got {other:?}"),
    }
    assert!(elapsed >= linger - Duration::from_millis(50), "closed after {elapsed:?}");
    assert!(elapsed <= linger + SLACK, "closed after {elapsed:?}");
    assert_context_still_works();
}

#[test]
fn default_linger_bounds_drop_and_close() {
    assert_eq!(DEFAULT_LINGER, Duration::from_secs(1));
    let dead = DeadPort::new();
    let push = push_with_queued_messages(&dead, None);
    let start = Instant::now();
    drop(push);
    assert!(start.elapsed() <= DEFAULT_LINGER + SLACK, "dropped after {:?}", start.elapsed());

    let push = push_with_queued_messages(&dead, None);
    let start = Instant::now();
    let result = push.close();
    assert!(start.elapsed() <= DEFAULT_LINGER + SLACK, "closed after {:?}", start.elapsed());
    assert!(matches!(result, Err(Error::LingerExpired { linger }) if linger == DEFAULT_LINGER), "{result:?}");
}

#[test]
fn sockets_with_nothing_queued_close_at_once() {
    let dead = DeadPort::new();
    let start = Instant::now();
    // Receivers whose publisher / pusher never existed.
    let sub = Subscriber::builder().connect(&dead.endpoint).unwrap().subscribe("status").build().unwrap();
    sub.close().unwrap();
    let pull = PullSocket::builder().connect(&dead.endpoint).unwrap().build().unwrap();
    pull.close().unwrap();
    // Bound receivers nobody connected to.
    let sub = Subscriber::builder().bind("tcp://127.0.0.1:*").unwrap().subscribe_all().build().unwrap();
    sub.close().unwrap();
    let pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    pull.close().unwrap();
    // Senders that never had anything to deliver (a push socket does not queue without
    // a connection by default).
    let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    publisher.publish(&json!({"type": "Nobody"})).unwrap();
    publisher.close().unwrap();
    let mut push = PushSocket::builder().connect(&dead.endpoint).unwrap().build().unwrap();
    assert!(!push.try_push(&json!({"type": "Nobody"})).unwrap());
    push.close().unwrap();
    assert!(start.elapsed() < SLACK, "six closes took {:?}", start.elapsed());
}

#[test]
fn receivers_close_at_once_when_their_peer_went_away() {
    let mut publisher =
        Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().topic("status").unwrap().build().unwrap();
    let sub =
        Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe("status").build().unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();
    let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    publisher.close().unwrap();
    push.close().unwrap();

    let start = Instant::now();
    sub.close().unwrap();
    pull.close().unwrap();
    assert!(start.elapsed() < SLACK, "closing took {:?}", start.elapsed());
}

#[test]
fn inproc_close_does_not_wait_for_an_idle_peer() {
    // libzmq finishes closing an inproc socket only when its peer next uses its own
    // socket; here the peer is idle while the other side closes.
    let endpoint = unique_inproc("close");
    let mut publisher = Publisher::builder().bind(&endpoint).unwrap().build().unwrap();
    let mut sub = Subscriber::builder().connect(&endpoint).unwrap().subscribe_all().build().unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();
    publisher.publish(&json!({"type": "Last"})).unwrap();
    let start = Instant::now();
    publisher.close().unwrap();
    assert!(start.elapsed() < SLACK, "publisher close took {:?}", start.elapsed());
    // What was published before the close is still delivered.
    assert_eq!(sub.receive::<Value>().unwrap().1["type"], "Last");
    let start = Instant::now();
    sub.close().unwrap();
    assert!(start.elapsed() < SLACK, "subscriber close took {:?}", start.elapsed());

    // The receiving side first, with the sender idle.
    let endpoint = unique_inproc("close");
    let mut push = PushSocket::builder().bind(&endpoint).unwrap().build().unwrap();
    let pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    push.push(&json!({"type": "Unread"})).unwrap();
    let start = Instant::now();
    pull.close().unwrap();
    assert!(start.elapsed() < SLACK, "pull close took {:?}", start.elapsed());
    let start = Instant::now();
    drop(push);
    assert!(start.elapsed() < SLACK, "push drop took {:?}", start.elapsed());

    assert_context_still_works();
}

#[test]
fn a_failed_build_does_not_wedge_the_context() {
    let held = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    for _ in 0..3 {
        let err = PullSocket::builder().bind(&held.endpoint()).unwrap().build().unwrap_err();
        assert!(matches!(err, Error::Bind { .. }), "{err:?}");
    }
    assert_context_still_works();
}

#[test]
fn a_socket_mixing_tcp_and_inproc_closes_without_a_false_expired_linger() {
    // Bound to tcp and inproc, with an idle inproc peer: nothing is left queued, so the
    // close is Ok (it once waited for the idle peer, and reported an expired linger).
    let inproc = unique_inproc("close");
    let mut push = PushSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .bind(&inproc)
        .unwrap()
        .linger(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut pull = PullSocket::builder().connect(&inproc).unwrap().build().unwrap();
    push.push(&json!({"type": "Delivered"})).unwrap();
    let start = Instant::now();
    let closed = push.close();
    assert!(closed.is_ok(), "{closed:?}");
    assert!(start.elapsed() < SLACK, "close took {:?}", start.elapsed());
    assert_eq!(pull.pull::<Value>().unwrap()["type"], "Delivered");
    assert_context_still_works();
}
