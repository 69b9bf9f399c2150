//! The peer processes of `exbus bench` (the hidden `exbus bench-peer` command): one task
//! each, on one implementation: the library ([`library`]), the hand-written baseline
//! or the raw-bytes ceiling ([`baseline`]); what they measure and print is in
//! [`measure`].
//!
//! Protocol with the orchestrator: a binding peer (pull, sub, pong, and a pub given no
//! endpoint) binds `tcp://127.0.0.1:*` and prints `{"endpoints": [...]}`; every peer
//! ends by printing one JSON line with what it measured, then exits 0. Every wait is
//! bounded.

mod baseline;
mod library;
mod measure;

use std::time::Duration;

use clap::ValueEnum;
use experimance_common::security::{CurveKeyPair, CurvePublicKey, CurveSecretKey};
use experimance_common::{Biome, Era, Heartbeat, Message, RenderRequest};
use serde::{Deserialize, Serialize};

use crate::Failure;

pub use measure::peak_rss_kb;

/// The topic of the PUB/SUB trials.
pub const TOPIC: &str = "heartbeat";
const SERVICE: &str = "experimance-core-benchmark";
const TIMESTAMP: f64 = 1_732_762_000.123_456;
const BIND: &str = "tcp://127.0.0.1:*";
/// How long a peer waits for its counterpart to start and connect.
const READY: Duration = Duration::from_secs(20);
/// Send timeout, and the longest a lossless receiver waits between two messages.
const STALL: Duration = Duration::from_secs(5);
const LINGER: Duration = Duration::from_secs(5);

/// What a peer does (named `Task` so that it does not read as `socket::Role`, which is
/// bind or connect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Task {
    /// PUSH `--count` messages to `--endpoint`.
    Push,
    /// Bind a PULL socket and count `--count` messages.
    Pull,
    /// Publish `--count` messages: to `--endpoint` (connects), or, with no endpoint,
    /// bound, to `--subscribers` subscribers; waits for the subscriptions first.
    Pub,
    /// Count up to `--count` messages on a SUB socket: bound, or connected to
    /// `--endpoint`.
    Sub,
    /// Round trips: PUSH to the first endpoint, PULL the echo from the second.
    Ping,
    /// Bind a PULL and a PUSH socket and echo `--warmup` + `--count` messages.
    Pong,
    /// Many sockets in one process: `--subscribers` subscribers connected to
    /// `--endpoint`, each counting `--count` messages (async: one tokio runtime; blocking:
    /// a thread each); reports the memory per socket and the CPU per message.
    Many,
}

/// Which implementation a peer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Impl {
    /// The library's blocking API (`push`, `pull`, `publish`, `receive`).
    LibraryBlocking,
    /// The library's tokio API on a current-thread runtime.
    Async,
    /// Hand-written `zmq` + `serde_json`.
    Baseline,
    /// The service runtime: a typed handler per message (receivers; senders push as
    /// `async`).
    Service,
    /// The transport's ceiling: raw `zmq` moving the same bytes, pre-encoded once, with
    /// no JSON on either side.
    Raw,
}

/// The arguments of the hidden `exbus bench-peer` command.
#[derive(Debug, clap::Args)]
pub struct PeerArgs {
    /// The task.
    #[arg(value_enum)]
    pub task: Task,
    /// The implementation.
    #[arg(value_enum)]
    pub imp: Impl,
    /// Endpoint(s) to connect to (senders, ping, a connecting sub).
    #[arg(long = "endpoint")]
    pub endpoints: Vec<String>,
    /// Messages (or measured round trips).
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Round trips before measuring (ping/pong).
    #[arg(long, default_value_t = 0)]
    pub warmup: u64,
    /// PUB/SUB: lossless publishing (`ZMQ_XPUB_NODROP`).
    #[arg(long)]
    pub lossless: bool,
    /// A bound publisher waits for this many subscribers.
    #[arg(long, default_value_t = 1)]
    pub subscribers: usize,
    /// Publishers: wait this long between two messages (0: as fast as possible).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub interval_ms: u64,
    /// Receivers: end after this long without a message (the lossy PUB/SUB trial's end).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub idle_ms: u64,
    /// The message: 0 for the 89-byte Heartbeat, else a `RenderRequest` whose
    /// `depth_map_png` is this many KiB of base64 (PUSH/PULL only).
    #[arg(long, default_value_t = 0, value_name = "KIB")]
    pub depth_map_kib: usize,
    /// CURVE server with this secret key (Z85; pass as `--curve-server=KEY`, a key may
    /// begin with '-'): the binding side.
    #[arg(long, value_name = "SECRET_Z85")]
    pub curve_server: Option<String>,
    /// CURVE client: `SERVER_PUBLIC,PUBLIC,SECRET` in Z85: the connecting side.
    #[arg(long, value_name = "SERVER_PUBLIC,PUBLIC,SECRET")]
    pub curve_client: Option<String>,
}

/// The CURVE keys a peer was given.
enum Curve {
    Off,
    Server(CurveSecretKey),
    Client { server: CurvePublicKey, client: CurveKeyPair },
}

