//! CURVE between Rust and Python (pyzmq), both directions: pyzmq as the CURVE server
//! and as the client, keys made by either side, and a Python stranger refused by a Rust
//! server with an allowlist. Exact counts.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use experimance_common::security::{AuthPolicy, CurveKeyPair};
use experimance_common::socket::{PullSocket, PushSocket};
use serde_json::{json, Value};

mod support;
use python::{write_cases, Peer, Role};
use support::python;

const N: usize = 20;
const WAIT: Duration = Duration::from_secs(20);

fn render_requests() -> Vec<(String, Value)> {
    (0..N)
        .map(|i| {
            let m = json!({"type": "RenderRequest", "request_id": format!("r{i}"), "era": "modern",
                           "biome": "forest", "prompt": "a forest", "depth_map_png": null});
            (String::new(), m)
        })
        .collect()
}

/// A key pair made by pyzmq (`zmq.auth.create_certificates`) and read from its files.
fn python_made_pair() -> CurveKeyPair {
    let dir = std::env::temp_dir().join(format!("exp-curve-interop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let code = format!("import zmq.auth\nzmq.auth.create_certificates({dir:?}, 'py')\n");
    let out = std::process::Command::new(python::python()).args(["-c", &code]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pair = CurveKeyPair::load(dir.join("py.key_secret")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    pair
}

/// A fresh pair whose chosen Z85 key begins with `-`, which a command line could take
/// for a flag: every key is passed to the Python peer as such a key could be.
fn pair_with_a_leading_dash(key: impl Fn(&CurveKeyPair) -> String) -> CurveKeyPair {
    loop {
        let pair = CurveKeyPair::generate().unwrap();
        if key(&pair).starts_with('-') {
            return pair;
        }
    }
}

#[test]
fn a_python_curve_server_pushes_to_a_rust_client() {
    let server = pair_with_a_leading_dash(|p| p.secret().expose_z85());
    let cases = render_requests();
    let file = write_cases(&cases);
    let mut peer = Peer::builder(Role::Push, "tcp://127.0.0.1:*")
        .bind()
        .cases(&file)
        .timeout(WAIT)
        .curve_server(&server.secret().expose_z85())
        .spawn();
    let endpoint = peer.ready();
    let client = CurveKeyPair::generate().unwrap();
    let mut pull = PullSocket::builder()
        .connect(&endpoint)
        .unwrap()
        .curve_client(server.public(), &client)
        .receive_timeout(WAIT)
        .build()
        .unwrap();
    for (_, expected) in &cases {
        assert_eq!(&pull.pull::<Value>().unwrap(), expected);
    }
    let report = peer.finish();
    report.assert_ok();
    assert_eq!(report.sent, N as u64);
}

#[test]
fn a_rust_curve_server_admits_a_python_client_with_python_keys_and_refuses_a_python_stranger() {
    let server = CurveKeyPair::generate().unwrap();
    let friend = python_made_pair();
    let mut push = PushSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .curve_server(server.secret())
        .auth(AuthPolicy::new().curve_allow(*friend.public()))
        .unwrap()
        .send_timeout(WAIT)
        .build()
        .unwrap();
    let endpoint = push.endpoint();
    let server_public = server.public().to_z85();

    // The stranger first: refused and counted, it never counts as a peer.
    let stranger = pair_with_a_leading_dash(|p| p.public().to_z85());
    let file = write_cases(&render_requests()[..1]);
    let intruder = Peer::builder(Role::Pull, &endpoint)
        .connect()
        .cases(&file)
        .timeout(Duration::from_secs(2))
        .curve_client(&server_public, &stranger.public().to_z85(), &stranger.secret().expose_z85())
        .spawn();
    let start = Instant::now();
    while push.auth_failures() == 0 {
        assert!(start.elapsed() < WAIT, "the Python stranger was never refused");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(push.peer_count(), 0, "a refused client counted as a peer");

    let cases = render_requests();
    let file = write_cases(&cases);
    let peer = Peer::builder(Role::Pull, &endpoint)
        .connect()
        .cases(&file)
        .timeout(WAIT)
        .curve_client(&server_public, &friend.public().to_z85(), &friend.secret().expose_z85())
        .spawn();
    push.wait_connected(WAIT).unwrap();
    for (_, m) in &cases {
        push.push(m).unwrap();
    }
    let report = peer.finish();
    report.assert_ok();
    assert_eq!(report.received, N as u64, "the allowlisted Python client got every message");
    let refused = intruder.finish();
    assert_eq!(refused.received, 0, "the stranger received {}", refused.received);
    assert_ne!(refused.exit_code, 0, "the stranger's peer reported success: {refused}");
    push.close().unwrap();
}
