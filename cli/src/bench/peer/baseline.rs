//! The hand-written peers: raw `zmq` sockets with `serde_json` on mirror structs
//! (`Impl::Baseline`, what an application would write without the library), and the
//! same sockets moving pre-encoded frames with no JSON at all (`Impl::Raw`, the
//! transport's ceiling).

use std::hint::black_box;
use std::time::Instant;

use serde_json::{json, Value};

use super::measure::{millis, ready, round_trips, sender_result, Counter};
use super::{
    base_heartbeat, base_render_request, wire_bytes_of, BaseHeartbeat, BaseRenderRequest, Curve, Impl,
    PeerArgs, Task, BIND, LINGER, READY, STALL, TOPIC,
};
use crate::Failure;

/// Runs the hand-written side of `args.task`.
pub(super) fn run(args: &PeerArgs) -> Result<Value, Failure> {
    match (args.imp, args.depth_map_kib) {
        (Impl::Raw, _) => run_with::<Raw>(args),
        (_, 0) => run_with::<HeartbeatJson>(args),
        _ => run_with::<RenderJson>(args),
    }
}

fn run_with<C: Codec>(args: &PeerArgs) -> Result<Value, Failure> {
    match args.task {
        Task::Pull => receiver::<C>(args, zmq::PULL),
        Task::Sub => receiver::<C>(args, zmq::SUB),
        Task::Push => push::<C>(args),
        Task::Pub => publish::<C>(args),
        Task::Ping => ping::<C>(args),
        Task::Pong => pong::<C>(args),
        Task::Many => Err(Failure::Usage("the many-sockets trial is the library's".to_owned())),
    }
}

/// How a hand-written peer writes and reads its frames.
trait Codec: Sized {
    /// The encoder of the message `args` asks for; PUB frames start with `prefix`.
    fn new(args: &PeerArgs, prefix: &[u8]) -> Self;
    /// The frame to send (written into `buf`, or pre-encoded).
    fn frame<'a>(&'a self, buf: &'a mut Vec<u8>) -> Result<&'a [u8], Failure>;
    /// Reads a received PUSH frame (the JSON document).
    fn decode(json: &[u8]) -> Result<(), Failure>;
    /// Reads a received PUB frame (`topic json`).
    fn decode_pub(frame: &[u8]) -> Result<(), Failure> {
        let space = frame.iter().position(|&b| b == b' ').unwrap_or(0);
        let topic = std::str::from_utf8(&frame[..space])
            .map_err(|e| Failure::Runtime(format!("baseline topic: {e}")))?;
        black_box(topic);
        Self::decode(&frame[space + 1..])
    }
}

fn json_failure(e: serde_json::Error) -> Failure {
    Failure::Runtime(format!("baseline JSON: {e}"))
}

/// A type check as any hand-written reader of a tagged wire format does it.
fn check_type(found: &str, expected: &str) -> Result<(), Failure> {
    if found == expected {
        Ok(())
    } else {
        Err(Failure::Runtime(format!("baseline: unexpected type {found:?}")))
    }
}

/// `serde_json::to_writer` of the mirror struct into a reused buffer, after the prefix.
fn write_json<T: serde::Serialize>(prefix: &[u8], value: &T, buf: &mut Vec<u8>) -> Result<(), Failure> {
    buf.clear();
    buf.extend_from_slice(prefix);
    serde_json::to_writer(&mut *buf, value).map_err(json_failure)
}

/// The 89-byte Heartbeat through [`BaseHeartbeat`].
struct HeartbeatJson {
    prefix: Vec<u8>,
    value: BaseHeartbeat<'static>,
}