impl PeerArgs {
    fn curve(&self) -> Result<Curve, Failure> {
        let bad = |e: experimance_common::security::Z85Error| Failure::Usage(format!("CURVE key: {e}"));
        if let Some(secret) = &self.curve_server {
            return Ok(Curve::Server(CurveSecretKey::from_z85(secret).map_err(bad)?));
        }
        let Some(keys) = &self.curve_client else { return Ok(Curve::Off) };
        let parts: Vec<&str> = keys.split(',').collect();
        let [server, public, secret] = parts[..] else {
            return Err(Failure::Usage("--curve-client takes three comma-separated Z85 keys".to_owned()));
        };
        let pair = CurveKeyPair::from_keys(
            CurvePublicKey::from_z85(public).map_err(bad)?,
            CurveSecretKey::from_z85(secret).map_err(bad)?,
        );
        Ok(Curve::Client { server: CurvePublicKey::from_z85(server).map_err(bad)?, client: pair })
    }

    fn endpoint(&self, i: usize) -> Result<&str, Failure> {
        self.endpoints
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| Failure::Usage(format!("endpoint {i} missing")))
    }
}

/// A message the bench sends: built once, encoded by the library every time.
pub trait Sample: Message + Clone + Send + 'static {
    /// The value sent by a peer given `args`.
    fn sample(args: &PeerArgs) -> Self;
}

impl Sample for Heartbeat {
    fn sample(_: &PeerArgs) -> Self {
        heartbeat()
    }
}

impl Sample for RenderRequest {
    fn sample(args: &PeerArgs) -> Self {
        render_request(args.depth_map_kib)
    }
}

/// The benchmark's Heartbeat, as the library's type.
pub fn heartbeat() -> Heartbeat {
    Heartbeat { timestamp: TIMESTAMP, service: SERVICE.to_owned(), extra: serde_json::Map::new() }
}

/// A `RenderRequest` as the installation sends it, with `kib` KiB of base64 (a
/// deterministic pseudo-random PNG-sized payload) as its `depth_map_png`.
pub fn render_request(kib: usize) -> RenderRequest {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u32 = 0x9e37_79b9;
    let depth: String = (0..kib * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            char::from(B64[(x % 64) as usize])
        })
        .collect();
    RenderRequest {
        request_id: "bench-render-0001".to_owned(),
        era: Era::Modern,
        biome: Biome::TemperateForest,
        prompt: "a misty temperate forest at dawn, a river, modern buildings on the far bank".to_owned(),
        depth_map_png: Some(depth),
    }
}

/// The hand-written baseline's mirror of the Heartbeat: the same JSON bytes, `"type"` first.
#[derive(Debug, Serialize, Deserialize)]
pub struct BaseHeartbeat<'a> {
    /// Always `"Heartbeat"`.
    pub r#type: &'a str,
    /// Seconds since the epoch.
    pub timestamp: f64,
    /// The sender.
    pub service: String,
}

/// The baseline's mirror of a `RenderRequest` (the same JSON bytes, `"type"` first).
#[derive(Debug, Serialize, Deserialize)]
pub struct BaseRenderRequest<'a> {
    /// Always `"RenderRequest"`.
    pub r#type: &'a str,
    /// The request id.
    pub request_id: String,
    /// The era's wire name.
    pub era: String,
    /// The biome's wire name.
    pub biome: String,
    /// The prompt.
    pub prompt: String,
    /// The base64 depth map.
    pub depth_map_png: Option<String>,
}

/// The benchmark's Heartbeat, as the baseline's struct.
pub fn base_heartbeat() -> BaseHeartbeat<'static> {
    BaseHeartbeat { r#type: "Heartbeat", timestamp: TIMESTAMP, service: SERVICE.to_owned() }
}

/// The baseline's mirror of the `RenderRequest` of [`render_request`].
pub fn base_render_request(kib: usize) -> BaseRenderRequest<'static> {
    let r = render_request(kib);
    BaseRenderRequest {
        r#type: "RenderRequest",
        request_id: r.request_id,
        era: r.era.as_str().to_owned(),
        biome: r.biome.as_str().to_owned(),
        prompt: r.prompt,
        depth_map_png: r.depth_map_png,
    }
}

/// The PUSH frame every implementation sends for a peer given `depth_map_kib` (written
/// by the baseline's mirror, byte for byte what the library writes: a test checks it).
pub fn wire_bytes_of(depth_map_kib: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let written = if depth_map_kib == 0 {
        serde_json::to_writer(&mut buf, &base_heartbeat())
    } else {
        serde_json::to_writer(&mut buf, &base_render_request(depth_map_kib))
    };
    written.map(|()| buf).unwrap_or_default()
}

/// The 89-byte Heartbeat's PUSH frame.
pub fn wire_bytes() -> Vec<u8> {
    wire_bytes_of(0)
}

/// Runs one peer and prints its result line.
pub fn run(args: PeerArgs) -> Result<(), Failure> {
    let result = match args.imp {
        Impl::LibraryBlocking | Impl::Async | Impl::Service if args.depth_map_kib == 0 => {
            library::run::<Heartbeat>(&args)?
        }
        Impl::LibraryBlocking | Impl::Async | Impl::Service => library::run::<RenderRequest>(&args)?,
        Impl::Baseline | Impl::Raw => baseline::run(&args)?,
    };
    measure::print_line(&result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The baseline's mirrors and the raw ceiling send byte for byte what the library
    /// sends.
    #[test]
    fn every_implementation_sends_the_same_bytes() {
        let mut lib = Vec::new();
        experimance_common::codec::encode_push(&heartbeat(), &mut lib).unwrap();
        assert_eq!(wire_bytes(), lib);
        assert_eq!(lib.len(), 89);
        for kib in [1, 64] {
            experimance_common::codec::encode_push(&render_request(kib), &mut lib).unwrap();
            assert_eq!(wire_bytes_of(kib), lib, "{kib} KiB");
            assert!(lib.len() > kib * 1024);
        }
    }
}
