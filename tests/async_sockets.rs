//! The tokio API of the four socket types over real ZeroMQ connections: every scenario
//! of `tests/sockets.rs` awaited instead of blocking, plus what only async code can get
//! wrong: cancellation by `select!` and `timeout` (no message lost or duplicated, also
//! under 100,000-message stress on both runtimes), a push parked at the high-water mark
//! and woken when the peer drains, a pending receive that leaves the executor free, and
//! calls made outside a runtime or after the runtime that first drove a socket is gone.
//!
//! Every test uses its own endpoints (an ephemeral tcp port, a unique ipc path, a unique
//! inproc name) and waits for readiness with `wait_for_subscribers[_async]` /
//! `wait_connected` / `wait_for_peers`, never with a sleep.
//!
//! `throughput_async_vs_blocking` is a measurement, ignored by default:
//! `cargo test --release --test async_sockets -- --ignored --nocapture`.
#![cfg(feature = "tokio")]
// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use experimance_common::socket::{
    global_context, Error, Operation, Publisher, PullSocket, PushSocket, Subscriber,
};
use experimance_common::{codec, AnyMessage, DecodeErrorKind, EraChanged, Heartbeat, IdleStatus, Topic};
use serde_json::{json, Value};

mod support;
use support::net::*;
use support::{assert_timeout, era, over_every_transport};

/// A heartbeat carrying a sequence number.
fn numbered(seq: u64) -> Heartbeat {
    let mut hb = Heartbeat::now("stress");
    hb.extra.insert("seq".into(), seq.into());
    hb
}

fn seq_of(hb: &Heartbeat) -> u64 {
    hb.extra["seq"].as_u64().unwrap()
}

/// Awaits `fut` and returns its output with how long it took.
async fn timed<F: Future>(fut: F) -> (F::Output, Duration) {
    let start = Instant::now();
    let out = fut.await;
    (out, start.elapsed())
}

// ---------------------------------------------------------------------------------
// pub/sub and push/pull over every transport

