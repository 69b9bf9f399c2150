//! What one big or hostile frame costs a receiver: a frame over the default maximum
//! size is refused before it is buffered, and a big valid frame does not stay resident
//! once its message is dropped, and a fast sender flooding a slow consumer keeps memory
//! within the queues' bound. The tests take turns (one lock), so that no other test's
//! allocations move the resident size one measures.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use std::sync::Mutex;
use std::time::Instant;

use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use experimance_common::DEFAULT_MAX_MESSAGE_SIZE;
use serde_json::Value;

mod support;
use net::READY;
use support::net;

const MB: usize = 1024 * 1024;

/// This process's resident set size, from /proc/self/statm.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    pages * page
}

/// A raw `zmq` PUSH peer connected to `endpoint`, with no size limit of its own.
fn raw_pusher(ctx: &zmq::Context, endpoint: &str) -> zmq::Socket {
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.set_linger(0).unwrap();
    push.set_sndtimeo(5000).unwrap();
    push.connect(endpoint).unwrap();
    push
}

/// One test at a time: they measure this process's resident size.
static TURN: Mutex<()> = Mutex::new(());

/// Takes this test's turn and fixes the allocator's threshold (below): call first.
fn measuring() -> std::sync::MutexGuard<'static, ()> {
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    fixed_mmap_threshold();
    turn
}

/// A fixed threshold: glibc then maps every large block on its own and unmaps it
/// when freed, instead of raising the threshold after the first free and keeping
/// later blocks in its heap. So the resident size follows what is still allocated
/// (by the library), not the allocator's caching.
fn fixed_mmap_threshold() {
    // SAFETY: mallopt only sets a tunable of the allocator.
    assert_eq!(unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) }, 1);
}

