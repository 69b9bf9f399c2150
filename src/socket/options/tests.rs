//! Every option of the table, set through the builder and through TOML, read back
//! from libzmq (`zmq_getsockopt`) where libzmq can read it.

use std::time::Duration;

use super::{PerKind, SocketOptions};
use crate::config::{self, PublisherConfig, PullConfig, PushConfig, SubscriberConfig};
use crate::socket::{Publisher, PullSocket, PushSocket, Subscriber};

fn get_raw_int(socket: &mut zmq::Socket, option: u32) -> i32 {
    crate::socket::ffi::get_raw_int(socket, "getsockopt", option).unwrap()
}

/// What libzmq reports for the options `check` looks at.
#[derive(Debug, PartialEq)]
struct Read {
    sndtimeo: i32,
    rcvtimeo: i32,
    linger: i32,
    sndhwm: i32,
    rcvhwm: i32,
    conflate: bool,
    heartbeat_ivl: i32,
    heartbeat_timeout: i32,
    heartbeat_ttl: i32,
    reconnect_ivl: i32,
    reconnect_ivl_max: i32,
    immediate: bool,
    maxmsgsize: i64,
    tcp_maxrt: i32,
    keepalive: (i32, i32, i32, i32),
}

fn read(socket: &mut zmq::Socket) -> Read {
    Read {
        sndtimeo: socket.get_sndtimeo().unwrap(),
        rcvtimeo: socket.get_rcvtimeo().unwrap(),
        linger: socket.get_linger().unwrap(),
        sndhwm: socket.get_sndhwm().unwrap(),
        rcvhwm: socket.get_rcvhwm().unwrap(),
        conflate: socket.is_conflate().unwrap(),
        heartbeat_ivl: socket.get_heartbeat_ivl().unwrap(),
        heartbeat_timeout: socket.get_heartbeat_timeout().unwrap(),
        heartbeat_ttl: socket.get_heartbeat_ttl().unwrap(),
        reconnect_ivl: socket.get_reconnect_ivl().unwrap(),
        reconnect_ivl_max: socket.get_reconnect_ivl_max().unwrap(),
        immediate: socket.is_immediate().unwrap(),
        maxmsgsize: socket.get_maxmsgsize().unwrap(),
        tcp_maxrt: get_raw_int(socket, zmq_sys::ZMQ_TCP_MAXRT),
        keepalive: (
            socket.get_tcp_keepalive().unwrap(),
            socket.get_tcp_keepalive_idle().unwrap(),
            socket.get_tcp_keepalive_intvl().unwrap(),
            socket.get_tcp_keepalive_cnt().unwrap(),
        ),
    }
}