async fn pubsub_roundtrip(transport: Transport) {
    let mut publisher =
        Publisher::builder().bind(&bind_endpoint(transport)).unwrap().topic("era").unwrap().build().unwrap();
    let mut subscriber = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_exact("era")
        .unwrap()
        .subscribe_exact("explicit")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(publisher.wait_for_subscribers_async(1, READY).await.unwrap(), 1);
    publisher.wait_for_subscribers_to("explicit", 1, READY).unwrap();
    let msg = era(1);

    // Typed.
    publisher.publish_async(&msg).await.unwrap();
    let (topic, got) = subscriber.receive_async::<EraChanged>().await.unwrap();
    assert_eq!((topic.as_str(), &got), ("era", &msg));

    // Any message type.
    publisher.publish_async(&msg).await.unwrap();
    let (topic, got) = subscriber.receive_async::<AnyMessage>().await.unwrap();
    assert_eq!(topic, "era");
    assert!(matches!(&got, AnyMessage::EraChanged(m) if *m == msg), "got {got:?}");

    // Untyped JSON, with a per-call timeout.
    publisher.publish_async(&msg).await.unwrap();
    let (topic, got) = subscriber.receive_within_async::<Value>(READY).await.unwrap();
    assert_eq!(topic, "era");
    assert_eq!(got, json!({"type": "EraChanged", "era": "modern", "biome": "forest"}));

    // Raw: exactly the wire frame.
    publisher.publish_async(&msg).await.unwrap();
    let mut expected = Vec::new();
    codec::encode_pub("era", &msg, &mut expected).unwrap();
    assert_eq!(subscriber.receive_raw_async().await.unwrap(), &expected[..]);
    assert_eq!(expected, br#"era {"type":"EraChanged","era":"modern","biome":"forest"}"#);

    // An explicit topic instead of the default one, then the default again.
    publisher.publish_to_async("explicit", &era(2)).await.unwrap();
    publisher.publish_async(&era(0)).await.unwrap();
    assert_eq!(subscriber.receive_async::<EraChanged>().await.unwrap(), ("explicit".into(), era(2)));
    assert_eq!(subscriber.receive_async::<EraChanged>().await.unwrap(), ("era".into(), era(0)));
    assert!(subscriber.try_receive::<Value>().unwrap().is_none(), "nothing else was published");

    subscriber.close().unwrap();
    publisher.close().unwrap();
}

over_every_transport!(async pubsub_roundtrip);

async fn pushpull_roundtrip(transport: Transport) {
    let mut push = PushSocket::builder().bind(&bind_endpoint(transport)).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    let msg = era(2);

    push.push_async(&msg).await.unwrap();
    assert_eq!(pull.pull_async::<EraChanged>().await.unwrap(), msg);

    push.push_timeout_async(&msg, READY).await.unwrap();
    let got = pull.pull_async::<AnyMessage>().await.unwrap();
    assert!(matches!(&got, AnyMessage::EraChanged(m) if *m == msg), "got {got:?}");

    // A free-form dictionary, as Python services push them.
    let task = json!({"type": "RenderRequest", "id": "task-123", "parameters": {"resolution": [800, 600]}});
    push.push_async(&task).await.unwrap();
    assert_eq!(pull.pull_within_async::<Value>(READY).await.unwrap(), task);

    push.push_async(&msg).await.unwrap();
    assert_eq!(
        pull.pull_raw_async().await.unwrap(),
        br#"{"type":"EraChanged","era":"ai_future","biome":"forest"}"#
    );

    // A frame exactly as given.
    push.push_raw_async(br#"{"type": "Idle", "status": true}"#).await.unwrap();
    assert_eq!(pull.pull_async::<IdleStatus>().await.unwrap(), IdleStatus { status: true });
    assert!(pull.try_pull::<Value>().unwrap().is_none(), "nothing else was pushed");

    push.close().unwrap();
    pull.close().unwrap();
}

over_every_transport!(async pushpull_roundtrip);

/// The usual direction reversed: the subscriber and the pull socket bind, the publisher
/// and the push socket connect.
#[tokio::test]
async fn receivers_can_bind_and_senders_connect() {
    let mut subscriber =
        Subscriber::builder().bind("tcp://127.0.0.1:*").unwrap().subscribe("").build().unwrap();
    let mut publisher = Publisher::builder().connect(&subscriber.endpoint()).unwrap().build().unwrap();
    // A bound subscriber sends its subscriptions when it sees the connection, which
    // libzmq notices only inside a call on it: this one, or its next receive.
    subscriber.wait_connected(READY).unwrap();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();
    publisher.publish_async(&IdleStatus { status: true }).await.unwrap();
    assert_eq!(
        subscriber.receive_async::<IdleStatus>().await.unwrap(),
        (Topic::default(), IdleStatus { status: true })
    );

    let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut push = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    push.push_async(&IdleStatus { status: false }).await.unwrap();
    assert_eq!(pull.pull_async::<IdleStatus>().await.unwrap(), IdleStatus { status: false });
}

// ---------------------------------------------------------------------------------
// topics and fan-out

#[tokio::test]
async fn prefix_subscription_matches_longer_topics_exact_does_not() {
    let mut publisher = Publisher::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut prefix =
        Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe("status").build().unwrap();
    let mut exact = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_exact("status")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(publisher.wait_for_subscribers_to("status", 2, READY).unwrap(), 2);
    assert_eq!(publisher.subscribers_to("status-updates").unwrap(), 1);

    // The unwanted message first: had it been delivered, it would be received first.
    publisher.publish_to_async("status-updates", &era(0)).await.unwrap();
    publisher.publish_to_async("status", &era(1)).await.unwrap();

    assert_eq!(prefix.receive_async::<EraChanged>().await.unwrap(), ("status-updates".into(), era(0)));
    assert_eq!(prefix.receive_async::<EraChanged>().await.unwrap(), ("status".into(), era(1)));
    assert_eq!(exact.receive_async::<EraChanged>().await.unwrap(), ("status".into(), era(1)));
    assert!(exact.try_receive::<Value>().unwrap().is_none());
}

/// Three subscribers, each awaited in its own task on the multi-thread runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_receives_every_message() {
    let mut publisher = Publisher::builder()
        .bind(&bind_endpoint(Transport::Tcp))
        .unwrap()
        .topic("era")
        .unwrap()
        .build()
        .unwrap();
    let subscribers: Vec<Subscriber> = (0..3)
        .map(|_| {
            Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe("era").build().unwrap()
        })
        .collect();
    assert_eq!(publisher.wait_for_subscribers_async(3, READY).await.unwrap(), 3);
    let tasks: Vec<_> = subscribers
        .into_iter()
        .enumerate()
        .map(|(s, mut subscriber)| {
            tokio::spawn(async move {
                for i in 0..100 {
                    let (topic, v) = subscriber.receive_async::<Value>().await.unwrap();
                    assert_eq!((topic.as_str(), &v["seq"]), ("era", &json!(i)), "subscriber {s}");
                }
                assert!(subscriber.try_receive::<Value>().unwrap().is_none());
            })
        })
        .collect();
    for i in 0..100 {
        publisher.publish_async(&json!({"type": "Counter", "seq": i})).await.unwrap();
    }
    for task in tasks {
        task.await.unwrap();
    }
}

// ---------------------------------------------------------------------------------
// push/pull load balancing

#[tokio::test]
async fn push_round_robins_over_three_pullers() {
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let pullers: Vec<PullSocket> =
        (0..3).map(|_| PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap()).collect();
    assert_eq!(push.wait_for_peers(3, READY).unwrap(), 3);
    for seq in 0..300 {
        push.push_async(&json!({"type": "Task", "seq": seq})).await.unwrap();
    }

    // Each puller pulls concurrently until nothing more comes for 200 ms.
    let tasks: Vec<_> = pullers
        .into_iter()
        .map(|mut pull| {
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    match pull.pull_within_async::<Value>(SHORT).await {
                        Ok(v) => got.push(v["seq"].as_u64().unwrap()),
                        Err(e) if e.is_timeout() => return got,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut counts = Vec::new();
    for task in tasks {
        let got = task.await.unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "a puller got its share out of order: {got:?}");
        for seq in &got {
            assert!(seen.insert(*seq), "message {seq} delivered twice");
        }
        counts.push(got.len());
    }
    assert_eq!(seen.len(), 300, "every message delivered once, counts {counts:?}");
    assert_eq!(counts, [100, 100, 100], "libzmq's strict rotation gives each a third");
}

/// Three pushers, each pushing from its own task while one pull socket awaits them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_fair_queues_three_pushers_in_order() {
    let mut pull = PullSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pushers: Vec<PushSocket> =
        (0..3).map(|_| PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap()).collect();
    for push in &mut pushers {
        push.wait_connected(READY).unwrap();
    }
    let tasks: Vec<_> = pushers
        .into_iter()
        .enumerate()
        .map(|(sender, mut push)| {
            tokio::spawn(async move {
                for seq in 0..100 {
                    push.push_async(&json!({"type": "Task", "sender": sender, "seq": seq})).await.unwrap();
                }
                push.close().unwrap();
            })
        })
        .collect();
    let mut next = [0u64; 3];
    for _ in 0..300 {
        let v = pull.pull_async::<Value>().await.unwrap();
        let sender = v["sender"].as_u64().unwrap() as usize;
        assert_eq!(v["seq"].as_u64().unwrap(), next[sender], "sender {sender} out of order");
        next[sender] += 1;
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(next, [100, 100, 100]);
    assert!(pull.try_pull::<Value>().unwrap().is_none());
}

// ---------------------------------------------------------------------------------
// timeouts

#[tokio::test]
async fn receive_times_out_after_its_timeout() {
    let mut publisher =
        Publisher::builder().bind(&bind_endpoint(Transport::Inproc)).unwrap().build().unwrap();
    let mut subscriber = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_all()
        .receive_timeout(SHORT)
        .build()
        .unwrap();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();

    let (r, elapsed) = timed(subscriber.receive_async::<EraChanged>()).await;
    assert_timeout(r.unwrap_err(), Operation::Receive, SHORT, elapsed);
    let (r, elapsed) = timed(subscriber.receive_raw_async()).await;
    assert_timeout(r.unwrap_err(), Operation::Receive, SHORT, elapsed);
    let (r, elapsed) = timed(subscriber.receive_async::<AnyMessage>()).await;
    assert_timeout(r.unwrap_err(), Operation::Receive, SHORT, elapsed);

    // Per call, overriding the socket's timeout in both directions.
    let t = Duration::from_millis(300);
    let (r, elapsed) = timed(subscriber.receive_within_async::<Value>(t)).await;
    assert_timeout(r.unwrap_err(), Operation::Receive, t, elapsed);
    let t = Duration::from_millis(50);
    let (r, elapsed) = timed(subscriber.receive_within_async::<Value>(t)).await;
    assert_timeout(r.unwrap_err(), Operation::Receive, t, elapsed);
    // ... and the socket's own timeout applies again afterwards.
    let (r, elapsed) = timed(subscriber.receive_async::<Value>()).await;
    assert_timeout(r.unwrap_err(), Operation::Receive, SHORT, elapsed);

    // The socket still works after timing out.
    publisher.publish_async(&era(0)).await.unwrap();
    assert_eq!(subscriber.receive_async::<EraChanged>().await.unwrap().1, era(0));
}

#[tokio::test]
async fn pull_times_out_after_its_timeout() {
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pull =
        PullSocket::builder().connect(&push.endpoint()).unwrap().receive_timeout(SHORT).build().unwrap();
    push.wait_connected(READY).unwrap();

    let (r, elapsed) = timed(pull.pull_async::<EraChanged>()).await;
    assert_timeout(r.unwrap_err(), Operation::Pull, SHORT, elapsed);
    let t = Duration::from_millis(300);
    let (r, elapsed) = timed(pull.pull_within_async::<Value>(t)).await;
    assert_timeout(r.unwrap_err(), Operation::Pull, t, elapsed);
    let (r, elapsed) = timed(pull.pull_raw_async()).await;
    assert_timeout(r.unwrap_err(), Operation::Pull, SHORT, elapsed);
    let (r, elapsed) = timed(pull.pull_async::<AnyMessage>()).await;
    assert_timeout(r.unwrap_err(), Operation::Pull, SHORT, elapsed);

    push.push_async(&era(1)).await.unwrap();
    assert_eq!(pull.pull_async::<EraChanged>().await.unwrap(), era(1));
}

#[tokio::test]
async fn push_without_a_peer_times_out() {
    // Bound, nobody connected.
    let mut push = PushSocket::builder()
        .bind(&bind_endpoint(Transport::Tcp))
        .unwrap()
        .send_timeout(SHORT)
        .build()
        .unwrap();
    let (r, elapsed) = timed(push.push_async(&era(0))).await;
    assert_timeout(r.unwrap_err(), Operation::Push, SHORT, elapsed);
    let t = Duration::from_millis(300);
    let (r, elapsed) = timed(push.push_timeout_async(&era(0), t)).await;
    assert_timeout(r.unwrap_err(), Operation::Push, t, elapsed);
    let (r, elapsed) = timed(push.push_raw_async(b"{}")).await;
    assert_timeout(r.unwrap_err(), Operation::Push, SHORT, elapsed);
    let start = Instant::now();
    push.close().unwrap();
    assert!(start.elapsed() < SLACK, "nothing was queued, so close is immediate");

    // Connecting to a port nobody listens on: nothing is queued into nowhere.
    let dead = DeadPort::new();
    let mut push =
        PushSocket::builder().connect(&dead.endpoint).unwrap().send_timeout(SHORT).build().unwrap();
    let (r, elapsed) = timed(push.push_async(&era(0))).await;
    assert_timeout(r.unwrap_err(), Operation::Push, SHORT, elapsed);
    let start = Instant::now();
    push.close().unwrap();
    assert!(start.elapsed() < SLACK, "nothing was queued, so close is immediate");
}

#[tokio::test]
async fn waiting_for_absent_subscribers_times_out() {
    let mut publisher = Publisher::builder()
        .bind(&bind_endpoint(Transport::Tcp))
        .unwrap()
        .topic("era")
        .unwrap()
        .build()
        .unwrap();
    let (r, elapsed) = timed(publisher.wait_for_subscribers_async(1, SHORT)).await;
    assert_timeout(r.unwrap_err(), Operation::WaitSubscribers, SHORT, elapsed);

    // A subscriber to another topic does not count.
    let _other = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_exact("x")
        .unwrap()
        .build()
        .unwrap();
    let (r, elapsed) = timed(publisher.wait_for_subscribers_async(1, SHORT)).await;
    assert_timeout(r.unwrap_err(), Operation::WaitSubscribers, SHORT, elapsed);

    // One that matches does, and the wait ends as soon as it arrives.
    let _sub = Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe("e").build().unwrap();
    let (r, elapsed) = timed(publisher.wait_for_subscribers_async(1, READY)).await;
    assert_eq!(r.unwrap(), 1);
    assert!(elapsed < READY, "{elapsed:?}");
}

// ---------------------------------------------------------------------------------
// frames from another ZeroMQ peer: Python-formatted, malformed, multi-part

/// `json.dumps` output: `", "` and `": "` separators.
const PYTHON_JSON: &str = r#"{"type": "EraChanged", "era": "modern", "biome": "forest"}"#;

#[tokio::test]
async fn malformed_pull_frame_is_a_decode_error_and_the_next_arrives() {
    let endpoint = bind_endpoint(Transport::Inproc);
    let raw = global_context().socket(zmq::PUSH).unwrap();
    raw.set_linger(0).unwrap();
    raw.set_sndtimeo(5000).unwrap();
    raw.bind(&endpoint).unwrap();
    let mut pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();

    raw.send(&b"{not json"[..], 0).unwrap();
    raw.send(PYTHON_JSON.as_bytes(), 0).unwrap();
    let err = pull.pull_async::<EraChanged>().await.unwrap_err();
    assert_eq!(err.raw_frame(), Some(&b"{not json"[..]), "{err:?}");
    assert!(matches!(&err, Error::Decode(d) if matches!(d.kind(), DecodeErrorKind::Json(_))), "{err:?}");
    assert_eq!(pull.pull_async::<EraChanged>().await.unwrap(), era(1));

    // Valid JSON of another type, for a typed pull.
    raw.send(&br#"{"type": "Idle", "status": true}"#[..], 0).unwrap();
    raw.send(PYTHON_JSON.as_bytes(), 0).unwrap();
    let err = pull.pull_async::<EraChanged>().await.unwrap_err();
    assert_eq!(err.raw_frame(), Some(&br#"{"type": "Idle", "status": true}"#[..]));
    assert!(matches!(&err, Error::Decode(d) if matches!(d.kind(), DecodeErrorKind::WrongType { .. })));
    assert!(
        matches!(pull.pull_async::<AnyMessage>().await.unwrap(), AnyMessage::EraChanged(m) if m == era(1))
    );

    // A multi-part message (never used by the wire format) is one error with every part.
    raw.send_multipart([&b"part one"[..], &b"part two"[..]], 0).unwrap();
    raw.send(PYTHON_JSON.as_bytes(), 0).unwrap();
    match pull.pull_async::<Value>().await.unwrap_err() {
        Error::Decode(d) => {
            assert!(matches!(d.kind(), DecodeErrorKind::Multipart { parts: 2 }), "{d:?}");
            assert_eq!((d.raw(), d.extra_parts()), (&b"part one"[..], &[b"part two".to_vec()][..]));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(pull.pull_async::<EraChanged>().await.unwrap(), era(1));
    assert!(pull.try_pull::<Value>().unwrap().is_none());
}

#[tokio::test]
async fn malformed_pub_frame_is_a_decode_error_and_the_next_arrives() {
    // XPUB is PUB on the wire; it also shows when the subscription has arrived.
    let raw = global_context().socket(zmq::XPUB).unwrap();
    raw.set_linger(0).unwrap();
    raw.set_rcvtimeo(5000).unwrap();
    raw.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = raw.get_last_endpoint().unwrap().unwrap();
    let mut subscriber =
        Subscriber::builder().connect(&endpoint).unwrap().subscribe("status").build().unwrap();
    assert_eq!(raw.recv_bytes(0).unwrap(), b"\x01status", "the subscription reaches the raw publisher");

    for bad in [&b"status-no-separator"[..], b"status {\"type\": ", b"status [1, 2]"] {
        raw.send(bad, 0).unwrap();
        raw.send(format!("status {PYTHON_JSON}").as_bytes(), 0).unwrap();
        let err = subscriber.receive_async::<EraChanged>().await.unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err:?}");
        assert_eq!(err.raw_frame(), Some(bad));
        assert_eq!(subscriber.receive_async::<EraChanged>().await.unwrap(), ("status".into(), era(1)));
    }
    // Python's formatting, a longer topic and extra fields all arrive.
    raw.send(format!("status-updates {PYTHON_JSON}").as_bytes(), 0).unwrap();
    let (topic, msg) = subscriber.receive_async::<AnyMessage>().await.unwrap();
    assert_eq!(topic, "status-updates");
    assert!(matches!(msg, AnyMessage::EraChanged(m) if m == era(1)));
    raw.send(&br#"status {"type": "EraChanged", "era": "modern", "biome": "forest", "since": 1.5}"#[..], 0)
        .unwrap();
    assert_eq!(subscriber.receive_async::<EraChanged>().await.unwrap().1, era(1));
}

// ---------------------------------------------------------------------------------
// lossless and lossy publishing

#[tokio::test]
async fn lossless_publisher_times_out_instead_of_dropping() {
    let mut publisher = Publisher::builder()
        .bind(&bind_endpoint(Transport::Inproc))
        .unwrap()
        .lossless(true)
        .send_hwm(10)
        .send_timeout(SHORT)
        .build()
        .unwrap();
    let mut subscriber = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_all()
        .receive_hwm(10)
        .build()
        .unwrap();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();

    // The subscriber does not read: its queue fills, then publishing waits and fails.
    let mut accepted = 0u64;
    let (err, elapsed) = loop {
        let (r, elapsed) = timed(publisher.publish_async(&json!({"type": "Counter", "seq": accepted}))).await;
        match r {
            Ok(()) => accepted += 1,
            Err(e) => break (e, elapsed),
        }
        assert!(accepted < 10_000, "a lossless publisher kept accepting messages nobody reads");
    };
    assert_timeout(err, Operation::Publish, SHORT, elapsed);
    assert!(accepted >= 10, "the queue held only {accepted} messages");

    // A lossless publish parks until the subscriber reads (in another task, once told
    // to), is woken, and is delivered after everything accepted before it.
    let (go, go_rx) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        go_rx.await.unwrap();
        for seq in 0..=accepted {
            let (_, v) = subscriber.receive_async::<Value>().await.unwrap();
            assert_eq!(v["seq"], json!(seq), "nothing accepted was dropped");
        }
        subscriber
    });
    let parked = json!({"type": "Counter", "seq": accepted});
    // Its own send timeout (200 ms) bounds it: it must be woken by the reader well before.
    let mut publish = pin!(publisher.publish_async(&parked));
    tokio::select! {
        biased;
        r = &mut publish => panic!("a publish into a full queue returned {r:?}"),
        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    go.send(()).unwrap();
    publish.await.expect("the parked publish was never woken");
    let mut subscriber = reader.await.unwrap();
    assert!(subscriber.try_receive::<Value>().unwrap().is_none(), "the refused message was not sent");
}

#[tokio::test]
async fn lossy_publisher_never_blocks() {
    for transport in [Transport::Inproc, Transport::Tcp] {
        let mut publisher =
            Publisher::builder().bind(&bind_endpoint(transport)).unwrap().send_hwm(10).build().unwrap();
        let mut subscriber = Subscriber::builder()
            .connect(&publisher.endpoint())
            .unwrap()
            .subscribe_all()
            .receive_hwm(10)
            .build()
            .unwrap();
        publisher.wait_for_subscribers_async(1, READY).await.unwrap();

        let start = Instant::now();
        for seq in 0..10_000 {
            // A blocked publish would fail after the 1 s send timeout.
            publisher.publish_async(&json!({"type": "Counter", "seq": seq})).await.unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(5), "10,000 publishes took {:?}", start.elapsed());

        let mut received = 0;
        let mut last = -1i64;
        while let Some((_, v)) = subscriber.try_receive::<Value>().unwrap() {
            let seq = v["seq"].as_i64().unwrap();
            assert!(seq > last, "out of order: {seq} after {last}");
            last = seq;
            received += 1;
        }
        assert!(received < 10_000, "{transport:?}: a full subscriber queue should drop messages");
    }
}

// ---------------------------------------------------------------------------------
// cancellation

/// A receive that loses a `select!` race while nothing is there, then is retried, gets
/// the message sent after the cancellation, and only that one.
#[tokio::test]
async fn a_receive_cancelled_by_select_then_retried_gets_the_next_message() {
    let mut publisher = Publisher::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut subscriber =
        Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe_all().build().unwrap();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();

    for round in 0..3 {
        tokio::select! {
            r = subscriber.receive_within_async::<EraChanged>(READY) => panic!("nothing was published, got {r:?}"),
            r = pull.pull_within_async::<EraChanged>(READY) => panic!("nothing was pushed, got {r:?}"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        publisher.publish_async(&era(round)).await.unwrap();
        push.push_async(&era(round + 1)).await.unwrap();
        assert_eq!(subscriber.receive_async::<EraChanged>().await.unwrap().1, era(round));
        assert_eq!(pull.pull_async::<EraChanged>().await.unwrap(), era(round + 1));
    }
    assert!(subscriber.try_receive::<Value>().unwrap().is_none());
    assert!(pull.try_pull::<Value>().unwrap().is_none());
}

/// `tokio::time::timeout` drops the pull future when it fires; nothing is lost, also
/// when messages arrive while some pulls are timing out.
#[tokio::test]
async fn a_pull_dropped_by_timeout_loses_nothing() {
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();

    // Nothing there: the timeout fires and drops the pull.
    let (r, elapsed) =
        timed(tokio::time::timeout(Duration::from_millis(30), pull.pull_async::<Heartbeat>())).await;
    assert!(r.is_err(), "nothing was pushed, got {r:?}");
    assert!(elapsed >= Duration::from_millis(30));

    // Messages trickle in from another thread while 1 ms timeouts keep dropping pulls.
    const N: u64 = 200;
    let sender = std::thread::spawn(move || {
        for seq in 0..N {
            push.push(&numbered(seq)).unwrap();
            if seq % 20 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        push
    });
    let mut next = 0;
    let mut dropped = 0;
    let deadline = Instant::now() + READY;
    while next < N && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(1), pull.pull_async::<Heartbeat>()).await {
            Ok(r) => {
                assert_eq!(seq_of(&r.unwrap()), next, "lost or duplicated");
                next += 1;
            }
            Err(_elapsed) => dropped += 1,
        }
    }
    let _push = sender.join().unwrap();
    assert_eq!(next, N, "received {next} of {N}");
    assert!(dropped > 0, "no pull was dropped by its timeout, so nothing was tested");
    assert!(pull.try_pull::<Value>().unwrap().is_none(), "a message was duplicated");
    eprintln!("a_pull_dropped_by_timeout_loses_nothing: {dropped} pulls dropped by their timeout");
}

#[derive(Debug, Clone, Copy)]
enum Racer {
    /// A 1 ms timer: wins while the sender pauses.
    Sleep,
    /// Ready on the second poll: wins nearly every time the pull has to wait.
    Yield,
}

async fn race(racer: Racer) {
    match racer {
        Racer::Sleep => tokio::time::sleep(Duration::from_millis(1)).await,
        Racer::Yield => tokio::task::yield_now().await,
    }
}

/// Receives 100,000 numbered messages, racing every pull against `racer` in `select!`,
/// and checks none is lost or duplicated. The sender pauses every 1,000 messages, once
/// the receiver has caught up, so the racer wins some races with the queue empty.
async fn stress(racer: Racer, runtime: &str) {
    const N: u64 = 100_000;
    const PAUSE_EVERY: u64 = 1_000;
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    let received = Arc::new(AtomicU64::new(0));

    let seen = received.clone();
    let sender = std::thread::spawn(move || {
        for seq in 0..N {
            push.push_timeout(&numbered(seq), READY).unwrap();
            if seq % PAUSE_EVERY == PAUSE_EVERY - 1 {
                let deadline = Instant::now() + READY;
                while seen.load(Ordering::Acquire) <= seq && Instant::now() < deadline {
                    std::thread::yield_now();
                }
                std::thread::sleep(Duration::from_millis(3));
            }
        }
        push
    });

    let start = Instant::now();
    // A spawned task: on the multi-thread runtime it runs on (and may move between) workers.
    let receiver = tokio::spawn(async move {
        let (mut next, mut racer_wins) = (0u64, 0u64);
        while next < N {
            tokio::select! {
                r = pull.pull_async::<Heartbeat>() => {
                    let seq = seq_of(&r.unwrap());
                    assert_eq!(seq, next, "expected message {next}, got {seq}: lost or duplicated");
                    next += 1;
                    received.store(next, Ordering::Release);
                }
                _ = race(racer) => racer_wins += 1,
            }
        }
        (pull, racer_wins)
    });
    let (mut pull, racer_wins) = receiver.await.unwrap();
    let elapsed = start.elapsed();
    let _push = sender.join().unwrap();
    assert!(pull.try_pull::<Value>().unwrap().is_none(), "a message was duplicated");
    eprintln!("stress {runtime} {racer:?}: {N} messages in {elapsed:?}, the racer won {racer_wins} races");
    assert!(racer_wins > 0, "the racer never won, so no pull was cancelled");
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn stress_select_with_timer_current_thread() {
    stress(Racer::Sleep, "current_thread").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stress_select_with_timer_multi_thread() {
    stress(Racer::Sleep, "multi_thread").await;
}

#[tokio::test(flavor = "current_thread")]
async fn stress_select_with_yield_current_thread() {
    stress(Racer::Yield, "current_thread").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stress_select_with_yield_multi_thread() {
    stress(Racer::Yield, "multi_thread").await;
}

// ---------------------------------------------------------------------------------
// back-pressure

/// Fills a push/pull pair whose peer does not read, until a push waits 100 ms in vain;
/// then a `push_async` is shown pending, the peer drains, and that same push completes.
async fn push_stuck_at_hwm_resumes_when_drained(transport: Transport, payload: usize) {
    let mut push =
        PushSocket::builder().bind(&bind_endpoint(transport)).unwrap().send_hwm(1).build().unwrap();
    let pull = PullSocket::builder().connect(&push.endpoint()).unwrap().receive_hwm(1).build().unwrap();
    push.wait_connected(READY).unwrap();
    let msg = |seq: u64| json!({"type": "Task", "seq": seq, "data": "x".repeat(payload)});

    // The peer: drains only when told to, then reads everything, the parked push last.
    let (go, go_rx) = tokio::sync::oneshot::channel::<u64>();
    let drain = tokio::spawn(async move {
        let mut pull = pull;
        let last = go_rx.await.unwrap();
        for seq in 0..=last {
            let v = pull.pull_within_async::<Value>(READY).await.unwrap();
            assert_eq!(v["seq"], json!(seq));
        }
        pull
    });

    // Push until a push stays pending for 100 ms: the queues are full.
    let mut seq = 0u64;
    let elapsed = loop {
        assert!(seq < 100_000, "the queues never filled");
        let next = msg(seq);
        let mut pending = pin!(push.push_timeout_async(&next, Duration::from_secs(10)));
        tokio::select! {
            biased;
            r = &mut pending => {
                r.unwrap();
                seq += 1;
                continue;
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        go.send(seq).unwrap();
        // The same future, re-awaited: it must be woken by the drain, well before its 10 s.
        let (r, elapsed) = timed(tokio::time::timeout(READY, pending)).await;
        r.expect("the parked push was never woken").unwrap();
        break elapsed;
    };
    let mut pull = drain.await.unwrap();
    assert!(pull.try_pull::<Value>().unwrap().is_none());
    eprintln!("{transport:?}: {seq} messages of {payload} bytes filled the queues; the parked push took {elapsed:?}");
}

#[tokio::test]
async fn push_stuck_at_hwm_resumes_when_drained_inproc() {
    push_stuck_at_hwm_resumes_when_drained(Transport::Inproc, 10).await;
}

#[tokio::test]
async fn push_stuck_at_hwm_resumes_when_drained_tcp() {
    // Large messages, so the kernel's socket buffers fill quickly too.
    push_stuck_at_hwm_resumes_when_drained(Transport::Tcp, 256 * 1024).await;
}

// ---------------------------------------------------------------------------------
// the executor stays free

/// On a current-thread runtime, a receive with nothing to read leaves the thread to the
/// other tasks: had it blocked, the `biased` select would have waited the 10 s out in it.
#[tokio::test(flavor = "current_thread")]
async fn a_pending_receive_lets_other_tasks_run() {
    let mut publisher = Publisher::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut subscriber =
        Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe_all().build().unwrap();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();
    let mut pull = PullSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();

    let counter = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let ticks = counter.clone();
    let ticker = tokio::spawn(async move {
        for i in 0..5 {
            ticks.fetch_add(1, Ordering::SeqCst);
            tx.send(i).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let start = Instant::now();
    let mut got = Vec::new();
    tokio::select! {
        biased;
        r = subscriber.receive_within_async::<Value>(Duration::from_secs(10)) => panic!("receive returned {r:?}"),
        r = pull.pull_within_async::<Value>(Duration::from_secs(10)) => panic!("pull returned {r:?}"),
        () = async { while let Some(i) = rx.recv().await { got.push(i) } } => {}
    }
    ticker.await.unwrap();
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert_eq!(counter.load(Ordering::SeqCst), 5);
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());

    // The receive still works afterwards.
    publisher.publish_async(&era(0)).await.unwrap();
    assert_eq!(subscriber.receive_async::<EraChanged>().await.unwrap().1, era(0));
}

// ---------------------------------------------------------------------------------
// runtimes

struct NoopWaker;

impl Wake for NoopWaker {
    fn wake(self: Arc<Self>) {}
}

/// Polls `fut` once, outside any runtime.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(NoopWaker));
    pin!(fut).poll(&mut Context::from_waker(&waker))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Outside a runtime an async call that would have to wait returns `Error::Runtime` at
/// once (no panic, no hang); one that need not wait just completes. The socket is
/// unharmed and works in a runtime afterwards.
#[test]
fn async_calls_outside_a_runtime_return_a_runtime_error() {
    let endpoint = bind_endpoint(Transport::Inproc);
    let mut push = PushSocket::builder().bind(&endpoint).unwrap().send_timeout(SHORT).build().unwrap();
    let mut pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    let mut publisher =
        Publisher::builder().bind(&bind_endpoint(Transport::Inproc)).unwrap().build().unwrap();
    let mut subscriber =
        Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe_all().build().unwrap();
    let mut lonely = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();

    let runtime_error = |r: Poll<Result<(), Error>>, op: Operation| match r {
        Poll::Ready(Err(Error::Runtime { op: o, source })) => {
            assert_eq!(o, op);
            assert!(source.to_string().contains("tokio runtime"), "{source}");
        }
        other => panic!("expected Error::Runtime for {op}, got {other:?}"),
    };
    runtime_error(poll_once(async { pull.pull_async::<Value>().await.map(drop) }), Operation::Pull);
    runtime_error(
        poll_once(async { subscriber.receive_async::<Value>().await.map(drop) }),
        Operation::Receive,
    );
    runtime_error(poll_once(lonely.push_async(&era(0))), Operation::Push);
    runtime_error(
        poll_once(async { publisher.wait_for_subscribers_async(2, READY).await.map(drop) }),
        Operation::WaitSubscribers,
    );

    // Nothing to wait for: it completes without a runtime.
    assert!(matches!(poll_once(push.push_async(&era(1))), Poll::Ready(Ok(()))));
    assert!(matches!(poll_once(pull.pull_async::<EraChanged>()), Poll::Ready(Ok(m)) if m == era(1)));

    // The same sockets in a runtime.
    runtime().block_on(async {
        let (r, elapsed) = timed(pull.pull_within_async::<Value>(SHORT)).await;
        assert_timeout(r.unwrap_err(), Operation::Pull, SHORT, elapsed);
        push.push_async(&era(2)).await.unwrap();
        assert_eq!(pull.pull_async::<EraChanged>().await.unwrap(), era(2));
    });
}

/// A socket first awaited in one runtime keeps working, woken by I/O, in the next one
/// after the first is gone (`#[tokio::main]` after a setup runtime, or one runtime per
/// test in a helper that keeps sockets).
#[test]
fn a_socket_outlives_the_runtime_that_first_awaited_it() {
    let endpoint = bind_endpoint(Transport::Inproc);
    let mut push = PushSocket::builder().bind(&endpoint).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    let first = runtime();
    first.block_on(async {
        // Waits (so registers with this runtime), then gets a message.
        let _ = tokio::time::timeout(Duration::from_millis(10), pull.pull_async::<Value>()).await;
        push.push_async(&era(0)).await.unwrap();
        assert_eq!(pull.pull_async::<EraChanged>().await.unwrap(), era(0));
    });
    drop(first);

    runtime().block_on(async {
        // The pull must wait for a message pushed by another task, woken by its I/O.
        let (pulled, pushed) = tokio::join!(pull.pull_within_async::<EraChanged>(READY), async {
            tokio::task::yield_now().await;
            push.push_async(&era(1)).await
        });
        pushed.unwrap();
        assert_eq!(pulled.unwrap(), era(1));
    });
}

/// The same while the first runtime still exists but no longer runs.
#[test]
fn a_socket_moves_to_another_runtime_while_the_first_is_idle() {
    let endpoint = bind_endpoint(Transport::Inproc);
    let mut push = PushSocket::builder().bind(&endpoint).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    let first = runtime();
    first.block_on(async {
        let _ = tokio::time::timeout(Duration::from_millis(10), pull.pull_async::<Value>()).await;
    });

    runtime().block_on(async {
        let start = Instant::now();
        let (pulled, pushed) = tokio::join!(pull.pull_within_async::<EraChanged>(READY), async {
            tokio::task::yield_now().await;
            push.push_async(&era(1)).await
        });
        pushed.unwrap();
        assert_eq!(pulled.unwrap(), era(1));
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the pull was not woken by I/O: {:?}",
            start.elapsed()
        );
    });
    drop(first);
}

// ---------------------------------------------------------------------------------
// Send

fn assert_send<T: Send>(_: &T) {}

/// The futures can be spawned on the multi-thread runtime (also shown by the tests that
/// `tokio::spawn` socket loops).
#[test]
fn async_futures_are_send() {
    let endpoint = bind_endpoint(Transport::Inproc);
    let mut publisher = Publisher::builder().bind(&endpoint).unwrap().build().unwrap();
    let mut subscriber = Subscriber::builder().connect(&endpoint).unwrap().subscribe_all().build().unwrap();
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Inproc)).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    assert_send(&publisher.publish_async(&era(0)));
    assert_send(&publisher.publish_to_async("t", &era(0)));
    assert_send(&publisher.wait_for_subscribers_async(1, READY));
    assert_send(&subscriber.receive_async::<EraChanged>());
    assert_send(&subscriber.receive_within_async::<AnyMessage>(READY));
    assert_send(&subscriber.receive_async::<AnyMessage>());
    assert_send(&subscriber.receive_raw_async());
    assert_send(&push.push_async(&era(0)));
    assert_send(&push.push_timeout_async(&era(0), READY));
    assert_send(&push.push_raw_async(b"{}"));
    assert_send(&pull.pull_async::<Value>());
    assert_send(&pull.pull_within_async::<Value>(READY));
    assert_send(&pull.pull_async::<AnyMessage>());
    assert_send(&pull.pull_raw_async());
}

// ---------------------------------------------------------------------------------
// measurement

/// Pull throughput, blocking vs `pull_async` on a current-thread runtime, with the same
/// blocking sender thread: 200,000 heartbeats over tcp loopback, best of three each.
/// Then the receive path alone: draining 200,000 heartbeats already queued (inproc).
#[test]
#[ignore = "measurement: cargo test --release --test async_sockets -- --ignored --nocapture"]
fn throughput_async_vs_blocking() {
    const N: u64 = 200_000;
    fn pull_all(pull: &mut PullSocket, asynchronous: bool) {
        if asynchronous {
            runtime().block_on(async {
                for _ in 0..N {
                    pull.pull_async::<Heartbeat>().await.unwrap();
                }
            });
        } else {
            for _ in 0..N {
                pull.pull::<Heartbeat>().unwrap();
            }
        }
    }
    fn over_tcp(asynchronous: bool) -> Duration {
        let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
        push.wait_connected(READY).unwrap();
        let start = Instant::now();
        let sender = std::thread::spawn(move || {
            let hb = Heartbeat::now("throughput");
            for _ in 0..N {
                push.push_timeout(&hb, READY).unwrap();
            }
            push
        });
        pull_all(&mut pull, asynchronous);
        let elapsed = start.elapsed();
        drop(sender.join().unwrap());
        elapsed
    }
    fn queued(asynchronous: bool) -> Duration {
        let endpoint = bind_endpoint(Transport::Inproc);
        let mut push = PushSocket::builder().bind(&endpoint).unwrap().send_hwm(0).build().unwrap();
        let mut pull = PullSocket::builder().connect(&endpoint).unwrap().receive_hwm(0).build().unwrap();
        let hb = Heartbeat::now("throughput");
        for _ in 0..N {
            push.push(&hb).unwrap();
        }
        let start = Instant::now();
        pull_all(&mut pull, asynchronous);
        start.elapsed()
    }
    let rate = |d: Duration| N as f64 / d.as_secs_f64();
    for (what, run) in
        [("tcp, sender thread", over_tcp as fn(bool) -> Duration), ("queued, receive only", queued)]
    {
        let (mut blocking, mut asynchronous) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            blocking = blocking.min(run(false));
            asynchronous = asynchronous.min(run(true));
        }
        eprintln!(
            "{what}: blocking {:.0} msg/s ({blocking:?}), async {:.0} msg/s ({asynchronous:?}), async/blocking {:.2}",
            rate(blocking),
            rate(asynchronous),
            rate(asynchronous) / rate(blocking)
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn wait_for_peers_async_does_not_block_the_executor() {
    let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let endpoint = push.endpoint();
    // Nobody there: a bounded wait that leaves the executor free.
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let started = std::time::Instant::now();
    let err = push.wait_for_peers_async(1, Duration::from_millis(200)).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(ticks.load(std::sync::atomic::Ordering::Relaxed) >= 5, "the other task ran while we waited");
    ticker.abort();
    // Two pullers connect later, from another task; the wait sees both.
    let pullers = tokio::spawn(async move {
        let a = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
        let b = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
        (a, b)
    });
    assert_eq!(push.wait_for_peers_async(2, Duration::from_secs(10)).await.unwrap(), 2);
    let (mut a, mut b) = pullers.await.unwrap();
    a.wait_connected_async(Duration::from_secs(10)).await.unwrap();
    b.wait_connected_async(Duration::from_secs(10)).await.unwrap();
}

/// The raw and per-topic operations have async twins: `publish_raw_async`,
/// `wait_for_subscribers_to_async`, `receive_raw_within_async` and
/// `pull_raw_within_async`, each bounded by its own timeout.
#[tokio::test]
async fn raw_and_per_topic_async_twins() {
    let endpoint = bind_endpoint(Transport::Inproc);
    let mut publisher = Publisher::builder().bind(&endpoint).unwrap().topic("era").unwrap().build().unwrap();
    let mut sub = Subscriber::builder().connect(&endpoint).unwrap().subscribe("raw").build().unwrap();
    let (out, took) = timed(publisher.wait_for_subscribers_to_async("other", 1, SHORT)).await;
    assert_timeout(out.unwrap_err(), Operation::WaitSubscribers, SHORT, took);
    assert_eq!(publisher.wait_for_subscribers_to_async("raw", 1, READY).await.unwrap(), 1);
    publisher.publish_raw_async(b"raw {\"type\": \"IdleStatus\", \"status\": true}").await.unwrap();
    assert_eq!(
        sub.receive_raw_within_async(READY).await.unwrap(),
        b"raw {\"type\": \"IdleStatus\", \"status\": true}"
    );
    let (out, took) = timed(sub.receive_raw_within_async(SHORT)).await;
    assert_timeout(out.unwrap_err(), Operation::Receive, SHORT, took);

    let endpoint = bind_endpoint(Transport::Inproc);
    let mut pull = PullSocket::builder().bind(&endpoint).unwrap().build().unwrap();
    let mut push = PushSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    push.push_raw_async(b"not json").await.unwrap();
    assert_eq!(pull.pull_raw_within_async(READY).await.unwrap(), b"not json");
    let (out, took) = timed(pull.pull_raw_within_async(SHORT)).await;
    assert_timeout(out.unwrap_err(), Operation::Pull, SHORT, took);
    // And the blocking one.
    push.push_raw(b"also raw").unwrap();
    assert_eq!(pull.pull_raw_within(READY).unwrap(), b"also raw");
    let start = Instant::now();
    let err = pull.pull_raw_within(SHORT).unwrap_err();
    assert_timeout(err, Operation::Pull, SHORT, start.elapsed());
}