impl Codec for HeartbeatJson {
    fn new(_: &PeerArgs, prefix: &[u8]) -> Self {
        HeartbeatJson { prefix: prefix.to_vec(), value: base_heartbeat() }
    }
    fn frame<'a>(&'a self, buf: &'a mut Vec<u8>) -> Result<&'a [u8], Failure> {
        write_json(&self.prefix, &self.value, buf)?;
        Ok(buf)
    }
    fn decode(json: &[u8]) -> Result<(), Failure> {
        let m: BaseHeartbeat = serde_json::from_slice(json).map_err(json_failure)?;
        check_type(m.r#type, "Heartbeat")?;
        black_box(m);
        Ok(())
    }
}

/// A `RenderRequest` through [`BaseRenderRequest`].
struct RenderJson {
    prefix: Vec<u8>,
    value: BaseRenderRequest<'static>,
}

impl Codec for RenderJson {
    fn new(args: &PeerArgs, prefix: &[u8]) -> Self {
        RenderJson { prefix: prefix.to_vec(), value: base_render_request(args.depth_map_kib) }
    }
    fn frame<'a>(&'a self, buf: &'a mut Vec<u8>) -> Result<&'a [u8], Failure> {
        write_json(&self.prefix, &self.value, buf)?;
        Ok(buf)
    }
    fn decode(json: &[u8]) -> Result<(), Failure> {
        let m: BaseRenderRequest = serde_json::from_slice(json).map_err(json_failure)?;
        check_type(m.r#type, "RenderRequest")?;
        black_box(m);
        Ok(())
    }
}

/// The ceiling: the same bytes, encoded once; received frames are not read.
struct Raw {
    frame: Vec<u8>,
}

impl Codec for Raw {
    fn new(args: &PeerArgs, prefix: &[u8]) -> Self {
        let mut frame = prefix.to_vec();
        frame.extend_from_slice(&wire_bytes_of(args.depth_map_kib));
        Raw { frame }
    }
    fn frame<'a>(&'a self, _: &'a mut Vec<u8>) -> Result<&'a [u8], Failure> {
        Ok(&self.frame)
    }
    fn decode(json: &[u8]) -> Result<(), Failure> {
        black_box(json.len());
        Ok(())
    }
    fn decode_pub(frame: &[u8]) -> Result<(), Failure> {
        black_box(frame.len());
        Ok(())
    }
}

fn zmq_failure(what: &str) -> impl Fn(zmq::Error) -> Failure + '_ {
    move |e| Failure::Runtime(format!("{what}: {e}"))
}

/// Sets the CURVE options the peer was given (before bind or connect, as libzmq needs).
fn secure(sock: &zmq::Socket, curve: &Curve) -> Result<(), Failure> {
    let f = zmq_failure("CURVE option");
    match curve {
        Curve::Off => {}
        Curve::Server(secret) => {
            sock.set_curve_server(true).map_err(&f)?;
            sock.set_curve_secretkey(secret.expose_bytes()).map_err(&f)?;
        }
        Curve::Client { server, client } => {
            sock.set_curve_serverkey(server.as_bytes()).map_err(&f)?;
            sock.set_curve_publickey(client.public().as_bytes()).map_err(&f)?;
            sock.set_curve_secretkey(client.secret().expose_bytes()).map_err(&f)?;
        }
    }
    Ok(())
}

/// A socket that will connect: timeouts, linger and CURVE set, then connected.
fn connected(
    ctx: &zmq::Context,
    kind: zmq::SocketType,
    ep: &str,
    curve: &Curve,
) -> Result<zmq::Socket, Failure> {
    let sock = ctx.socket(kind).map_err(zmq_failure("socket"))?;
    sock.set_sndtimeo(millis(STALL)).map_err(zmq_failure("sndtimeo"))?;
    sock.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    sock.set_linger(millis(LINGER)).map_err(zmq_failure("linger"))?;
    secure(&sock, curve)?;
    sock.connect(ep).map_err(zmq_failure("connect"))?;
    Ok(sock)
}

fn bound(ctx: &zmq::Context, kind: zmq::SocketType, curve: &Curve) -> Result<(zmq::Socket, String), Failure> {
    let sock = ctx.socket(kind).map_err(zmq_failure("socket"))?;
    secure(&sock, curve)?;
    sock.bind(BIND).map_err(zmq_failure("bind"))?;
    let ep = sock.get_last_endpoint().map_err(zmq_failure("endpoint"))?.unwrap_or_default();
    Ok((sock, ep))
}

fn subscription() -> Vec<u8> {
    let mut s = TOPIC.as_bytes().to_vec();
    s.push(b' ');
    s
}

/// A receiver: binds (or, a SUB given an endpoint, connects), and counts frames.
fn receiver<C: Codec>(args: &PeerArgs, kind: zmq::SocketType) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let ctx = zmq::Context::new();
    let curve = args.curve()?;
    let sock = match args.endpoints.first() {
        Some(ep) => connected(&ctx, kind, ep, &curve)?,
        None => {
            let (sock, ep) = bound(&ctx, kind, &curve)?;
            ready(&[ep])?;
            sock
        }
    };
    sock.set_linger(0).map_err(zmq_failure("linger"))?;
    if kind == zmq::SUB {
        sock.set_subscribe(&subscription()).map_err(zmq_failure("subscribe"))?;
    }
    let idle = millis(counter.idle.min(STALL));
    let mut frame = zmq::Message::new();
    sock.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    let is_sub = kind == zmq::SUB;
    counter.run(|first| {
        let r = sock.recv(&mut frame, 0);
        if first {
            sock.set_rcvtimeo(idle).map_err(zmq_failure("rcvtimeo"))?;
        }
        match r {
            Ok(()) if is_sub => C::decode_pub(&frame).map(|()| true),
            Ok(()) => C::decode(&frame).map(|()| true),
            Err(zmq::Error::EAGAIN) => Ok(false),
            Err(e) => Err(zmq_failure("recv")(e)),
        }
    })
}

