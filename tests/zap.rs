//! The ZAP handler admits the right peers and refuses strangers, for every policy, and
//! counts both: IP allow/deny (without encryption), PLAIN users, and a CURVE allowlist
//! read from a directory of certificates (replaced at run time).

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use experimance_common::security::{AuthCounts, AuthPolicy, Authenticator, CurveKeyPair};

mod support;
use net::READY;
use support::net;

/// How long a refused peer is given to get through anyway.
const REFUSED_WAIT: Duration = Duration::from_millis(500);

/// A raw PULL server bound to a free loopback port, judged by `domain`.
fn server(ctx: &zmq::Context, domain: &str, setup: impl FnOnce(&zmq::Socket)) -> (zmq::Socket, String) {
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.set_linger(0).unwrap();
    pull.set_zap_domain(domain).unwrap();
    setup(&pull);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = pull.get_last_endpoint().unwrap().unwrap();
    (pull, endpoint)
}

/// A raw PUSH client that connects to `endpoint` and sends one message.
fn client_sends(ctx: &zmq::Context, endpoint: &str, setup: impl FnOnce(&zmq::Socket)) -> zmq::Socket {
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.set_linger(0).unwrap();
    setup(&push);
    push.connect(endpoint).unwrap();
    push.send("hello", zmq::DONTWAIT).unwrap();
    push
}

/// Whether `pull` receives the client's message within `wait`.
fn receives(pull: &zmq::Socket, wait: Duration) -> bool {
    pull.set_rcvtimeo(i32::try_from(wait.as_millis()).unwrap()).unwrap();
    pull.recv_bytes(0).is_ok_and(|m| m == b"hello")
}