/// The values every option is set to below, as libzmq reports them.
fn expected() -> Read {
    Read {
        sndtimeo: 1_001,
        rcvtimeo: 1_002,
        linger: 1_003,
        sndhwm: 4,
        rcvhwm: 5,
        conflate: true,
        heartbeat_ivl: 6_000,
        heartbeat_timeout: 7_000,
        // libzmq keeps the TTL in tenths of a second.
        heartbeat_ttl: 8_000,
        reconnect_ivl: 9,
        reconnect_ivl_max: 10,
        immediate: true,
        maxmsgsize: 11,
        tcp_maxrt: 12,
        keepalive: (1, 13, 1, 5),
    }
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[test]
fn every_option_is_a_row_of_the_table_and_has_a_value_below() {
    // Naming every field (no `..`): a new option must be added to this test.
    let SocketOptions {
        send_timeout: _,
        receive_timeout: _,
        linger: _,
        send_hwm: _,
        receive_hwm: _,
        conflate: _,
        heartbeat_interval: _,
        heartbeat_timeout: _,
        heartbeat_ttl: _,
        reconnect_interval: _,
        reconnect_interval_max: _,
        immediate: _,
        max_message_size: _,
        tcp_max_retransmit: _,
        tcp_keepalive: _,
        lossless: _,
        security: _,
        zap_domain: _,
    } = SocketOptions::default();
}

#[test]
fn every_option_set_through_the_builder_reaches_libzmq() {
    // A pull socket: `immediate` and `tcp_max_retransmit` are off by default there,
    // so setting them shows.
    let mut pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .send_timeout(ms(1_001))
        .receive_timeout(ms(1_002))
        .linger(ms(1_003))
        .send_hwm(4)
        .receive_hwm(5)
        .conflate(true)
        .heartbeat_interval(ms(6_000))
        .heartbeat_timeout(ms(7_000))
        .heartbeat_ttl(ms(8_000))
        .reconnect_interval(ms(9))
        .reconnect_interval_max(ms(10))
        .immediate(true)
        .max_message_size(11)
        .tcp_max_retransmit(ms(12))
        .tcp_keepalive(Duration::from_secs(13))
        .build()
        .unwrap();
    assert_eq!(read(pull.core.socket_mut()), expected());

    // The publisher's own option builds (libzmq cannot read ZMQ_XPUB_NODROP back;
    // tests/sockets.rs shows a lossless publisher blocking instead of dropping).
    let publisher = Publisher::builder().bind("inproc://options-lossless").unwrap().lossless(true).build();
    assert!(publisher.unwrap().core.options().lossless);
}

#[test]
fn every_option_set_in_toml_reaches_libzmq() {
    let keys = "send_timeout_ms = 1001\nreceive_timeout_ms = 1002\nlinger_ms = 1003\n\
        send_hwm = 4\nreceive_hwm = 5\nconflate = true\nheartbeat_interval_ms = 6000\n\
        heartbeat_timeout_ms = 7000\nheartbeat_ttl_ms = 8000\nreconnect_interval_ms = 9\n\
        reconnect_interval_max_ms = 10\nimmediate = true\nmax_message_size = 11\n\
        tcp_max_retransmit_ms = 12\ntcp_keepalive_ms = 13000\n";
    let pull: PullConfig =
        config::from_str(&format!("bind = \"tcp://127.0.0.1:*\"\n{keys}"), "pull.toml").unwrap();
    assert_eq!(read(pull.build().unwrap().core.socket_mut()), expected());
    let sub: SubscriberConfig =
        config::from_str(&format!("connect = \"tcp://127.0.0.1:1\"\ntopics = [\"\"]\n{keys}"), "sub.toml")
            .unwrap();
    assert_eq!(read(sub.build().unwrap().core.socket_mut()), expected());

    let publisher: PublisherConfig =
        config::from_str("bind = \"inproc://options-toml-lossless\"\nlossless = true\n", "pub.toml").unwrap();
    assert!(publisher.build().unwrap().core.options().lossless);
    // `lossless` is a publisher's key only.
    let err = config::from_str::<PushConfig>("bind = \"tcp://127.0.0.1:*\"\nlossless = true\n", "push.toml")
        .unwrap_err();
    assert!(matches!(err, config::ConfigError::UnknownKeys { .. }), "{err}");
}

#[test]
fn zero_in_toml_turns_the_optional_options_off() {
    let push: PushConfig = config::from_str(
        "bind = \"tcp://127.0.0.1:*\"\nheartbeat_interval_ms = 0\ntcp_max_retransmit_ms = 0\ntcp_keepalive_ms = 0\n",
        "push.toml",
    )
    .unwrap();
    let mut push = push.build().unwrap();
    let read = read(push.core.socket_mut());
    assert_eq!((read.heartbeat_ivl, read.tcp_maxrt, read.keepalive.0), (0, 0, -1));
}

#[test]
fn per_kind_defaults_reach_libzmq_and_survive_options() {
    // (immediate, ZMQ_TCP_MAXRT) per kind: push and publisher send, so they declare
    // a dead peer after 9 s; only the push queues to completed connections only.
    let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let mut sub = Subscriber::builder().bind("tcp://127.0.0.1:*").unwrap().subscribe_all().build().unwrap();
    let kinds = |s: &mut zmq::Socket| (s.is_immediate().unwrap(), get_raw_int(s, zmq_sys::ZMQ_TCP_MAXRT));
    assert_eq!(kinds(push.core.socket_mut()), (true, 9_000));
    assert_eq!(kinds(publisher.core.socket_mut()), (false, 9_000));
    assert_eq!(kinds(pull.core.socket_mut()), (false, 0));
    assert_eq!(kinds(sub.core.socket_mut()), (false, 0));

    // `options(SocketOptions::default())` keeps the push socket's defaults ...
    let mut push = PushSocket::builder()
        .options(SocketOptions::default())
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(kinds(push.core.socket_mut()), (true, 9_000));
    // ... and an option set in them wins over the kind's default.
    let off = SocketOptions {
        immediate: PerKind::Set(false),
        tcp_max_retransmit: PerKind::Set(None),
        ..SocketOptions::default()
    };
    let mut push = PushSocket::builder().options(off).bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    assert_eq!(kinds(push.core.socket_mut()), (false, 0));
    // The same in TOML.
    let cfg: PushConfig = config::from_str(
        "bind = \"tcp://127.0.0.1:*\"\nimmediate = false\ntcp_max_retransmit_ms = 0\n",
        "p.toml",
    )
    .unwrap();
    assert_eq!(kinds(cfg.build().unwrap().core.socket_mut()), (false, 0));
}

#[test]
fn hwm_above_i32_is_the_largest_libzmq_takes() {
    let mut pull = PullSocket::builder().bind("inproc://options-hwm").unwrap().receive_hwm(u32::MAX).build();
    assert_eq!(pull.as_mut().unwrap().core.socket_mut().get_rcvhwm().unwrap(), i32::MAX);
}
