//! Faults between two hosts in network namespaces (`support/netns.rs`): a link down for
//! 5 s mid-stream, a host that disappears, and a slow or stalled consumer, all with the
//! sockets' default options. The tests need root; without it they fail and say why.
//!
//! Each peer is this test binary run again in a host's namespace (`ip netns exec`),
//! where the same test function sees `EXP_NETNS_ROLE` and plays a push or pull peer
//! (`peer_main`): it reports on stdout (`@@ ...` lines) and takes commands on stdin.
//! Measured times are printed (`cargo test --test netns -- --nocapture`) and asserted
//! only against the documented bound with slack.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use experimance_common::socket::{
    Error, PullSocket, PushSocket, DEAD_PEER_TIMEOUT, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES,
};

mod support;
use netns::{field, Host, Lab, Peer, LINE};
use support::netns;

/// How long a peer may take to start and connect.
const START: Duration = Duration::from_secs(10);
/// The documented bound on noticing a dead peer.
const DOCUMENTED: Duration = DEAD_PEER_TIMEOUT;
/// The documented bound on a receiving socket noticing that its sender's host vanished
/// while the connection was quiet (TCP keepalive: idle, then unanswered probes).
const KEEPALIVE_DETECTION: Duration =
    KEEPALIVE_IDLE.saturating_add(KEEPALIVE_INTERVAL.saturating_mul(KEEPALIVE_PROBES));
/// The end-of-stream frame's first 8 bytes.
const END: u64 = u64::MAX;

fn lab() -> Lab {
    Lab::new().unwrap_or_else(|e| panic!("{e}"))
}

