//! Malformed input from a raw ZeroMQ peer never panics, never hangs and is never lost:
//! each bad frame is an `Error::Decode` carrying the bytes as received (and the other
//! parts of a multi-part message), and the socket keeps working. An oversized message
//! gets its sender disconnected and delivers nothing.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use experimance_common::socket::{Error, PullSocket, Subscriber};
use experimance_common::{AnyMessage, Biome, DecodeError, DecodeErrorKind, Era, EraChanged, Framing};
use serde_json::Value;

mod support;
use support::net::{assert_disconnected, raw_peer, raw_socket};
use support::{unique_inproc, READY};

const GOOD_JSON: &[u8] = br#"{"type": "EraChanged", "era": "modern", "biome": "forest"}"#;
const GOOD: EraChanged = EraChanged { era: Era::Modern, biome: Biome::Forest };

fn pub_frame(topic: &str, json: &[u8]) -> Vec<u8> {
    let mut f = topic.as_bytes().to_vec();
    f.push(b' ');
    f.extend_from_slice(json);
    f
}

/// The decode error inside `result`, checked to hold `frame` as received.
fn decode_error<T: std::fmt::Debug>(result: Result<T, Error>, frame: &[u8]) -> DecodeError {
    let err = match result {
        Err(Error::Decode(e)) => e,
        other => panic!("frame {:?}: expected a decode error, got {other:?}", String::from_utf8_lossy(frame)),
    };
    assert_eq!(err.raw(), frame, "the error carries the frame as received");
    err
}

// ---------------------------------------------------------------------------------
// Subscriber

/// A subscriber (all topics) and the raw publisher it is connected to, with the
/// subscription arrived.
fn subscriber_with_raw_publisher() -> (Subscriber, zmq::Socket) {
    let raw = raw_socket(zmq::XPUB);
    raw.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = raw.get_last_endpoint().unwrap().unwrap();
    let subscriber = Subscriber::builder().connect(&endpoint).unwrap().subscribe_all().build().unwrap();
    assert_eq!(raw.recv_bytes(0).unwrap(), b"\x01", "the subscription reaches the raw publisher");
    (subscriber, raw)
}

/// Receives with each of the three decoding receives in turn, each time after `raw`
/// sent `frame`, and checks the error.
fn each_receive_fails(
    sub: &mut Subscriber,
    raw: &zmq::Socket,
    frame: &[u8],
    check: fn(&DecodeErrorKind) -> bool,
) {
    for kind in 0..3 {
        raw.send(frame, 0).unwrap();
        let err = match kind {
            0 => decode_error(sub.receive::<EraChanged>(), frame),
            1 => decode_error(sub.receive::<AnyMessage>(), frame),
            _ => decode_error(sub.receive::<Value>(), frame),
        };
        assert!(check(err.kind()), "receive #{kind}: unexpected {:?}", err.kind());
        assert_eq!(err.framing(), Framing::Pub);
        assert!(err.extra_parts().is_empty());
        let text = err.to_string();
        assert!(text.contains(&format!("{} bytes", frame.len())), "the message describes the frame: {text}");
    }
    // The socket still delivers what comes next.
    raw.send(pub_frame("status", GOOD_JSON), 0).unwrap();
    assert_eq!(sub.receive::<EraChanged>().unwrap(), ("status".into(), GOOD));
}

#[test]
fn subscriber_reports_malformed_frames_and_keeps_working() {
    let (mut sub, raw) = subscriber_with_raw_publisher();

    let not_utf8 = [&b"st\xfftus "[..], GOOD_JSON].concat();
    each_receive_fails(&mut sub, &raw, &not_utf8, |k| {
        matches!(k, DecodeErrorKind::TopicNotUtf8 { valid_up_to: 2 })
    });
    each_receive_fails(&mut sub, &raw, b"status-without-a-json-document", |k| {
        matches!(k, DecodeErrorKind::MissingSeparator)
    });
    each_receive_fails(&mut sub, &raw, br#"status {"type": "EraChanged", "era": "#, |k| {
        matches!(k, DecodeErrorKind::Json(_))
    });
    each_receive_fails(&mut sub, &raw, b"status \xff\xfe", |k| {
        matches!(k, DecodeErrorKind::NotUtf8 { valid_up_to: 7 })
    });
    each_receive_fails(&mut sub, &raw, b"status [1, 2]", |k| {
        matches!(k, DecodeErrorKind::NotAnObject | DecodeErrorKind::Json(_))
    });
}

