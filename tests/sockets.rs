//! The four socket types over real ZeroMQ connections: pub/sub and push/pull over tcp,
//! ipc and inproc, topics, fan-out and fan-in, bounded timeouts, frames written the
//! Python way, endpoint validation, lossless publishing, and `Send`.
//!
//! Every test uses its own endpoints (an ephemeral tcp port, a unique ipc path, a unique
//! inproc name), so the tests run in parallel, and waits for readiness with
//! `wait_for_subscribers` / `wait_connected` / `wait_for_peers`, never with a sleep.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use experimance_common::socket::{
    global_context, EndpointError, EndpointProblem, Error, Operation, Publisher, PullSocket, PushSocket,
    Subscriber,
};
use experimance_common::{codec, AnyMessage, EraChanged, IdleStatus};
use serde_json::{json, Value};

mod support;
use support::net::*;
use support::{assert_timeout, era, over_every_transport};

// ---------------------------------------------------------------------------------
// pub/sub and push/pull over every transport

fn pubsub_roundtrip(transport: Transport) {
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
    publisher.wait_for_subscribers(1, READY).unwrap();
    publisher.wait_for_subscribers_to("explicit", 1, READY).unwrap();
    let msg = era(1);

    // Typed.
    publisher.publish(&msg).unwrap();
    let (topic, got) = subscriber.receive::<EraChanged>().unwrap();
    assert_eq!((topic.as_str(), &got), ("era", &msg));

    // Any message type.
    publisher.publish(&msg).unwrap();
    let (topic, got) = subscriber.receive::<AnyMessage>().unwrap();
    assert_eq!(topic, "era");
    assert!(matches!(&got, AnyMessage::EraChanged(m) if *m == msg), "got {got:?}");

    // Untyped JSON.
    publisher.publish(&msg).unwrap();
    let (topic, got) = subscriber.receive::<Value>().unwrap();
    assert_eq!(topic, "era");
    assert_eq!(got, json!({"type": "EraChanged", "era": "modern", "biome": "forest"}));

    // Raw: exactly the wire frame.
    publisher.publish(&msg).unwrap();
    let mut expected = Vec::new();
    codec::encode_pub("era", &msg, &mut expected).unwrap();
    assert_eq!(subscriber.receive_raw().unwrap(), &expected[..]);
    assert_eq!(expected, br#"era {"type":"EraChanged","era":"modern","biome":"forest"}"#);

    // An explicit topic instead of the default one, then the default again.
    publisher.publish_to("explicit", &era(2)).unwrap();
    publisher.publish(&era(0)).unwrap();
    assert_eq!(subscriber.receive::<EraChanged>().unwrap(), ("explicit".into(), era(2)));
    assert_eq!(subscriber.receive::<EraChanged>().unwrap(), ("era".into(), era(0)));
    assert!(subscriber.try_receive::<Value>().unwrap().is_none(), "nothing else was published");

    subscriber.close().unwrap();
    publisher.close().unwrap();
}

over_every_transport!(pubsub_roundtrip);

fn pushpull_roundtrip(transport: Transport) {
    let mut push = PushSocket::builder().bind(&bind_endpoint(transport)).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    let msg = era(2);

    push.push(&msg).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), msg);

    push.push(&msg).unwrap();
    let got = pull.pull::<AnyMessage>().unwrap();
    assert!(matches!(&got, AnyMessage::EraChanged(m) if *m == msg), "got {got:?}");

    // A free-form dictionary, as Python services push them.
    let task = json!({"type": "RenderRequest", "id": "task-123", "parameters": {"resolution": [800, 600]}});
    push.push(&task).unwrap();
    assert_eq!(pull.pull::<Value>().unwrap(), task);

    push.push(&msg).unwrap();
    assert_eq!(pull.pull_raw().unwrap(), br#"{"type":"EraChanged","era":"ai_future","biome":"forest"}"#);
    assert!(pull.try_pull::<Value>().unwrap().is_none(), "nothing else was pushed");

    push.close().unwrap();
    pull.close().unwrap();
}