#[test]
fn big_and_hostile_frames_do_not_stay_resident() {
    let _turn = measuring();
    let mut pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .receive_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let ctx = zmq::Context::new();
    let push = raw_pusher(&ctx, &pull.endpoint());
    pull.wait_connected(READY).unwrap();
    push.send(&br#"{"type": "Warmup"}"#[..], 0).unwrap();
    assert_eq!(pull.pull::<Value>().unwrap()["type"], "Warmup");
    let baseline = rss();

    // A valid 12 MiB message: once it is dropped, the frame it came in is gone too.
    let text = "y".repeat(12 * MB);
    let frame = format!(r#"{{"type": "Big", "data": "{text}"}}"#);
    drop(text);
    push.send(frame.as_bytes(), 0).unwrap();
    drop(frame);
    let big: Value = pull.pull().unwrap();
    assert_eq!(big["data"].as_str().map(str::len), Some(12 * MB));
    drop(big);
    let after_big = rss();
    eprintln!("RSS: baseline {} MB, after a dropped 12 MiB message {} MB", baseline / MB, after_big / MB);
    assert!(
        after_big < baseline + 6 * MB,
        "a dropped 12 MiB message left {} MB resident",
        (after_big.saturating_sub(baseline)) / MB
    );

    // 100 MB of garbage, over the default maximum: the connection that sent it is
    // dropped at its size header; the peer reconnects, and its next frame arrives.
    let hostile = vec![b'{'; 100 * MB];
    assert!(hostile.len() as u64 > DEFAULT_MAX_MESSAGE_SIZE);
    push.send(&hostile[..], 0).unwrap();
    drop(hostile);
    push.send(&br#"{"type": "After"}"#[..], 0).unwrap();
    let next: Value = pull.pull().expect("the frame after the refused one");
    assert_eq!(next["type"], "After", "the refused frame was not delivered");
    drop(push);
    let after_hostile = rss();
    eprintln!("RSS after a refused 100 MB frame: {} MB", after_hostile / MB);
    assert!(
        after_hostile < baseline + 20 * MB,
        "a refused 100 MB frame left {} MB resident",
        (after_hostile.saturating_sub(baseline)) / MB
    );
}

/// How long each flood runs.
const FLOOD: Duration = Duration::from_secs(4);
const FLOOD_PAYLOAD: usize = 4096;
const HWM: usize = 200;

/// The bound the options document: what the send and receive queues can hold
/// (HWM x message size each), plus slack for libzmq's buffers and the test itself.
fn queue_bound() -> usize {
    2 * HWM * (FLOOD_PAYLOAD + 64) + 24 * MB
}

fn flood_frame(seq: u64) -> Value {
    serde_json::json!({"type": "Flood", "seq": seq, "pad": "z".repeat(FLOOD_PAYLOAD)})
}

#[test]
fn push_flooding_a_slow_pull_stays_within_the_queue_bound_and_loses_nothing() {
    let _turn = measuring();
    let mut pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .receive_hwm(HWM as u32)
        .receive_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut push = PushSocket::builder()
        .connect(&pull.endpoint())
        .unwrap()
        .send_hwm(HWM as u32)
        .send_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    push.wait_connected(READY).unwrap();
    let baseline = rss();
    let sender = std::thread::spawn(move || {
        let start = Instant::now();
        let mut seq = 0;
        while start.elapsed() < FLOOD {
            push.push(&flood_frame(seq)).unwrap();
            seq += 1;
        }
        push.close().unwrap();
        seq
    });
    let mut peak = baseline;
    let mut received = 0u64;
    loop {
        match pull.pull_within::<Value>(Duration::from_millis(500)) {
            Ok(v) => {
                assert_eq!(v["seq"], received, "in order, none lost");
                received += 1;
                // The slow consumer: 1 ms a message.
                std::thread::sleep(Duration::from_millis(1));
                if received.is_multiple_of(64) {
                    peak = peak.max(rss());
                }
            }
            Err(Error::Timeout { .. }) if sender.is_finished() => break,
            Err(Error::Timeout { .. }) => {}
            Err(e) => panic!("pulling: {e}"),
        }
    }
    let sent = sender.join().unwrap();
    assert_eq!(received, sent, "every message pushed arrived");
    eprintln!(
        "PUSH flood: {sent} messages, RSS peak {} MB over a baseline of {} MB",
        (peak - baseline) / MB,
        baseline / MB
    );
    assert!(
        peak - baseline < queue_bound(),
        "RSS rose {} MB, bound {} MB",
        (peak - baseline) / MB,
        queue_bound() / MB
    );
}

#[test]
fn publisher_flooding_a_slow_subscriber_stays_within_the_queue_bound() {
    let _turn = measuring();
    let mut publisher =
        Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().send_hwm(HWM as u32).build().unwrap();
    let mut subscriber = Subscriber::builder()
        .connect(&publisher.endpoint())
        .unwrap()
        .subscribe_all()
        .receive_hwm(HWM as u32)
        .receive_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();
    let baseline = rss();
    let sender = std::thread::spawn(move || {
        let start = Instant::now();
        let mut seq = 0;
        while start.elapsed() < FLOOD {
            // Lossy: never blocks, drops what a full queue cannot take.
            publisher.publish(&flood_frame(seq)).unwrap();
            seq += 1;
        }
        seq
    });
    let mut peak = baseline;
    let mut received = 0u64;
    let mut last = None;
    while !sender.is_finished() {
        if let Ok((_, v)) = subscriber.receive::<Value>() {
            let seq = v["seq"].as_u64().unwrap();
            assert!(last.is_none_or(|l| seq > l), "in order");
            last = Some(seq);
            received += 1;
            std::thread::sleep(Duration::from_millis(1));
            if received.is_multiple_of(64) {
                peak = peak.max(rss());
            }
        }
    }
    let sent = sender.join().unwrap();
    eprintln!("PUB flood: {sent} published, {received} received, RSS peak {} MB", (peak - baseline) / MB);
    assert!(received > 0 && received < sent, "a slow subscriber gets some, the rest is dropped");
    assert!(
        peak - baseline < queue_bound(),
        "RSS rose {} MB, bound {} MB",
        (peak - baseline) / MB,
        queue_bound() / MB
    );
}
