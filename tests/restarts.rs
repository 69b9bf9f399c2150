//! A peer process killed with SIGKILL and restarted on the same port: traffic resumes
//! (PUSH/PULL and PUB/SUB, the library on either side), subscriptions come back, and
//! `wait_for_subscribers` sees the new subscriber. The peer is this test binary run
//! again with `EXPERIMANCE_TEST_PEER` naming its role.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use serde_json::{json, Value};

mod support;
use net::READY;
use support::net;

const ROLE: &str = "EXPERIMANCE_TEST_PEER";
const ENDPOINT: &str = "EXPERIMANCE_TEST_PEER_ENDPOINT";
/// How long traffic may take to resume after a restart before the test fails; the
/// measured times are printed (about 0.1-0.3 s here).
const RESUME: Duration = Duration::from_secs(10);

/// The peer process: runs until it is killed.
#[test]
#[ignore = "the peer process of the other tests; they start it with EXPERIMANCE_TEST_PEER set"]
fn peer_process() {
    let role = std::env::var(ROLE).expect("run by the restart tests, which set EXPERIMANCE_TEST_PEER");
    let endpoint = std::env::var(ENDPOINT).expect("and EXPERIMANCE_TEST_PEER_ENDPOINT");
    let say = |line: String| println!("PEER {line}");
    match role.as_str() {
        "push-bind" => {
            let mut push = PushSocket::builder().bind(&endpoint).unwrap().build().unwrap();
            say(format!("bound {}", push.endpoint()));
            for seq in 0u64.. {
                let _ =
                    push.push_timeout(&json!({"type": "Task", "seq": seq, "pid": std::process::id()}), READY);
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        "pub-bind" => {
            let mut publisher =
                Publisher::builder().bind(&endpoint).unwrap().topic("events").unwrap().build().unwrap();
            say(format!("bound {}", publisher.endpoint()));
            for seq in 0u64.. {
                publisher.publish(&json!({"type": "Tick", "seq": seq, "pid": std::process::id()})).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        "sub-connect" => {
            let mut subscriber = Subscriber::builder()
                .connect(&endpoint)
                .unwrap()
                .subscribe("events")
                .timeout(READY)
                .build()
                .unwrap();
            loop {
                if let Ok((_, v)) = subscriber.receive::<Value>() {
                    say(format!("got {}", v["seq"]));
                }
            }
        }
        "pull-connect" => {
            let mut pull = PullSocket::builder().connect(&endpoint).unwrap().timeout(READY).build().unwrap();
            loop {
                if let Ok(v) = pull.pull::<Value>() {
                    say(format!("got {}", v["seq"]));
                }
            }
        }
        other => panic!("unknown peer role {other}"),
    }
}

/// A running peer process and the lines it prints.
struct Peer {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Peer {
    fn start(role: &str, endpoint: &str) -> Peer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["peer_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(ROLE, role)
            .env(ENDPOINT, endpoint)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The first line follows the harness's own "test peer_process ... ".
                if let Some(at) = line.find("PEER ") {
                    if tx.send(line[at + 5..].to_owned()).is_err() {
                        return;
                    }
                }
            }
        });
        Peer { child, lines }
    }

    /// The next line the peer printed that starts with `prefix`, without it.
    fn expect(&self, prefix: &str) -> String {
        let deadline = Instant::now() + RESUME;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_owned();
                    }
                }
                Err(e) => panic!("the peer printed no {prefix:?} line within {RESUME:?}: {e}"),
            }
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a binding peer on a free port and returns it with its endpoint.
fn bound_peer(role: &str) -> (Peer, String) {
    let peer = Peer::start(role, "tcp://127.0.0.1:*");
    let endpoint = peer.expect("bound ");
    (peer, endpoint)
}

/// Receives with `next` until a message from process `pid` arrives; returns how long it took.
fn until_from(pid: u32, mut next: impl FnMut() -> Result<Value, Error>) -> Duration {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < RESUME, "no message from the restarted peer within {RESUME:?}");
        match next() {
            Ok(v) if v["pid"] == pid => return start.elapsed(),
            Ok(_) | Err(Error::Timeout { .. }) => {}
            Err(e) => panic!("receiving: {e}"),
        }
    }
}

/// [`until_from`] for the async API: `$next` is a future expression, made anew and
/// awaited on every turn; evaluates to how long it took.
macro_rules! until_from_async {
    ($pid:expr, $next:expr) => {{
        let start = Instant::now();
        loop {
            assert!(start.elapsed() < RESUME, "no message from the restarted peer within {RESUME:?}");
            match $next.await {
                Ok(v) if v["pid"] == $pid => break start.elapsed(),
                Ok(_) | Err(Error::Timeout { .. }) => {}
                Err(e) => panic!("receiving: {e}"),
            }
        }
    }};
}