over_every_transport!(pushpull_roundtrip);

/// The usual direction reversed (later Python versions allow it): the subscriber and
/// the pull socket bind, the publisher and the push socket connect.
#[test]
fn receivers_can_bind_and_senders_connect() {
    let mut subscriber =
        Subscriber::builder().bind("tcp://127.0.0.1:*").unwrap().subscribe("").build().unwrap();
    let mut publisher = Publisher::builder().connect(&subscriber.endpoint()).unwrap().build().unwrap();
    // A bound subscriber sends its subscriptions once it sees the connection: its
    // `wait_connected` must make it do so (libzmq would wait for its next receive).
    subscriber.wait_connected(READY).unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();
    publisher.publish(&IdleStatus { status: true }).unwrap();
    assert_eq!(
        subscriber.receive::<IdleStatus>().unwrap(),
        (Default::default(), IdleStatus { status: true })
    );

    let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut push = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    push.push(&IdleStatus { status: false }).unwrap();
    assert_eq!(pull.pull::<IdleStatus>().unwrap(), IdleStatus { status: false });
}

// ---------------------------------------------------------------------------------
// topics

#[test]
fn prefix_subscription_matches_longer_topics_exact_does_not() {
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
    // Both subscriptions match the topic "status"; only the prefix one "status-updates".
    assert_eq!(publisher.wait_for_subscribers_to("status", 2, READY).unwrap(), 2);
    assert_eq!(publisher.subscribers_to("status-updates").unwrap(), 1);

    // The unwanted message first: had it been delivered, it would be received first.
    publisher.publish_to("status-updates", &era(0)).unwrap();
    publisher.publish_to("status", &era(1)).unwrap();

    assert_eq!(prefix.receive::<EraChanged>().unwrap(), ("status-updates".into(), era(0)));
    assert_eq!(prefix.receive::<EraChanged>().unwrap(), ("status".into(), era(1)));
    assert_eq!(exact.receive::<EraChanged>().unwrap(), ("status".into(), era(1)));
    assert!(exact.try_receive::<Value>().unwrap().is_none());
}

#[test]
fn every_subscriber_receives_every_message() {
    let mut publisher = Publisher::builder()
        .bind(&bind_endpoint(Transport::Tcp))
        .unwrap()
        .topic("era")
        .unwrap()
        .build()
        .unwrap();
    let mut subscribers: Vec<Subscriber> = (0..3)
        .map(|_| {
            Subscriber::builder().connect(&publisher.endpoint()).unwrap().subscribe("era").build().unwrap()
        })
        .collect();
    assert_eq!(publisher.wait_for_subscribers(3, READY).unwrap(), 3);
    for i in 0..100 {
        publisher.publish(&json!({"type": "Counter", "seq": i})).unwrap();
    }
    for (s, subscriber) in subscribers.iter_mut().enumerate() {
        for i in 0..100 {
            let (topic, v) = subscriber.receive::<Value>().unwrap();
            assert_eq!((topic.as_str(), &v["seq"]), ("era", &json!(i)), "subscriber {s}");
        }
        assert!(subscriber.try_receive::<Value>().unwrap().is_none());
    }
}

// ---------------------------------------------------------------------------------
// push/pull load balancing

#[test]
fn push_round_robins_over_three_pullers() {
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pullers: Vec<PullSocket> =
        (0..3).map(|_| PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap()).collect();
    assert_eq!(push.wait_for_peers(3, READY).unwrap(), 3);
    for seq in 0..300 {
        push.push(&json!({"type": "Task", "seq": seq})).unwrap();
    }

    let mut seen = HashSet::new();
    let mut counts = [0usize; 3];
    let deadline = Instant::now() + READY;
    while seen.len() < 300 && Instant::now() < deadline {
        for (i, pull) in pullers.iter_mut().enumerate() {
            match pull.pull_within::<Value>(Duration::from_millis(10)) {
                Ok(v) => {
                    let seq = v["seq"].as_u64().unwrap();
                    assert!(seen.insert(seq), "message {seq} delivered twice");
                    counts[i] += 1;
                }
                Err(e) if e.is_timeout() => {}
                Err(e) => panic!("{e}"),
            }
        }
    }
    assert_eq!(seen.len(), 300, "every message delivered once, counts {counts:?}");
    // libzmq's load balancer is a strict rotation over the pipes that can take a
    // message; with every peer attached before the first push and no queue full, each
    // gets exactly a third.
    assert_eq!(counts, [100, 100, 100]);
    for pull in &mut pullers {
        assert!(pull.try_pull::<Value>().unwrap().is_none());
    }
}

