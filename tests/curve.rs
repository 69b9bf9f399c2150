//! CURVE works: libzmq is built with libsodium (the workspace's zmq-sys), so
//! `zmq::has("curve")` holds on any machine, and an encrypted, authenticated
//! connection carries messages while a client with the wrong server key gets none.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

#[test]
fn libzmq_has_curve() {
    assert_eq!(zmq::has("curve"), Some(true), "libzmq must be built with libsodium");
}

/// A PULL server with `server` keys bound on loopback, and a PUSH client that expects
/// the server key `expected_server_public`.
fn pair(
    ctx: &zmq::Context,
    server: &zmq::CurveKeyPair,
    expected_server_public: &[u8],
) -> (zmq::Socket, zmq::Socket) {
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.set_curve_server(true).unwrap();
    pull.set_curve_secretkey(&server.secret_key).unwrap();
    pull.set_rcvtimeo(2_000).unwrap();
    pull.set_linger(0).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = pull.get_last_endpoint().unwrap().unwrap();

    let client = zmq::CurveKeyPair::new().unwrap();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.set_curve_serverkey(expected_server_public).unwrap();
    push.set_curve_publickey(&client.public_key).unwrap();
    push.set_curve_secretkey(&client.secret_key).unwrap();
    push.set_linger(0).unwrap();
    push.connect(&endpoint).unwrap();
    (pull, push)
}

#[test]
fn curve_encrypts_and_authenticates_the_server() {
    let ctx = zmq::Context::new();
    let server = zmq::CurveKeyPair::new().unwrap();
    assert_eq!(zmq::z85_encode(&server.public_key).unwrap().len(), 40);

    let (pull, push) = pair(&ctx, &server, &server.public_key);
    assert_eq!(pull.get_mechanism().unwrap(), zmq::Mechanism::ZMQ_CURVE);
    push.send("sealed", 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"sealed");

    // A client that expects another server's key never completes the handshake.
    let impostor = zmq::CurveKeyPair::new().unwrap();
    let (pull, push) = pair(&ctx, &server, &impostor.public_key);
    push.set_sndtimeo(0).unwrap();
    let _ = push.send("lost", zmq::DONTWAIT);
    pull.set_rcvtimeo(i32::try_from(Duration::from_millis(500).as_millis()).unwrap()).unwrap();
    assert_eq!(pull.recv_bytes(0), Err(zmq::Error::EAGAIN));
}