#[test]
fn subscriber_reports_the_wrong_message_type() {
    let (mut sub, raw) = subscriber_with_raw_publisher();

    let frame = pub_frame("status", br#"{"type": "IdleStatus", "status": true}"#);
    raw.send(&frame, 0).unwrap();
    let err = decode_error(sub.receive::<EraChanged>(), &frame);
    assert!(
        matches!(err.kind(), DecodeErrorKind::WrongType { expected: "EraChanged", found } if found == "IdleStatus"),
        "{:?}",
        err.kind()
    );
    assert_eq!(err.topic(), Some("status"));

    let frame = pub_frame("status", br#"{"era": "modern", "biome": "forest"}"#);
    raw.send(&frame, 0).unwrap();
    let err = decode_error(sub.receive::<EraChanged>(), &frame);
    assert!(
        matches!(err.kind(), DecodeErrorKind::MissingType { expected: "EraChanged" }),
        "{:?}",
        err.kind()
    );

    let frame = pub_frame("status", br#"{"type": "EraChanged", "era": "bronze_age", "biome": "forest"}"#);
    raw.send(&frame, 0).unwrap();
    let err = decode_error(sub.receive::<EraChanged>(), &frame);
    assert!(matches!(err.kind(), DecodeErrorKind::Json(_)), "{:?}", err.kind());

    // The untyped paths accept what the typed one refused.
    raw.send(pub_frame("status", br#"{"type": "IdleStatus", "status": true}"#), 0).unwrap();
    assert!(matches!(sub.receive::<AnyMessage>().unwrap().1, AnyMessage::IdleStatus(_)));

    raw.send(pub_frame("status", GOOD_JSON), 0).unwrap();
    assert_eq!(sub.receive::<EraChanged>().unwrap().1, GOOD);
}

#[test]
fn subscriber_reports_a_multipart_message_whole() {
    let (mut sub, raw) = subscriber_with_raw_publisher();

    raw.send_multipart([&b"status"[..], GOOD_JSON], 0).unwrap();
    let err = decode_error(sub.receive::<EraChanged>(), b"status");
    assert!(matches!(err.kind(), DecodeErrorKind::Multipart { parts: 2 }), "{:?}", err.kind());
    assert_eq!(err.extra_parts(), [GOOD_JSON.to_vec()]);

    let parts: [&[u8]; 3] = [b"status", b"", GOOD_JSON];
    raw.send_multipart(parts, 0).unwrap();
    let err = decode_error(sub.receive::<AnyMessage>(), b"status");
    assert!(matches!(err.kind(), DecodeErrorKind::Multipart { parts: 3 }), "{:?}", err.kind());
    assert_eq!(err.extra_parts(), [Vec::new(), GOOD_JSON.to_vec()]);

    // Even the undecoded path does not hand out a part of a message.
    raw.send_multipart([&pub_frame("status", GOOD_JSON)[..], b"tail"], 0).unwrap();
    match sub.receive_raw() {
        Err(Error::Decode(e)) => {
            assert_eq!(e.raw(), &pub_frame("status", GOOD_JSON)[..]);
            assert_eq!(e.extra_parts(), [b"tail".to_vec()]);
        }
        other => panic!("expected a multi-part decode error, got {other:?}"),
    }

    // Nothing of those messages is left over for the next receive.
    raw.send(pub_frame("status", GOOD_JSON), 0).unwrap();
    assert_eq!(sub.receive::<EraChanged>().unwrap(), ("status".into(), GOOD));
    assert!(sub.try_receive::<Value>().unwrap().is_none());
}

// ---------------------------------------------------------------------------------
// PullSocket

fn pull_with_raw_pusher() -> (PullSocket, zmq::Socket) {
    let endpoint = unique_inproc("bad-input");
    let raw = raw_socket(zmq::PUSH);
    raw.bind(&endpoint).unwrap();
    let pull = PullSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    (pull, raw)
}

#[test]
fn pull_reports_malformed_frames_and_keeps_working() {
    let (mut pull, raw) = pull_with_raw_pusher();
    type Check = fn(&DecodeErrorKind) -> bool;
    let cases: [(&[u8], Check); 5] = [
        (b"\xff\xfe not UTF-8", |k| matches!(k, DecodeErrorKind::NotUtf8 { valid_up_to: 0 })),
        (br#"{"type": "EraChanged", "era": "#, |k| matches!(k, DecodeErrorKind::Json(_))),
        (b"", |k| matches!(k, DecodeErrorKind::Json(_))),
        (b"\"just a string\"", |k| matches!(k, DecodeErrorKind::NotAnObject | DecodeErrorKind::Json(_))),
        // A PUB frame sent to a pull socket: the topic makes it invalid JSON.
        (b"status {\"type\": \"EraChanged\"}", |k| matches!(k, DecodeErrorKind::Json(_))),
    ];
    for (frame, check) in cases {
        for kind in 0..3 {
            raw.send(frame, 0).unwrap();
            let err = match kind {
                0 => decode_error(pull.pull::<EraChanged>(), frame),
                1 => decode_error(pull.pull::<AnyMessage>(), frame),
                _ => decode_error(pull.pull::<Value>(), frame),
            };
            assert!(check(err.kind()), "{:?} pull #{kind}: {:?}", String::from_utf8_lossy(frame), err.kind());
            assert_eq!(err.framing(), Framing::Push);
            assert_eq!(err.topic(), None);
        }
        raw.send(GOOD_JSON, 0).unwrap();
        assert_eq!(pull.pull::<EraChanged>().unwrap(), GOOD);
    }
}

#[test]
fn pull_reports_the_wrong_message_type_and_multipart() {
    let (mut pull, raw) = pull_with_raw_pusher();

    let frame = br#"{"type": "IdleStatus", "status": true}"#;
    raw.send(&frame[..], 0).unwrap();
    let err = decode_error(pull.pull::<EraChanged>(), frame);
    assert!(
        matches!(err.kind(), DecodeErrorKind::WrongType { expected: "EraChanged", found } if found == "IdleStatus"),
        "{:?}",
        err.kind()
    );
    assert_eq!(err.json_bytes(), frame);

    // A "type" that is not a string: the typed pull refuses it; `pull::<AnyMessage>` keeps the
    // object whole as an unknown message.
    let frame = br#"{"type": 7, "era": "modern", "biome": "forest"}"#;
    raw.send(&frame[..], 0).unwrap();
    let err = decode_error(pull.pull::<EraChanged>(), frame);
    assert!(matches!(err.kind(), DecodeErrorKind::TypeNotAString), "{:?}", err.kind());
    raw.send(&frame[..], 0).unwrap();
    assert!(matches!(pull.pull::<AnyMessage>().unwrap(), AnyMessage::Unknown(v) if v["type"] == 7));

    raw.send_multipart([GOOD_JSON, b"second part"], 0).unwrap();
    let err = decode_error(pull.pull::<EraChanged>(), GOOD_JSON);
    assert!(matches!(err.kind(), DecodeErrorKind::Multipart { parts: 2 }), "{:?}", err.kind());
    assert_eq!(err.extra_parts(), [b"second part".to_vec()]);

    raw.send_multipart([GOOD_JSON, GOOD_JSON], 0).unwrap();
    let err = decode_error(pull.try_pull::<Value>(), GOOD_JSON);
    assert!(matches!(err.kind(), DecodeErrorKind::Multipart { parts: 2 }));
    assert_eq!(err.extra_parts(), [GOOD_JSON.to_vec()]);

    raw.send(GOOD_JSON, 0).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), GOOD);
    assert!(pull.try_pull::<Value>().unwrap().is_none(), "no part of a bad message is left over");
}

// ---------------------------------------------------------------------------------
// Oversized messages

const LIMIT: u64 = 1_000_000;
const HUGE: usize = 10 * 1024 * 1024;

#[test]
fn pull_refuses_an_oversized_message_and_its_sender() {
    let mut pull =
        PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().max_message_size(LIMIT).build().unwrap();
    let endpoint = pull.endpoint();

    let (big, big_monitor) = raw_peer(zmq::PUSH, &endpoint);
    big.send(vec![b'x'; HUGE], 0).unwrap();
    assert_disconnected(&big_monitor);
    // At the limit is still fine: only larger messages are refused.
    let (ok, _ok_monitor) = raw_peer(zmq::PUSH, &endpoint);
    let at_limit = format!(r#"{{"type": "Blob", "data": "{}"}}"#, "y".repeat(LIMIT as usize - 28));
    assert_eq!(at_limit.len(), LIMIT as usize);
    ok.send(at_limit.as_bytes(), 0).unwrap();
    assert_eq!(pull.pull::<Value>().unwrap()["type"], "Blob");

    // A new peer is heard, and nothing of the refused message was delivered.
    let (good, _good_monitor) = raw_peer(zmq::PUSH, &endpoint);
    good.send(GOOD_JSON, 0).unwrap();
    assert_eq!(pull.pull::<EraChanged>().unwrap(), GOOD);
    assert!(pull.try_pull::<Value>().unwrap().is_none());
    drop((big, ok, good));
}

#[test]
fn subscriber_refuses_an_oversized_message_and_its_sender() {
    let mut sub = Subscriber::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .subscribe("status")
        .max_message_size(LIMIT)
        .build()
        .unwrap();
    let endpoint = sub.endpoint();

    let (big, big_monitor) = raw_peer(zmq::XPUB, &endpoint);
    sub.wait_connected(READY).unwrap();
    assert_eq!(big.recv_bytes(0).unwrap(), b"\x01status");
    let mut huge = pub_frame("status", b"");
    huge.resize(HUGE, b'x');
    big.send(huge, 0).unwrap();
    assert_disconnected(&big_monitor);

    let (good, _good_monitor) = raw_peer(zmq::XPUB, &endpoint);
    sub.wait_connected(READY).unwrap();
    assert_eq!(good.recv_bytes(0).unwrap(), b"\x01status");
    good.send(pub_frame("status", GOOD_JSON), 0).unwrap();
    assert_eq!(sub.receive::<EraChanged>().unwrap(), ("status".into(), GOOD));
    assert!(sub.try_receive::<Value>().unwrap().is_none());
    drop((big, good));
}