#[test]
fn pull_fair_queues_three_pushers_in_order() {
    let mut pull = PullSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pushers: Vec<PushSocket> =
        (0..3).map(|_| PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap()).collect();
    for push in &mut pushers {
        push.wait_connected(READY).unwrap();
    }
    for seq in 0..100 {
        for (sender, push) in pushers.iter_mut().enumerate() {
            push.push(&json!({"type": "Task", "sender": sender, "seq": seq})).unwrap();
        }
    }
    let mut next = [0u64; 3];
    for _ in 0..300 {
        let v = pull.pull::<Value>().unwrap();
        let sender = v["sender"].as_u64().unwrap() as usize;
        assert_eq!(v["seq"].as_u64().unwrap(), next[sender], "sender {sender} out of order");
        next[sender] += 1;
    }
    assert_eq!(next, [100, 100, 100]);
    assert!(pull.try_pull::<Value>().unwrap().is_none());
}

// ---------------------------------------------------------------------------------
// timeouts

#[test]
fn receive_times_out_after_its_timeout() {
    let mut publisher =
        Publisher::builder().bind(&bind_endpoint(Transport::Inproc)).unwrap().build().unwrap();
    let mut subscriber = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_all()
        .receive_timeout(SHORT)
        .build()
        .unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();

    let start = Instant::now();
    let err = subscriber.receive::<EraChanged>().unwrap_err();
    assert_timeout(err, Operation::Receive, SHORT, start.elapsed());

    let start = Instant::now();
    let err = subscriber.receive_raw().unwrap_err();
    assert_timeout(err, Operation::Receive, SHORT, start.elapsed());

    // Per call, overriding the socket's timeout in both directions.
    let start = Instant::now();
    let err = subscriber.receive_within::<Value>(Duration::from_millis(300)).unwrap_err();
    assert_timeout(err, Operation::Receive, Duration::from_millis(300), start.elapsed());
    let start = Instant::now();
    let err = subscriber.receive_within::<Value>(Duration::from_millis(50)).unwrap_err();
    assert_timeout(err, Operation::Receive, Duration::from_millis(50), start.elapsed());
    // ... and the socket's own timeout applies again afterwards.
    let start = Instant::now();
    let err = subscriber.receive::<AnyMessage>().unwrap_err();
    assert_timeout(err, Operation::Receive, SHORT, start.elapsed());

    let start = Instant::now();
    assert!(subscriber.try_receive::<EraChanged>().unwrap().is_none());
    assert!(start.elapsed() < Duration::from_millis(50), "try_receive waited {:?}", start.elapsed());

    // The socket still works after timing out.
    publisher.publish(&era(0)).unwrap();
    assert_eq!(subscriber.receive::<EraChanged>().unwrap().1, era(0));
}

#[test]
fn pull_times_out_after_its_timeout() {
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Tcp)).unwrap().build().unwrap();
    let mut pull =
        PullSocket::builder().connect(&push.endpoint()).unwrap().receive_timeout(SHORT).build().unwrap();
    push.wait_connected(READY).unwrap();

    let start = Instant::now();
    let err = pull.pull::<EraChanged>().unwrap_err();
    assert_timeout(err, Operation::Pull, SHORT, start.elapsed());

    let start = Instant::now();
    let err = pull.pull_within::<Value>(Duration::from_millis(300)).unwrap_err();
    assert_timeout(err, Operation::Pull, Duration::from_millis(300), start.elapsed());

    let start = Instant::now();
    let err = pull.pull_raw().unwrap_err();
    assert_timeout(err, Operation::Pull, SHORT, start.elapsed());

    let start = Instant::now();
    assert!(pull.try_pull::<Value>().unwrap().is_none());
    assert!(start.elapsed() < Duration::from_millis(50), "try_pull waited {:?}", start.elapsed());

    push.push(&era(1)).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), era(1));
}