/// Waits until the domain has refused at least `n` peers.
fn refused_at_least(auth: &Authenticator, domain: &str, n: u64) -> AuthCounts {
    let start = Instant::now();
    loop {
        let counts = auth.counts(domain).unwrap();
        if counts.refused >= n {
            return counts;
        }
        assert!(start.elapsed() < READY, "only {} refusals after {READY:?}", counts.refused);
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ip_policies_admit_allowed_addresses_and_refuse_denied_ones_without_encryption() {
    let ctx = zmq::Context::new();
    let auth = Authenticator::start(&ctx).unwrap();
    let allowed = auth.register(AuthPolicy::new().allow("127.0.0.0/8").unwrap());
    let denied = auth.register(AuthPolicy::new().deny("127.0.0.1").unwrap());
    let elsewhere = auth.register(AuthPolicy::new().allow("192.168.0.0/16").unwrap());

    let (pull, endpoint) = server(&ctx, &allowed, |_| {});
    let _push = client_sends(&ctx, &endpoint, |_| {});
    assert!(receives(&pull, READY), "an allowed address was refused");
    assert_eq!(auth.counts(&allowed).unwrap(), AuthCounts { admitted: 1, refused: 0 });

    for domain in [&denied, &elsewhere] {
        let (pull, endpoint) = server(&ctx, domain, |_| {});
        let _push = client_sends(&ctx, &endpoint, |_| {});
        let counts = refused_at_least(&auth, domain, 1);
        assert!(!receives(&pull, REFUSED_WAIT), "a refused address got through");
        assert_eq!(counts.admitted, 0);
    }
}

#[test]
fn plain_admits_its_users_and_refuses_wrong_passwords_and_strangers() {
    let ctx = zmq::Context::new();
    let auth = Authenticator::start(&ctx).unwrap();
    let domain = auth.register(AuthPolicy::new().plain_user("display", "sand-table"));
    let plain_server = |s: &zmq::Socket| s.set_plain_server(true).unwrap();

    let (pull, endpoint) = server(&ctx, &domain, plain_server);
    let _push = client_sends(&ctx, &endpoint, |s| {
        s.set_plain_username(Some("display")).unwrap();
        s.set_plain_password(Some("sand-table")).unwrap();
    });
    assert!(receives(&pull, READY), "the right user and password were refused");
    assert_eq!(auth.counts(&domain).unwrap().admitted, 1);

    let mut refused = 0;
    for (user, password) in [("display", "wrong"), ("stranger", "sand-table")] {
        let (pull, endpoint) = server(&ctx, &domain, plain_server);
        let _push = client_sends(&ctx, &endpoint, |s| {
            s.set_plain_username(Some(user)).unwrap();
            s.set_plain_password(Some(password)).unwrap();
        });
        refused = refused_at_least(&auth, &domain, refused + 1).refused;
        assert!(!receives(&pull, REFUSED_WAIT), "{user}/{password} got through");
    }
    assert_eq!(auth.counts(&domain).unwrap().admitted, 1);
}

#[test]
fn curve_allowlist_admits_listed_keys_refuses_others_and_can_be_replaced() {
    let dir = std::env::temp_dir().join(format!("exp-zap-curve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let server_keys = CurveKeyPair::generate().unwrap();
    let friend = CurveKeyPair::generate().unwrap();
    let stranger = CurveKeyPair::generate().unwrap();
    friend.save(&dir, "friend").unwrap();

    let ctx = zmq::Context::new();
    let auth = Authenticator::start(&ctx).unwrap();
    let domain = auth.register(AuthPolicy::new().curve_allow_dir(&dir).unwrap());
    let curve_server = |s: &zmq::Socket| {
        s.set_curve_server(true).unwrap();
        s.set_curve_secretkey(server_keys.secret().expose_bytes()).unwrap();
    };
    let curve_client = |pair: &CurveKeyPair| {
        let server_public = *server_keys.public();
        let pair = pair.clone();
        move |s: &zmq::Socket| {
            s.set_curve_serverkey(server_public.as_bytes()).unwrap();
            s.set_curve_publickey(pair.public().as_bytes()).unwrap();
            s.set_curve_secretkey(pair.secret().expose_bytes()).unwrap();
        }
    };

    let (pull, endpoint) = server(&ctx, &domain, curve_server);
    let _friend = client_sends(&ctx, &endpoint, curve_client(&friend));
    assert!(receives(&pull, READY), "an allowlisted key was refused");

    let (pull, endpoint) = server(&ctx, &domain, curve_server);
    let _stranger = client_sends(&ctx, &endpoint, curve_client(&stranger));
    refused_at_least(&auth, &domain, 1);
    assert!(!receives(&pull, REFUSED_WAIT), "a key not on the allowlist got through");

    // A new allowlist: the old key is refused, the new one admitted.
    std::fs::remove_file(dir.join("friend.pub")).unwrap();
    stranger.save(&dir, "newcomer").unwrap();
    assert!(auth.update(&domain, AuthPolicy::new().curve_allow_dir(&dir).unwrap()));
    let refused = auth.counts(&domain).unwrap().refused;
    let (pull, endpoint) = server(&ctx, &domain, curve_server);
    let _old = client_sends(&ctx, &endpoint, curve_client(&friend));
    refused_at_least(&auth, &domain, refused + 1);
    assert!(!receives(&pull, REFUSED_WAIT), "a key taken off the allowlist got through");
    let (pull, endpoint) = server(&ctx, &domain, curve_server);
    let _new = client_sends(&ctx, &endpoint, curve_client(&stranger));
    assert!(receives(&pull, READY), "a key added to the allowlist was refused");
    let counts = auth.counts(&domain).unwrap();
    eprintln!("CURVE allowlist: {counts:?}");
    assert_eq!(counts.admitted, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_handler_per_context_and_a_dropped_context_ends_it() {
    let ctx = zmq::Context::new();
    let auth = Authenticator::start(&ctx).unwrap();
    assert!(Authenticator::start(&ctx).is_err(), "a second ZAP handler on one context");
    drop(auth);
    // Stopped: the endpoint is free again.
    let again = Authenticator::start(&ctx).unwrap();
    // The handler does not keep the context alive: dropping the last handle ends the
    // context (this would hang if it did), and the handler with it.
    drop(ctx);
    drop(again);
}