/// When this process is a peer, plays it and exits; otherwise returns.
fn peer_or_test() {
    if let Ok(role) = std::env::var("EXP_NETNS_ROLE") {
        peer_main(&role);
        std::process::exit(0);
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn say(line: String) {
    println!("{LINE}{line}");
}

/// The stdin commands of a peer, read on a thread of their own.
fn commands() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// Watches `peer_count()` against a mark: reports the first drop to zero and the
/// first return after the mark.
struct PeerWatch {
    mark: Option<Instant>,
    had: bool,
    gone_reported: bool,
}

impl PeerWatch {
    fn new() -> PeerWatch {
        PeerWatch { mark: None, had: true, gone_reported: false }
    }

    fn update(&mut self, peers: usize, extra: impl FnOnce() -> String) {
        let since = self.mark.map(|m| ms(m.elapsed())).unwrap_or(0);
        if self.had && peers == 0 {
            say(format!("gone after_ms={since} {}", extra()));
            self.gone_reported = true;
        } else if !self.had && peers > 0 {
            say(format!("back after_ms={since}"));
        }
        self.had = peers > 0;
    }
}

fn peer_main(role: &str) {
    let endpoint = std::env::var("EXP_ENDPOINT").expect("EXP_ENDPOINT");
    let bind = std::env::var("EXP_BIND").is_ok();
    let hwm = env_u64("EXP_HWM", 1000) as u32;
    let commands = commands();
    // Binds or connects, as told, and waits for the peer.
    macro_rules! ready {
        ($builder:expr) => {{
            let b = $builder;
            let mut socket =
                if bind { b.bind(&endpoint).unwrap().build() } else { b.connect(&endpoint).unwrap().build() }
                    .expect("build the socket");
            socket.wait_for_peers(1, START).expect("the peer connects");
            say("ready".into());
            socket
        }};
    }
    match role {
        "push" => {
            let mut push =
                ready!(PushSocket::builder().send_timeout(Duration::from_millis(100)).send_hwm(hwm));
            run_push(&mut push, &commands);
            // Close only when told (or when the test ends): the linger bounds what a
            // close still delivers, and a slow consumer may be far behind.
            let _ = commands.recv();
            let closed = push.close();
            say(format!("closed ok={}", closed.is_ok()));
        }
        "pull" => {
            let mut pull =
                ready!(PullSocket::builder().receive_timeout(Duration::from_millis(50)).receive_hwm(hwm));
            run_pull(&mut pull, &commands);
        }
        other => panic!("unknown peer role {other}"),
    }
}

/// Pushes numbered frames (every `EXP_EVERY_US`), retrying a frame whose push timed
/// out, until `stop`; then pushes the end frame and reports. `mark` starts the clock
/// the reports are relative to, `idle`/`go` pause and resume.
fn run_push(push: &mut PushSocket, commands: &mpsc::Receiver<String>) {
    let every = Duration::from_micros(env_u64("EXP_EVERY_US", 1000));
    let pad = env_u64("EXP_PAD", 0) as usize;
    let mut frame = vec![0u8; 8 + pad];
    let (mut seq, mut timeouts, mut accepted_after_mark) = (0u64, 0u64, 0u64);
    let mut watch = PeerWatch::new();
    let mut first_timeout_after_gone = false;
    let mut idle = false;
    let mut next = Instant::now();
    loop {
        match commands.try_recv() {
            Ok(c) if c == "mark" => {
                watch.mark = Some(Instant::now());
                accepted_after_mark = 0;
            }
            Ok(c) if c == "idle" => idle = true,
            Ok(c) if c == "go" => idle = false,
            Ok(c) if c == "stop" => break,
            Ok(other) => panic!("unknown command {other}"),
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => return,
        }
        let peers = push.peer_count();
        watch.update(peers, || format!("accepted_after_mark={accepted_after_mark}"));
        if idle {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        frame[..8].copy_from_slice(&seq.to_le_bytes());
        match push.push_raw(&frame) {
            Ok(()) => {
                seq += 1;
                if watch.mark.is_some() {
                    accepted_after_mark += 1;
                }
            }
            Err(Error::Timeout { .. }) => {
                timeouts += 1;
                if watch.gone_reported && !first_timeout_after_gone {
                    first_timeout_after_gone = true;
                    let since = watch.mark.map(|m| ms(m.elapsed())).unwrap_or(0);
                    say(format!("timeout after_ms={since}"));
                }
            }
            Err(e) => panic!("push failed: {e}"),
        }
        next += every;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    let mut end = END.to_le_bytes().to_vec();
    end.extend_from_slice(&seq.to_le_bytes());
    let deadline = Instant::now() + Duration::from_millis(env_u64("EXP_END_WAIT_MS", 20_000));
    let ended = loop {
        match push.push_raw(&end) {
            Ok(()) => break true,
            Err(Error::Timeout { .. }) if Instant::now() < deadline => {}
            Err(_) => break false,
        }
    };
    say(format!("done sent={seq} timeouts={timeouts} ended={ended}"));
}

/// Pulls numbered frames, taking `EXP_DELAY_US` per frame, until the end frame, then
/// reports what arrived. `mark` starts the clock; the first frame after it is
/// reported (`first`); `stall N` stops reading for N ms.
fn run_pull(pull: &mut PullSocket, commands: &mpsc::Receiver<String>) {
    let delay = Duration::from_micros(env_u64("EXP_DELAY_US", 0));
    let mut seen: Vec<bool> = Vec::new();
    let (mut received, mut dups) = (0u64, 0u64);
    let mut watch = PeerWatch::new();
    let mut first_after_mark = true;
    let mut longest_gap = Duration::ZERO;
    let mut last = Instant::now();
    loop {
        match commands.try_recv() {
            Ok(c) if c == "mark" => {
                watch.mark = Some(Instant::now());
                first_after_mark = false;
            }
            Ok(c) if c.starts_with("stall ") => {
                let n: u64 = c["stall ".len()..].parse().expect("stall milliseconds");
                std::thread::sleep(Duration::from_millis(n));
                say(format!("stalled ms={n}"));
            }
            Ok(other) => panic!("unknown command {other}"),
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => return,
        }
        let peers = pull.peer_count();
        watch.update(peers, || format!("received={received}"));
        match pull.pull_raw() {
            Ok(frame) => {
                let seq = u64::from_le_bytes(frame[..8].try_into().expect("an 8-byte sequence number"));
                if seq == END {
                    let sent = u64::from_le_bytes(frame[8..16].try_into().expect("the count"));
                    let distinct = seen.iter().filter(|s| **s).count() as u64;
                    let missing = sent.saturating_sub(distinct);
                    say(format!(
                        "summary sent={sent} received={received} distinct={distinct} missing={missing} \
                         dups={dups} longest_gap_ms={}",
                        ms(longest_gap)
                    ));
                    return;
                }
                let now = Instant::now();
                longest_gap = longest_gap.max(now - last);
                last = now;
                if !first_after_mark {
                    first_after_mark = true;
                    let since = watch.mark.map(|m| ms(m.elapsed())).unwrap_or(0);
                    say(format!("first after_ms={since} seq={seq}"));
                }
                let i = seq as usize;
                if seen.len() <= i {
                    seen.resize(i + 1, false);
                }
                if seen[i] {
                    dups += 1;
                }
                seen[i] = true;
                received += 1;
                if !delay.is_zero() {
                    std::thread::sleep(delay);
                }
            }
            Err(Error::Timeout { .. }) => {}
            Err(e) => panic!("pull failed: {e}"),
        }
    }
}

/// The environment of a peer that binds or connects to `endpoint`.
fn peer_env(endpoint: &str, bind: bool, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = vec![("EXP_ENDPOINT", endpoint.to_owned())];
    if bind {
        env.push(("EXP_BIND", "1".to_owned()));
    }
    env.extend_from_slice(extra);
    env
}

/// A push peer on host A (binding) and a pull peer on host B (connecting), both ready.
fn push_a_pull_b(
    lab: &mut Lab,
    test: &str,
    push_env: &[(&'static str, String)],
    pull_env: &[(&'static str, String)],
) -> (Peer, Peer) {
    let endpoint = format!("tcp://{}:5601", lab.addr(Host::A));
    let mut push = lab.spawn(Host::A, test, "push", &peer_env(&endpoint, true, push_env));
    let mut pull = lab.spawn(Host::B, test, "pull", &peer_env(&endpoint, false, pull_env));
    push.expect("ready", START);
    pull.expect("ready", START);
    (push, pull)
}

#[test]
fn link_down_for_5s_mid_stream_loses_nothing() {
    peer_or_test();
    let mut lab = lab();
    let (mut push, mut pull) = push_a_pull_b(&mut lab, "link_down_for_5s_mid_stream_loses_nothing", &[], &[]);
    std::thread::sleep(Duration::from_secs(2)); // stream for a while
    push.tell("mark");
    lab.link_down();
    std::thread::sleep(Duration::from_secs(5));
    lab.link_up();
    let up = Instant::now();
    pull.tell("mark");
    let first = pull.expect("first", Duration::from_secs(15));
    let recovery = up.elapsed();
    std::thread::sleep(Duration::from_secs(1)); // stream after recovery
    push.tell("stop");
    let done = push.expect("done", Duration::from_secs(30));
    let summary = pull.expect("summary", Duration::from_secs(30));
    eprintln!("link down 5 s: recovery {recovery:?} after the link came back ({first}); {done}; {summary}");
    let sent: u64 = field(&done, "sent");
    assert!(sent > 2000, "the push streamed: {done}");
    assert_eq!(field::<u64>(&summary, "missing"), 0, "nothing lost: {summary}");
    assert_eq!(field::<u64>(&summary, "distinct"), sent, "every message arrived: {summary}");
    assert_eq!(field::<u64>(&summary, "dups"), 0, "none twice: {summary}");
    // The connection survived the outage (a dead-peer declaration would have lost the
    // messages in flight, and reported `gone`).
    assert!(recovery < Duration::from_secs(5), "traffic resumed {recovery:?} after the link came back");
}

/// A push on host A streams (or, `idle`, has gone quiet) to a pull on host B, which
/// vanishes: the push must declare it dead within the documented time of sending to
/// it, and then time out instead of queueing.
fn vanished_pull_detected(test: &str, idle: bool) {
    let mut lab = lab();
    let quick_end = [("EXP_END_WAIT_MS", "1000".to_owned())];
    let (mut push, pull) = push_a_pull_b(&mut lab, test, &quick_end, &[]);
    std::thread::sleep(Duration::from_secs(1)); // stream for a while
    if idle {
        push.tell("idle");
        std::thread::sleep(Duration::from_secs(2)); // the connection goes quiet
    }
    push.tell("mark");
    let cut = Instant::now();
    lab.vanish_b(&pull);
    if idle {
        // The push sends again only after the peer is gone.
        push.tell("go");
    }
    let gone = push.expect("gone", DOCUMENTED * 2 + Duration::from_secs(2));
    let detected = cut.elapsed();
    // With no peer left, a push has nowhere to queue: it times out.
    let timeout = push.expect("timeout", Duration::from_secs(5));
    eprintln!(
        "push (idle: {idle}) declared its vanished pull dead after {detected:?} ({gone}); then {timeout}"
    );
    assert!(detected <= DOCUMENTED * 2, "detected after {detected:?}, documented {DOCUMENTED:?}");
    push.tell("stop");
    let done = push.expect("done", Duration::from_secs(30));
    assert!(done.contains("ended=false"), "with no peer, even the end frame times out: {done}");
}

#[test]
fn vanished_pull_is_detected_by_a_streaming_push() {
    peer_or_test();
    vanished_pull_detected("vanished_pull_is_detected_by_a_streaming_push", false);
}

#[test]
fn vanished_pull_is_detected_by_an_idle_push_at_its_next_message() {
    peer_or_test();
    vanished_pull_detected("vanished_pull_is_detected_by_an_idle_push_at_its_next_message", true);
}

/// A push streaming to a pull (host B) whose queues are small, so a stall fills them
/// and both kernels' buffers.
fn stalled_setup(lab: &mut Lab, test: &str) -> (Peer, Peer) {
    let small = [("EXP_HWM", "10".to_owned()), ("EXP_PAD", "1000".to_owned())];
    let (push, pull) = push_a_pull_b(lab, test, &small, &small);
    std::thread::sleep(Duration::from_secs(1));
    (push, pull)
}

/// Stops the push, and returns its report and the pull's.
fn finish(push: &mut Peer, pull: &mut Peer) -> (String, String) {
    push.tell("stop");
    let done = push.expect("done", Duration::from_secs(30));
    let summary = pull.expect("summary", Duration::from_secs(30));
    push.tell("close");
    (done, summary)
}

/// A consumer that takes nothing for 6 s (less than the dead-peer timeout) while the
/// push keeps pushing, its queues and the TCP buffers full, is not dropped and loses
/// nothing.
#[test]
fn consumer_stalled_for_6s_loses_nothing() {
    peer_or_test();
    let mut lab = lab();
    let (mut push, mut pull) = stalled_setup(&mut lab, "consumer_stalled_for_6s_loses_nothing");
    pull.tell("stall 6000");
    pull.expect("stalled", Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(1));
    let (done, summary) = finish(&mut push, &mut pull);
    eprintln!("consumer stalled 6 s: {done}; {summary}");
    let sent: u64 = field(&done, "sent");
    assert_eq!(field::<u64>(&summary, "missing"), 0, "nothing lost: {summary}");
    assert_eq!(field::<u64>(&summary, "distinct"), sent, "every message arrived: {summary}");
}

/// A consumer that takes nothing for twice the dead-peer timeout is declared dead by
/// its push (its receive window stays closed; documented at `DEAD_PEER_TIMEOUT`): the
/// messages in flight are lost, but the consumer carries on, reconnects, and receives
/// what is pushed afterwards.
#[test]
fn consumer_stalled_past_the_timeout_is_dropped_and_carries_on() {
    peer_or_test();
    let mut lab = lab();
    let (mut push, mut pull) =
        stalled_setup(&mut lab, "consumer_stalled_past_the_timeout_is_dropped_and_carries_on");
    let stall = DEAD_PEER_TIMEOUT * 2;
    pull.tell(&format!("stall {}", stall.as_millis()));
    pull.expect("stalled", stall + Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(2));
    let (done, summary) = finish(&mut push, &mut pull);
    eprintln!("consumer stalled {stall:?}: {done}; {summary}");
    // The end frame, pushed after the stall, arrived over the new connection.
    assert!(done.contains("ended=true"), "{done}");
    assert!(field::<u64>(&summary, "distinct") > 0, "{summary}");
}

/// A consumer whose queue is full when its push peer dies (the connection reset) keeps
/// running: with libzmq 4.3.4 a receiving socket that heartbeats aborts the process
/// here (`Assertion failed: !_io_error`), which is why receivers do not heartbeat.
#[test]
fn consumer_with_a_full_queue_survives_its_sender_dying() {
    peer_or_test();
    let mut lab = lab();
    let (push, mut pull) = stalled_setup(&mut lab, "consumer_with_a_full_queue_survives_its_sender_dying");
    pull.tell("stall 4000");
    std::thread::sleep(Duration::from_secs(2));
    lab.kill(&push); // with the link up: its FIN reaches the consumer
    pull.expect("stalled", Duration::from_secs(10));
    let gone = pull.expect("gone", Duration::from_secs(10));
    eprintln!("consumer with a full queue, sender killed: {gone}");
    assert!(lab.wait(&pull, Duration::from_millis(500)).is_none(), "the consumer is still running");
}

/// A consumer taking 5 ms per message, with small queues so the TCP buffers fill,
/// receives every message with the default options.
#[test]
fn slow_consumer_receives_everything() {
    peer_or_test();
    let mut lab = lab();
    let small = [("EXP_HWM", "10".to_owned()), ("EXP_PAD", "1000".to_owned())];
    let slow = [("EXP_HWM", "10".to_owned()), ("EXP_DELAY_US", "5000".to_owned())];
    let (mut push, mut pull) = push_a_pull_b(&mut lab, "slow_consumer_receives_everything", &small, &slow);
    std::thread::sleep(Duration::from_secs(6)); // a sender 5x faster than the consumer
    push.tell("stop");
    let done = push.expect("done", Duration::from_secs(60));
    let summary = pull.expect("summary", Duration::from_secs(60));
    push.tell("close");
    eprintln!("slow consumer (5 ms per message): {done}; {summary}");
    let sent: u64 = field(&done, "sent");
    assert!(sent > 1000, "{done}");
    assert_eq!(field::<u64>(&summary, "missing"), 0, "nothing lost: {summary}");
    assert_eq!(field::<u64>(&summary, "distinct"), sent, "every message arrived: {summary}");
}

/// A pull on host A receives from a push on host B, which goes quiet for longer than
/// the keepalive detection time (a live, quiet sender: never declared dead), then
/// vanishes: the pull declares it dead within the documented time.
#[test]
fn a_pull_detects_its_vanished_sender_and_keeps_a_quiet_live_one() {
    peer_or_test();
    let test = "a_pull_detects_its_vanished_sender_and_keeps_a_quiet_live_one";
    let mut lab = lab();
    let endpoint = format!("tcp://{}:5602", lab.addr(Host::A));
    let mut pull = lab.spawn(Host::A, test, "pull", &peer_env(&endpoint, true, &[]));
    let mut push = lab.spawn(Host::B, test, "push", &peer_env(&endpoint, false, &[]));
    pull.expect("ready", START);
    push.expect("ready", START);
    std::thread::sleep(Duration::from_secs(1)); // stream for a while
    push.tell("idle");
    std::thread::sleep(KEEPALIVE_DETECTION + Duration::from_secs(3));
    let quiet = pull.written();
    assert!(!quiet.iter().any(|l| l.starts_with("gone")), "a quiet live sender was declared dead: {quiet:?}");
    pull.tell("mark");
    let cut = Instant::now();
    lab.vanish_b(&push);
    let gone = pull.expect("gone", KEEPALIVE_DETECTION * 2 + Duration::from_secs(2));
    let detected = cut.elapsed();
    eprintln!("pull declared its vanished sender dead after {detected:?} ({gone}); documented {KEEPALIVE_DETECTION:?}");
    assert!(detected <= KEEPALIVE_DETECTION * 2, "detected after {detected:?}");
}