#[test]
fn push_without_a_peer_times_out() {
    // Bound, nobody connected.
    let mut push = PushSocket::builder()
        .bind(&bind_endpoint(Transport::Tcp))
        .unwrap()
        .send_timeout(SHORT)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = push.push(&era(0)).unwrap_err();
    assert_timeout(err, Operation::Push, SHORT, start.elapsed());
    let start = Instant::now();
    let err = push.push_timeout(&era(0), Duration::from_millis(300)).unwrap_err();
    assert_timeout(err, Operation::Push, Duration::from_millis(300), start.elapsed());
    let start = Instant::now();
    assert!(!push.try_push(&era(0)).unwrap());
    assert!(start.elapsed() < Duration::from_millis(50), "try_push waited {:?}", start.elapsed());
    let start = Instant::now();
    push.close().unwrap();
    assert!(start.elapsed() < SLACK, "nothing was queued, so close is immediate");

    // Connecting to a port nobody listens on: nothing is queued into nowhere.
    let dead = DeadPort::new();
    let mut push =
        PushSocket::builder().connect(&dead.endpoint).unwrap().send_timeout(SHORT).build().unwrap();
    let start = Instant::now();
    let err = push.push(&era(0)).unwrap_err();
    assert_timeout(err, Operation::Push, SHORT, start.elapsed());
    assert!(!push.try_push(&era(0)).unwrap());
    let start = Instant::now();
    push.close().unwrap();
    assert!(start.elapsed() < SLACK, "nothing was queued, so close is immediate");
}

// ---------------------------------------------------------------------------------
// frames written by another ZeroMQ peer, the Python way

/// `json.dumps` output: `", "` and `": "` separators.
const PYTHON_JSON: &str = r#"{"type": "EraChanged", "era": "modern", "biome": "forest"}"#;

#[test]
fn python_formatted_pub_frame_arrives_typed() {
    let ctx = global_context();
    // XPUB is PUB on the wire; it also shows when the subscription has arrived.
    let raw = ctx.socket(zmq::XPUB).unwrap();
    raw.set_linger(0).unwrap();
    raw.set_rcvtimeo(5000).unwrap();
    raw.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = raw.get_last_endpoint().unwrap().unwrap();
    let mut subscriber =
        Subscriber::builder().connect(&endpoint).unwrap().subscribe("status").build().unwrap();
    assert_eq!(raw.recv_bytes(0).unwrap(), b"\x01status", "the subscription reaches the raw publisher");

    raw.send(format!("status {PYTHON_JSON}").as_bytes(), 0).unwrap();
    assert_eq!(subscriber.receive::<EraChanged>().unwrap(), ("status".into(), era(1)));
    raw.send(format!("status-updates {PYTHON_JSON}").as_bytes(), 0).unwrap();
    let (topic, msg) = subscriber.receive::<AnyMessage>().unwrap();
    assert_eq!(topic, "status-updates");
    assert!(matches!(msg, AnyMessage::EraChanged(m) if m == era(1)));
    // Extra fields (forward compatibility) are ignored by the typed decode.
    raw.send(&br#"status {"type": "EraChanged", "era": "modern", "biome": "forest", "since": 1.5}"#[..], 0)
        .unwrap();
    assert_eq!(subscriber.receive::<EraChanged>().unwrap().1, era(1));
}

#[test]
fn python_formatted_push_frame_arrives_typed() {
    let ctx = global_context();
    let endpoint = bind_endpoint(Transport::Inproc);
    let raw = ctx.socket(zmq::PUSH).unwrap();
    raw.set_linger(0).unwrap();
    // PUSH never drops: the send waits until the pull socket is there.
    raw.set_sndtimeo(5000).unwrap();
    raw.bind(&endpoint).unwrap();
    let mut pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    raw.send(PYTHON_JSON.as_bytes(), 0).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), era(1));
    raw.send(&br#"{"type": "Idle", "status": true}"#[..], 0).unwrap();
    assert_eq!(pull.pull::<IdleStatus>().unwrap(), IdleStatus { status: true }, "Python's Idle alias");
}