fn push<C: Codec>(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let sock = connected(&ctx, zmq::PUSH, args.endpoint(0)?, &args.curve()?)?;
    let codec = C::new(args, b"");
    let mut buf = Vec::with_capacity(256);
    let start = Instant::now();
    for _ in 0..args.count {
        sock.send(codec.frame(&mut buf)?, 0).map_err(zmq_failure("send"))?;
    }
    let elapsed = start.elapsed();
    drop(sock);
    drop(ctx); // zmq_ctx_term: delivers what is queued, for up to the linger
    Ok(sender_result(args.count, elapsed))
}

/// `ZMQ_XPUB_NODROP` (69): the `zmq` crate has no setter for it.
fn set_nodrop(sock: &mut zmq::Socket) -> Result<(), Failure> {
    let one: i32 = 1;
    // SAFETY: a live socket handle, a pointer to a live i32 and its size.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            sock.as_mut_ptr(),
            zmq_sys::ZMQ_XPUB_NODROP as i32,
            (&one as *const i32).cast(),
            std::mem::size_of::<i32>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Failure::Runtime("setsockopt ZMQ_XPUB_NODROP failed".to_owned()))
    }
}

fn publish<C: Codec>(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let mut sock = ctx.socket(zmq::XPUB).map_err(zmq_failure("socket"))?;
    if args.lossless {
        set_nodrop(&mut sock)?;
    }
    sock.set_sndtimeo(millis(STALL)).map_err(zmq_failure("sndtimeo"))?;
    sock.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    sock.set_linger(millis(LINGER)).map_err(zmq_failure("linger"))?;
    secure(&sock, &args.curve()?)?;
    let subscribers = match args.endpoints.first() {
        Some(ep) => {
            sock.connect(ep).map_err(zmq_failure("connect"))?;
            1
        }
        None => {
            // Every subscriber's (identical) subscription is handed up, to count them.
            sock.set_xpub_verbose(true).map_err(zmq_failure("xpub_verbose"))?;
            sock.bind(BIND).map_err(zmq_failure("bind"))?;
            ready(&[sock.get_last_endpoint().map_err(zmq_failure("endpoint"))?.unwrap_or_default()])?;
            args.subscribers.max(1)
        }
    };
    // The XPUB socket hands up the subscriptions: once they are here, nothing is lost
    // to a slow joiner.
    let mut arrived = zmq::Message::new();
    for _ in 0..subscribers {
        sock.recv(&mut arrived, 0).map_err(zmq_failure("waiting for the subscription"))?;
    }
    let codec = C::new(args, &subscription());
    let mut buf = Vec::with_capacity(256);
    let start = Instant::now();
    for _ in 0..args.count {
        sock.send(codec.frame(&mut buf)?, 0).map_err(zmq_failure("send"))?;
    }
    let elapsed = start.elapsed();
    drop(sock);
    drop(ctx);
    Ok(sender_result(args.count, elapsed))
}

fn ping<C: Codec>(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let curve = args.curve()?;
    let push = connected(&ctx, zmq::PUSH, args.endpoint(0)?, &curve)?;
    let pull = connected(&ctx, zmq::PULL, args.endpoint(1)?, &curve)?;
    let codec = C::new(args, b"");
    let mut buf = Vec::with_capacity(256);
    let mut frame = zmq::Message::new();
    let result = round_trips(args, || {
        push.send(codec.frame(&mut buf)?, 0).map_err(zmq_failure("send"))?;
        pull.recv(&mut frame, 0).map_err(zmq_failure("recv"))?;
        C::decode(&frame)
    })?;
    drop((push, pull));
    drop(ctx);
    Ok(result)
}

fn pong<C: Codec>(args: &PeerArgs) -> Result<Value, Failure> {
    let ctx = zmq::Context::new();
    let curve = args.curve()?;
    let (pull, pull_ep) = bound(&ctx, zmq::PULL, &curve)?;
    let (push, push_ep) = bound(&ctx, zmq::PUSH, &curve)?;
    pull.set_rcvtimeo(millis(READY)).map_err(zmq_failure("rcvtimeo"))?;
    pull.set_linger(0).map_err(zmq_failure("linger"))?;
    push.set_sndtimeo(millis(READY)).map_err(zmq_failure("sndtimeo"))?;
    push.set_linger(millis(LINGER)).map_err(zmq_failure("linger"))?;
    ready(&[pull_ep, push_ep])?;
    let codec = C::new(args, b"");
    let mut buf = Vec::with_capacity(256);
    let mut frame = zmq::Message::new();
    for _ in 0..args.warmup + args.count {
        pull.recv(&mut frame, 0).map_err(zmq_failure("recv"))?;
        C::decode(&frame)?;
        push.send(codec.frame(&mut buf)?, 0).map_err(zmq_failure("send"))?;
    }
    drop((push, pull));
    drop(ctx);
    Ok(json!({ "echoed": args.warmup + args.count, "peak_rss_kb": super::peak_rss_kb() }))
}
