//! What the raised socket cap costs: libzmq allocates a context's slot table (a mailbox
//! pointer and a free-slot index per allowed socket) when the context opens its first
//! socket. Measured here as the growth of the resident set at that moment, against
//! libzmq's default cap of 1023.

// A test may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used)]

use std::os::raw::c_int;

use zmq_sys::*;

fn rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// RSS growth (KiB) when a context capped at `cap` opens its first socket, and the
/// context's threads start with it (the same for every cap).
fn first_socket_cost(cap: c_int) -> i64 {
    // SAFETY: the context and socket are checked before use, stay on this thread, and
    // the socket is closed before its context is terminated.
    unsafe {
        let ctx = ext::with_max_sockets(cap, || zmq_ctx_new());
        assert_eq!(zmq_ctx_get(ctx, ZMQ_MAX_SOCKETS as c_int), cap);
        let before = rss_kib();
        let s = zmq_socket(ctx, ZMQ_PAIR as c_int);
        assert!(!s.is_null());
        let after = rss_kib();
        assert_eq!(zmq_close(s), 0);
        assert_eq!(zmq_ctx_term(ctx), 0);
        after - before
    }
}

#[test]
fn a_context_at_the_default_cap_costs_about_12_bytes_per_allowed_socket() {
    // Warm up the allocator and the thread machinery once.
    first_socket_cost(ZMQ_MAX_SOCKETS_DFLT as c_int);
    let small = first_socket_cost(ZMQ_MAX_SOCKETS_DFLT as c_int);
    let large = first_socket_cost(ext::DEFAULT_MAX_SOCKETS);
    let extra = large - small;
    let expected = i64::from(ext::DEFAULT_MAX_SOCKETS - ZMQ_MAX_SOCKETS_DFLT as c_int) * 12 / 1024;
    eprintln!(
        "first socket of a context: cap 1023 +{small} KiB, cap {} +{large} KiB: {extra} KiB more (12 B/slot: {expected} KiB)",
        ext::DEFAULT_MAX_SOCKETS
    );
    assert!(extra <= expected + 256, "the cap costs {extra} KiB, expected about {expected} KiB");
}