// ---------------------------------------------------------------------------------
// endpoints

fn assert_endpoint_error(err: EndpointError, endpoint: &str, problem: fn(&EndpointProblem) -> bool) {
    assert_eq!(err.endpoint, endpoint);
    assert!(problem(&err.problem), "{endpoint}: unexpected problem {:?}", err.problem);
    let text = err.to_string();
    assert!(text.contains(endpoint), "the message {text:?} names the endpoint {endpoint:?}");
    // The socket error wrapping it says the same.
    let text = Error::from(err).to_string();
    assert!(text.contains(endpoint), "the message {text:?} names the endpoint {endpoint:?}");
}

#[test]
fn malformed_endpoints_are_rejected_with_their_name() {
    use EndpointProblem as P;
    let connect = |e: &str| Subscriber::builder().connect(e).unwrap_err();
    let bind = |e: &str| Publisher::builder().bind(e).unwrap_err();

    for e in ["tcp://*:5555", "tcp://localhost:*", "ipc://*", "inproc://*"] {
        assert_endpoint_error(connect(e), e, |p| matches!(p, P::WildcardInConnect));
        assert_endpoint_error(PushSocket::builder().connect(e).unwrap_err(), e, |p| {
            matches!(p, P::WildcardInConnect)
        });
    }
    assert_endpoint_error(
        connect("udp://localhost:5555"),
        "udp://localhost:5555",
        |p| matches!(p, P::UnknownTransport(t) if t == "udp"),
    );
    assert_endpoint_error(bind("pgm://eth0;239.192.1.1:5555"), "pgm://eth0;239.192.1.1:5555", |p| {
        matches!(p, P::UnknownTransport(_))
    });
    assert_endpoint_error(connect("localhost:5555"), "localhost:5555", |p| matches!(p, P::MissingTransport));
    assert_endpoint_error(connect("tcp://localhost"), "tcp://localhost", |p| matches!(p, P::MissingPort));
    assert_endpoint_error(bind("tcp://127.0.0.1:"), "tcp://127.0.0.1:", |p| matches!(p, P::MissingPort));
    for e in ["tcp://localhost:65536", "tcp://localhost:99999", "tcp://localhost:-1", "tcp://localhost:0"] {
        assert_endpoint_error(connect(e), e, |p| matches!(p, P::InvalidPort(_)));
    }
    assert_endpoint_error(
        bind("tcp://127.0.0.1:70000"),
        "tcp://127.0.0.1:70000",
        |p| matches!(p, P::InvalidPort(port) if port == "70000"),
    );
    assert_endpoint_error(
        PullSocket::builder().connect("tcp://localhost:no_such_port").unwrap_err(),
        "tcp://localhost:no_such_port",
        |p| matches!(p, P::InvalidPort(_)),
    );
    assert_endpoint_error(connect("tcp://:5555"), "tcp://:5555", |p| matches!(p, P::EmptyHost));
    assert_endpoint_error(bind("tcp://:5555"), "tcp://:5555", |p| matches!(p, P::EmptyHost));
    assert_endpoint_error(connect("ipc://"), "ipc://", |p| matches!(p, P::EmptyAddress));
    assert_endpoint_error(bind("inproc://"), "inproc://", |p| matches!(p, P::EmptyAddress));
}

