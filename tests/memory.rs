//! What one big or hostile frame costs a receiver: a frame over the default maximum
//! size is refused before it is buffered, and a big valid frame does not stay resident
//! once its message is dropped. One test in its own binary, so that no other test's
//! allocations move the resident size it measures.

use std::time::Duration;

use experimance_common::socket::PullSocket;
use experimance_common::DEFAULT_MAX_MESSAGE_SIZE;
use serde_json::Value;

#[path = "support/net.rs"]
mod net;
use net::READY;

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

#[test]
fn big_and_hostile_frames_do_not_stay_resident() {
    // A fixed threshold: glibc then maps every large block on its own and unmaps it
    // when freed, instead of raising the threshold after the first free and keeping
    // later blocks in its heap. So the resident size follows what is still allocated
    // (by the library), not the allocator's caching.
    // SAFETY: mallopt only sets a tunable of the allocator.
    assert_eq!(unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) }, 1);
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