#[tokio::test]
async fn async_receivers_resume_when_their_peers_are_killed_and_restarted() {
    let (pusher, push_endpoint) = bound_peer("push-bind");
    let (publisher, pub_endpoint) = bound_peer("pub-bind");
    let mut pull =
        PullSocket::builder().connect(&push_endpoint).unwrap().receive_timeout(READY).build().unwrap();
    let mut sub = Subscriber::builder()
        .connect(&pub_endpoint)
        .unwrap()
        .subscribe("events")
        .timeout(READY)
        .build()
        .unwrap();
    until_from_async!(pusher.child.id(), pull.pull_async::<Value>());
    until_from_async!(publisher.child.id(), async { sub.receive_async::<Value>().await.map(|(_, v)| v) });
    pusher.kill();
    publisher.kill();
    let pusher = Peer::start("push-bind", &push_endpoint);
    let publisher = Peer::start("pub-bind", &pub_endpoint);
    assert_eq!(pusher.expect("bound "), push_endpoint);
    assert_eq!(publisher.expect("bound "), pub_endpoint);
    let pulled = until_from_async!(pusher.child.id(), pull.pull_async::<Value>());
    let received =
        until_from_async!(publisher.child.id(), async { sub.receive_async::<Value>().await.map(|(_, v)| v) });
    eprintln!("async PULL resumed {pulled:?}, async SUB {received:?} after their peers restarted");
}

#[test]
fn pull_resumes_when_its_push_peer_is_killed_and_restarted() {
    let (peer, endpoint) = bound_peer("push-bind");
    let mut pull = PullSocket::builder().connect(&endpoint).unwrap().receive_timeout(READY).build().unwrap();
    let first = peer.child.id();
    until_from(first, || pull.pull());
    peer.kill();
    let again = Peer::start("push-bind", &endpoint);
    assert_eq!(again.expect("bound "), endpoint, "restarted on the same port");
    let took = until_from(again.child.id(), || pull.pull());
    eprintln!("PULL resumed {took:?} after its PUSH peer restarted");
}

#[test]
fn subscriber_resumes_when_its_publisher_is_killed_and_restarted() {
    let (peer, endpoint) = bound_peer("pub-bind");
    let mut sub =
        Subscriber::builder().connect(&endpoint).unwrap().subscribe("events").timeout(READY).build().unwrap();
    until_from(peer.child.id(), || sub.receive().map(|(_, v)| v));
    peer.kill();
    let again = Peer::start("pub-bind", &endpoint);
    assert_eq!(again.expect("bound "), endpoint, "restarted on the same port");
    // The subscription is sent again on the new connection.
    let took = until_from(again.child.id(), || sub.receive().map(|(_, v)| v));
    eprintln!("SUB resumed {took:?} after its publisher restarted");
}

#[test]
fn publisher_sees_a_killed_subscriber_go_and_its_restart_come_back() {
    let mut publisher =
        Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().topic("events").unwrap().build().unwrap();
    let endpoint = publisher.endpoint();
    let peer = Peer::start("sub-connect", &endpoint);
    assert_eq!(publisher.wait_for_subscribers(1, RESUME).unwrap(), 1);
    publisher.publish(&json!({"type": "Tick", "seq": 1})).unwrap();
    assert_eq!(peer.expect("got "), "1");
    peer.kill();

    // Its subscription goes with its connection.
    let start = Instant::now();
    while publisher.subscribers_to("events").unwrap() > 0 {
        assert!(start.elapsed() < RESUME, "the killed subscriber was still counted after {RESUME:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let again = Peer::start("sub-connect", &endpoint);
    assert_eq!(publisher.wait_for_subscribers(1, RESUME).unwrap(), 1, "the restarted subscriber is seen");
    eprintln!("the killed subscriber was uncounted after {:?}", start.elapsed());
    publisher.publish(&json!({"type": "Tick", "seq": 2})).unwrap();
    assert_eq!(again.expect("got "), "2");
}

#[test]
fn push_resumes_when_its_pull_peer_is_killed_and_restarted() {
    let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let endpoint = push.endpoint();
    let peer = Peer::start("pull-connect", &endpoint);
    push.wait_connected(RESUME).unwrap();
    push.push(&json!({"type": "Task", "seq": 1})).unwrap();
    assert_eq!(peer.expect("got "), "1");
    peer.kill();

    // Once the dead connection is gone (the kernel closed it), the peer is no longer
    // counted and a push has nowhere to go: it times out instead of queueing.
    let start = Instant::now();
    while push.peer_count() > 0 {
        assert!(start.elapsed() < RESUME, "the killed peer was still counted after {RESUME:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let uncounted = Instant::now();
    let mut accepted = 0;
    loop {
        assert!(start.elapsed() < RESUME, "pushes to a killed peer still succeeded after {RESUME:?}");
        match push.push_timeout(&json!({"type": "Task", "seq": 0}), Duration::from_millis(50)) {
            // The socket had not yet processed the connection's end: in flight, lost.
            Ok(()) => accepted += 1,
            Err(Error::Timeout { .. }) => break,
            Err(e) => panic!("pushing: {e}"),
        }
    }
    // What the socket accepted between the connection's end and the socket learning of
    // it (libzmq looks at most once a millisecond) is lost: it cannot be known.
    eprintln!(
        "pushes timed out {:?} after the peer was uncounted ({accepted} accepted meanwhile)",
        uncounted.elapsed()
    );

    let again = Peer::start("pull-connect", &endpoint);
    push.wait_connected(RESUME).unwrap();
    for seq in 2..12 {
        push.push(&json!({"type": "Task", "seq": seq})).unwrap();
    }
    for seq in 2..12 {
        assert_eq!(again.expect("got "), seq.to_string(), "every task reaches the restarted peer, in order");
    }
}