#[test]
fn binding_an_address_in_use_names_it() {
    let first = Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let endpoint = first.endpoint();
    let err = Publisher::builder().bind(&endpoint).unwrap().build().unwrap_err();
    match &err {
        Error::Bind { endpoint: e, source } => {
            assert_eq!(e, &endpoint);
            assert_eq!(*source, zmq::Error::EADDRINUSE);
        }
        other => panic!("expected Error::Bind, got {other:?}"),
    }
    assert!(err.to_string().contains(&endpoint), "{err}");

    // The same for a push socket, and for inproc names within the shared context.
    let err = PushSocket::builder().bind(&endpoint).unwrap().build().unwrap_err();
    assert!(matches!(&err, Error::Bind { endpoint: e, .. } if *e == endpoint), "{err:?}");
    let name = bind_endpoint(Transport::Inproc);
    let _held = PullSocket::builder().bind(&name).unwrap().build().unwrap();
    let err = PullSocket::builder().bind(&name).unwrap().build().unwrap_err();
    assert!(matches!(&err, Error::Bind { endpoint: e, .. } if *e == name), "{err:?}");
    assert!(err.to_string().contains(&name), "{err}");
}

// ---------------------------------------------------------------------------------
// lossless and lossy publishing

#[test]
fn lossless_publisher_times_out_instead_of_dropping() {
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
    publisher.wait_for_subscribers(1, READY).unwrap();

    // The subscriber does not read: its queue fills, then publishing waits and fails.
    let mut accepted = 0u64;
    let err = loop {
        let start = Instant::now();
        match publisher.publish(&json!({"type": "Counter", "seq": accepted})) {
            Ok(()) => accepted += 1,
            Err(e) => break (e, start.elapsed()),
        }
        assert!(accepted < 10_000, "a lossless publisher kept accepting messages nobody reads");
    };
    assert_timeout(err.0, Operation::Publish, SHORT, err.1);
    assert!(accepted >= 10, "the queue held only {accepted} messages");

    // Nothing that was accepted was dropped.
    for seq in 0..accepted {
        let (_, v) = subscriber.receive::<Value>().unwrap();
        assert_eq!(v["seq"], json!(seq));
    }
    assert!(subscriber.try_receive::<Value>().unwrap().is_none(), "the refused message was not sent");
}

fn lossy_publisher_never_blocks(transport: Transport) {
    let mut publisher =
        Publisher::builder().bind(&bind_endpoint(transport)).unwrap().send_hwm(10).build().unwrap();
    let mut subscriber = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_all()
        .receive_hwm(10)
        .build()
        .unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();

    let start = Instant::now();
    for seq in 0..10_000 {
        // A blocked publish would fail after the 1 s send timeout.
        publisher.publish(&json!({"type": "Counter", "seq": seq})).unwrap();
    }
    assert!(start.elapsed() < Duration::from_secs(5), "10,000 publishes took {:?}", start.elapsed());

    // What the subscriber got is an in-order subset: the rest was dropped, not queued.
    let mut received = 0;
    let mut last = -1i64;
    while let Some((_, v)) = subscriber.try_receive::<Value>().unwrap() {
        let seq = v["seq"].as_i64().unwrap();
        assert!(seq > last, "out of order: {seq} after {last}");
        last = seq;
        received += 1;
    }
    assert!(received < 10_000, "a full subscriber queue should drop messages");
}

#[test]
fn lossy_publisher_never_blocks_inproc() {
    lossy_publisher_never_blocks(Transport::Inproc);
}

#[test]
fn lossy_publisher_never_blocks_tcp() {
    lossy_publisher_never_blocks(Transport::Tcp);
}

// ---------------------------------------------------------------------------------
// threads

fn assert_send<T: Send>() {}

#[test]
fn sockets_are_send() {
    assert_send::<Publisher>();
    assert_send::<Subscriber>();
    assert_send::<PushSocket>();
    assert_send::<PullSocket>();
    assert_send::<Error>();

    // And they work after moving to another thread.
    let mut push = PushSocket::builder().bind(&bind_endpoint(Transport::Inproc)).unwrap().build().unwrap();
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    let receiver = std::thread::spawn(move || pull.pull::<EraChanged>().unwrap());
    push.push(&era(2)).unwrap();
    assert_eq!(receiver.join().unwrap(), era(2));
}

#[test]
fn documented_option_defaults() {
    let o = experimance_common::socket::SocketOptions::default();
    assert_eq!(
        (o.send_timeout, o.receive_timeout),
        (Duration::from_millis(1000), Duration::from_millis(1000))
    );
    assert_eq!(o.linger, experimance_common::DEFAULT_LINGER);
    assert_eq!((o.send_hwm, o.receive_hwm), (1000, 1000));
    // Off: libzmq's heartbeat drops a slow consumer's connection (see its docs).
    assert_eq!(o.heartbeat_interval, None);
    assert!(!o.conflate && !o.lossless);
    // The kind's: on for push sockets, off otherwise (resolved when a socket is built).
    assert_eq!(o.immediate, experimance_common::socket::PerKind::KindDefault);
    assert_eq!(o.tcp_max_retransmit, experimance_common::socket::PerKind::KindDefault);
    // 16 MiB: a hostile frame cannot make a receiver allocate more.
    assert_eq!(o.max_message_size, Some(16 * 1024 * 1024));
    assert_eq!(o.max_message_size, Some(experimance_common::DEFAULT_MAX_MESSAGE_SIZE));
}

// ---------------------------------------------------------------------------------
// sockets that mix inproc with tcp

#[test]
fn a_socket_mixing_tcp_and_inproc_waits_for_its_tcp_peers() {
    // Bound to tcp and inproc, with no peer: the wait is not answered at once (inproc
    // reports no connection events, which once made every wait return at once).
    let inproc = format!("inproc://{}", unique("mixed-bind"));
    let mut push =
        PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().bind(&inproc).unwrap().build().unwrap();
    let r = push.wait_for_peers(1, Duration::from_millis(200));
    assert!(matches!(r, Err(Error::Timeout { op: Operation::WaitConnected, .. })), "{r:?}");
    let mut pull = PullSocket::builder().connect(&push.endpoint()).unwrap().build().unwrap();
    assert_eq!(push.wait_for_peers(1, READY).unwrap(), 1);
    push.push(&era(1)).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), era(1));

    // Connecting to both: its inproc connection counts at once, the tcp one when its
    // handshake completes.
    let inproc = format!("inproc://{}", unique("mixed-connect"));
    let _inproc_peer = PullSocket::builder().bind(&inproc).unwrap().build().unwrap();
    let tcp_peer = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut mixed = PushSocket::builder()
        .connect(&inproc)
        .unwrap()
        .connect(&tcp_peer.endpoint())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(mixed.wait_for_peers(2, READY).unwrap(), 2);
}

/// A bound subscriber and a connecting publisher (libzmq #2267): libzmq attaches the
/// publisher's connection, and sends it the subscriptions, only when the subscriber
/// next processes its commands. `wait_connected` on the subscriber does that, so the
/// publisher's `wait_for_subscribers` returns without the subscriber receiving.
#[test]
fn a_bound_subscriber_sends_its_subscriptions_once_it_waited_for_the_publisher() {
    for transport in [Transport::Tcp, Transport::Ipc, Transport::Inproc] {
        for round in 0..20 {
            let mut sub = Subscriber::builder()
                .bind(&bind_endpoint(transport))
                .unwrap()
                .subscribe("hb")
                .receive_timeout(READY)
                .build()
                .unwrap();
            let mut publisher =
                Publisher::builder().connect(&sub.endpoint()).unwrap().topic("hb").unwrap().build().unwrap();
            sub.wait_connected(READY).unwrap();
            publisher
                .wait_for_subscribers(1, READY)
                .unwrap_or_else(|e| panic!("{transport:?}, round {round}: {e}"));
            publisher.publish(&IdleStatus { status: true }).unwrap();
            let (topic, m): (_, IdleStatus) = sub.receive().unwrap();
            assert_eq!((topic.as_str(), m.status), ("hb", true));
        }
    }
}
