//! `exbus`: the command-line tool for a live Experimance bus.
//!
//! Exit codes (also in `exbus --help` and the README): 0 success; 1 a runtime failure
//! (socket error, lost messages in the demo, a demo channel that stalled); 2 a usage
//! error (bad arguments, bad endpoint, invalid JSON, nothing to send); 3 a timeout that
//! `--timeout` governs (nothing received, no subscriber or peer, a send that could not
//! complete); 130 interrupted by Ctrl-C or SIGTERM, after the command's summary.

mod bench;
mod demo;
mod endpoint;
mod hz;
mod output;
mod record;
mod send;
mod session;
pub mod table;
mod types;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use experimance_common::registry::registered_types;
use experimance_common::socket::{Error as SocketError, PullSocket, Role, Subscriber};
use experimance_common::{codec, DefaultPort};
use serde_json::Value;

use crate::endpoint::EndpointArgs;
use crate::output::OutputArgs;
use crate::session::{interrupted, parse_duration, show, Out, Watch, TICK};

const AFTER_HELP: &str = "\
Endpoints: `@tcp://*:5555` binds, `>tcp://host:5555` connects (quote it: `'>tcp://...'`,
or use --bind/--connect), a bare endpoint takes the command's usual role (listen, pull,
hz and record connect; publish, push and replay bind). A port may be a default-port
name: `tcp://localhost:coordinator_pub`. Several endpoints may be given.

Durations: `500ms`, `5s`, `2m`, or a number of seconds.

Exit codes: 0 success; 1 runtime failure; 2 usage error; 3 timeout (--timeout passed
with nothing received, no subscriber or peer came, a send could not complete);
130 interrupted (Ctrl-C or SIGTERM), after the summary.";

/// See and poke a live Experimance ZeroMQ bus.
#[derive(Debug, Parser)]
#[command(name = "exbus", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Subscribe and print each message (topic, type, fields).
    #[command(after_help = AFTER_HELP)]
    Listen {
        #[command(flatten)]
        at: EndpointArgs,
        /// Topic to subscribe to (prefix match; repeatable). Default: every topic.
        #[arg(short, long = "topic")]
        topics: Vec<String>,
        /// Match the topics exactly instead of by prefix.
        #[arg(long)]
        exact: bool,
        #[command(flatten)]
        receive: ReceiveArgs,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Publish JSON objects: an argument, or `-` for one per line from stdin, sent as
    /// each line arrives. Lines written by `listen --json` are accepted as they are.
    #[command(after_help = AFTER_HELP)]
    Publish {
        #[command(flatten)]
        at: send::SendTarget,
        /// The topic (a `listen --json` line's own "topic" wins). Default: the empty topic.
        #[arg(short, long, default_value = "")]
        topic: String,
        #[command(flatten)]
        send: send::SendArgs,
        /// Wait until this many subscribers to the topic are there before publishing
        /// (at most --timeout; then exit 3 having sent nothing). 0 sends at once, and
        /// what nobody subscribed to is lost.
        #[arg(long, value_name = "N", default_value_t = 1)]
        wait_subscribers: usize,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Push JSON objects to pull sockets (an argument, or `-` for one per line from
    /// stdin, sent as each line arrives). A push with no peer waits up to --timeout.
    #[command(after_help = AFTER_HELP)]
    Push {
        #[command(flatten)]
        at: send::SendTarget,
        #[command(flatten)]
        send: send::SendArgs,
        /// Wait until this many peers are connected before pushing (at most --timeout).
        #[arg(long, value_name = "N")]
        wait_peers: Option<usize>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Pull and print each message.
    #[command(after_help = AFTER_HELP)]
    Pull {
        #[command(flatten)]
        at: EndpointArgs,
        #[command(flatten)]
        receive: ReceiveArgs,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Record every frame (receive time, topic, exact bytes) to a file, one JSON line each.
    #[command(after_help = format!("{}\n\n{AFTER_HELP}", record::FORMAT_HELP))]
    Record(record::RecordArgs),
    /// Republish a recording with its original timing, byte for byte.
    #[command(after_help = format!("{}\n\n{AFTER_HELP}", record::FORMAT_HELP))]
    Replay(record::ReplayArgs),
    /// Generate a CURVE key pair: NAME.key (the secret certificate, mode 0600) and
    /// NAME.pub (the public one), in the format pyzmq's zmq.auth reads.
    Keygen {
        /// The files' name, without extension.
        name: String,
        /// The directory to write them in.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
    /// List every registered message type with its fields' wire types and enum values.
    Types {
        /// As one JSON array.
        #[arg(long)]
        json: bool,
        /// As a JSON Schema (draft 2020-12) with a definition per type.
        #[arg(long, conflicts_with = "json")]
        schema: bool,
    },
    /// List the default ports.
    Ports {
        /// As one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Rate, bytes/s, sizes and interval jitter per topic and type, refreshed each
    /// second; a summary at exit.
    #[command(after_help = AFTER_HELP)]
    Hz {
        #[command(flatten)]
        at: EndpointArgs,
        /// Topic prefix to watch (repeatable). Default: every topic.
        #[arg(short, long = "topic")]
        topics: Vec<String>,
        /// Stop after this long (default: run until interrupted).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        seconds: Option<Duration>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Run an Experimance pipeline in one process on loopback TCP and report per channel.
    Demo {
        /// How long to run.
        #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
        seconds: Duration,
        /// The display stops reading: shows how a stalled subscriber is reported.
        #[arg(long, hide = true)]
        stall_display: bool,
    },
    /// Benchmark the library against hand-written zmq + serde_json (separate processes, tcp loopback).
    Bench(bench::BenchArgs),
    /// One side of a benchmark trial (started by `exbus bench`).
    #[command(hide = true)]
    BenchPeer(bench::PeerArgs),
}

#[derive(Debug, clap::Args)]
struct ReceiveArgs {
    /// Exit 0 after this many messages.
    #[arg(short = 'n', long)]
    count: Option<u64>,
    /// Stop when no message arrives for this long: exit 0 if any arrived ("drained"),
    /// 3 if none did.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    #[command(flatten)]
    output: OutputArgs,
}

/// CURVE encryption for listen, publish, push and pull (keys from `exbus keygen` or
/// pyzmq's `zmq.auth.create_certificates`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SecurityArgs {
    /// This socket's secret certificate: a server's own key (with --curve-server
    /// absent), or a client's own pair (default for a client: a new pair each run).
    #[arg(long, value_name = "FILE")]
    curve_secret: Option<std::path::PathBuf>,
    /// The server's public certificate: this socket is a CURVE client of that server.
    #[arg(long, value_name = "FILE")]
    curve_server: Option<std::path::PathBuf>,
    /// A server admits only the client keys of the *.pub certificates in this directory.
    #[arg(long, value_name = "DIR")]
    curve_allow: Option<std::path::PathBuf>,
}

/// Applies `args` to a builder: a CURVE server, a CURVE client, or (no flags) nothing.
pub fn secure<K, E, T>(
    b: experimance_common::socket::SocketBuilder<K, E, T>,
    args: &SecurityArgs,
) -> Result<experimance_common::socket::SocketBuilder<K, E, T>, Failure> {
    use experimance_common::security::{AuthPolicy, CurveKeyPair, CurvePublicKey};
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
    match (&args.curve_server, &args.curve_secret, &args.curve_allow) {
        (None, None, None) => Ok(b),
        (Some(server), secret, None) => {
            let server = CurvePublicKey::load(server).map_err(|e| usage(&e))?;
            let own = match secret {
                Some(path) => CurveKeyPair::load(path),
                None => CurveKeyPair::generate(),
            }
            .map_err(|e| usage(&e))?;
            Ok(b.curve_client(&server, &own))
        }
        (Some(_), _, Some(_)) => {
            Err(Failure::Usage("--curve-allow is for a server; a client has --curve-server".into()))
        }
        (None, None, Some(_)) => {
            Err(Failure::Usage("--curve-allow needs the server's own --curve-secret".into()))
        }
        (None, Some(secret), allow) => {
            let own = CurveKeyPair::load(secret).map_err(|e| usage(&e))?;
            let b = b.curve_server(own.secret());
            match allow {
                Some(dir) => {
                    let policy = AuthPolicy::new().curve_allow_dir(dir).map_err(|e| usage(&e))?;
                    b.auth(policy).map_err(|e| Failure::Runtime(e.to_string()))
                }
                None => Ok(b),
            }
        }
    }
}

/// How the program ends.
#[derive(Debug)]
pub enum Failure {
    /// Exit 1.
    Runtime(String),
    /// Exit 2.
    Usage(String),
    /// Exit 3.
    Timeout(String),
    /// Exit 130: Ctrl-C or SIGTERM; the text is the summary.
    Interrupted(String),
    /// Exit 0 without a word: stdout's reader went away (`| head`).
    PipeClosed,
}

impl From<SocketError> for Failure {
    fn from(e: SocketError) -> Self {
        match e {
            SocketError::Timeout { .. } => Failure::Timeout(e.to_string()),
            SocketError::Endpoint(_) => Failure::Usage(e.to_string()),
            other => Failure::Runtime(other.to_string()),
        }
    }
}

impl From<experimance_common::socket::EndpointError> for Failure {
    fn from(e: experimance_common::socket::EndpointError) -> Self {
        Failure::Usage(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Bench(_) | Command::BenchPeer(_)) {
        session::catch_interrupts();
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let (code, text) = match failure {
                Failure::Runtime(t) => (1, t),
                Failure::Usage(t) => (2, t),
                Failure::Timeout(t) => (3, t),
                Failure::Interrupted(t) => (130, format!("interrupted: {t}")),
                Failure::PipeClosed => return ExitCode::SUCCESS,
            };
            // A failure's text can quote the network (a topic, a frame): escaped.
            eprintln!("exbus: {}", output::escape(&text));
            ExitCode::from(code)
        }
    }
}

/// Prints where a bound socket listens: the readiness line scripts and tests wait for.
pub fn announce(verb: &str, role: Role, first: &str, all: &[String]) {
    if role == Role::Bind {
        eprintln!("exbus: {verb} on {first}");
        for other in all.iter().skip(1) {
            eprintln!("exbus: {verb} on {other}");
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Listen { at, topics, exact, receive, security } => {
            let eps = at.resolve(Role::Connect)?;
            let mut sub = subscriber(&eps, &topics, exact, &security)?;
            announce("listening", eps[0].role(), &sub.endpoint(), sub.endpoints());
            receive_loop(&receive, &eps, &mut sub)?;
            sub.close().map_err(Failure::from)
        }
        Command::Pull { at, receive, security } => {
            let eps = at.resolve(Role::Connect)?;
            let b = secure(PullSocket::builder().receive_timeout(TICK), &security)?;
            let mut pull = endpoint::open(b, &eps)?;
            announce("pulling", eps[0].role(), &pull.endpoint(), pull.endpoints());
            receive_loop(&receive, &eps, &mut pull)?;
            pull.close().map_err(Failure::from)
        }
        Command::Publish { at, topic, send, wait_subscribers, security } => {
            send::publish(&at, &topic, &send, wait_subscribers, &security)
        }
        Command::Push { at, send, wait_peers, security } => send::push(&at, &send, wait_peers, &security),
        Command::Record(args) => record::record(&args),
        Command::Replay(args) => record::replay(&args),
        Command::Types { json, schema } => {
            let types = registered_types();
            let mut out = Out::new();
            if schema {
                let text = serde_json::to_string_pretty(&types::schema(&types))
                    .map_err(|e| Failure::Runtime(e.to_string()))?;
                out.line(text.as_bytes())
            } else if json {
                let all: Vec<Value> = types.iter().map(|t| output::type_json(t)).collect();
                out.line(Value::Array(all).to_string().as_bytes())
            } else {
                out.line(types::table(&types).as_bytes())
            }
        }
        Command::Ports { json } => {
            let mut out = Out::new();
            if json {
                let map: serde_json::Map<String, Value> =
                    DefaultPort::ALL.iter().map(|p| (p.as_str().to_owned(), Value::from(p.port()))).collect();
                out.line(Value::Object(map).to_string().as_bytes())
            } else {
                let mut t = table::Table::new(&["name"], &["port"]);
                for p in DefaultPort::ALL {
                    t.row([p.as_str().to_owned(), p.port().to_string()]);
                }
                out.line(t.to_string().trim_end().as_bytes())
            }
        }
        Command::Hz { at, topics, seconds, security } => {
            let eps = at.resolve(Role::Connect)?;
            let sub = subscriber(&eps, &topics, false, &security)?;
            announce("listening", eps[0].role(), &sub.endpoint(), sub.endpoints());
            hz::run(sub, &eps, seconds)
        }
        Command::Demo { seconds, stall_display } => demo::run(seconds, stall_display),
        Command::Keygen { name, dir } => {
            let pair = experimance_common::security::CurveKeyPair::generate()
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            let (secret, public) = pair.save(&dir, &name).map_err(|e| Failure::Runtime(e.to_string()))?;
            Out::new().line(pair.public().to_string().as_bytes())?;
            eprintln!("exbus: wrote {} (secret, mode 0600) and {}", secret.display(), public.display());
            Ok(())
        }
        Command::Bench(args) => bench::run(args),
        Command::BenchPeer(args) => bench::peer(args),
    }
}

/// A subscriber on `endpoints` with `topics` (all topics when empty); receives wait at
/// most [`TICK`], so loops can look at the interrupt flag.
pub fn subscriber(
    endpoints: &[experimance_common::socket::Endpoint],
    topics: &[String],
    exact: bool,
    security: &SecurityArgs,
) -> Result<Subscriber, Failure> {
    let b = secure(Subscriber::builder().receive_timeout(TICK), security)?;
    let Some((first, rest)) = topics.split_first() else {
        return endpoint::open(b.subscribe_all(), endpoints);
    };
    let usage = |e: experimance_common::TopicError| Failure::Usage(e.to_string());
    let mut s = if exact { b.subscribe_exact(first).map_err(usage)? } else { b.subscribe(first) };
    for t in rest {
        s = if exact { s.subscribe_exact(t).map_err(usage)? } else { s.subscribe(t) };
    }
    endpoint::open(s, endpoints)
}

/// A socket that receives frames: a subscriber or a pull socket.
pub trait Receiving {
    /// `Pub` frames carry a topic.
    const FRAMING: experimance_common::Framing;
    /// The next frame, waiting at most [`TICK`].
    fn next_frame(&mut self) -> Result<&[u8], SocketError>;
    /// Connected peers.
    fn peers(&mut self) -> usize;
}

impl Receiving for Subscriber {
    const FRAMING: experimance_common::Framing = experimance_common::Framing::Pub;
    fn next_frame(&mut self) -> Result<&[u8], SocketError> {
        self.receive_raw_within(TICK)
    }
    fn peers(&mut self) -> usize {
        self.peer_count()
    }
}

impl Receiving for PullSocket {
    const FRAMING: experimance_common::Framing = experimance_common::Framing::Push;
    fn next_frame(&mut self) -> Result<&[u8], SocketError> {
        self.pull_raw()
    }
    fn peers(&mut self) -> usize {
        self.peer_count()
    }
}

/// Formats one received frame as `args` asks.
fn render(frame: &[u8], framing: experimance_common::Framing, args: &OutputArgs, colour: bool) -> Vec<u8> {
    if args.raw {
        return output::raw(frame);
    }
    let decoded = match framing {
        experimance_common::Framing::Pub => codec::decode_pub::<Value>(frame).map(|(t, v)| (Some(t), v)),
        _ => codec::decode_push::<Value>(frame).map(|v| (None, v)),
    };
    match decoded {
        Ok((topic, value)) => output::message(topic, &value, args, colour).into_bytes(),
        Err(e) => output::undecodable(&e, args.json, colour).into_bytes(),
    }
}

/// Receives and prints until `count` messages, the idle timeout, or an interrupt.
fn receive_loop<R: Receiving>(
    args: &ReceiveArgs,
    endpoints: &[experimance_common::socket::Endpoint],
    socket: &mut R,
) -> Result<(), Failure> {
    let colour = !args.output.json && !args.output.raw && output::colour_stdout(args.output.color);
    let mut out = Out::new();
    let mut watch = Watch::new(endpoints);
    let mut received = 0u64;
    let mut last = Instant::now();
    while args.count.is_none_or(|n| received < n) {
        if interrupted() {
            return Err(Failure::Interrupted(format!("{received} received")));
        }
        watch.tick(|| socket.peers());
        match socket.next_frame() {
            Ok(frame) => {
                let line = render(frame, R::FRAMING, &args.output, colour);
                out.line(&line)?;
                received += 1;
                last = Instant::now();
            }
            Err(SocketError::Interrupted { .. }) => {}
            Err(SocketError::Timeout { .. }) => match args.timeout {
                Some(idle) if last.elapsed() >= idle => {
                    let note = format!("no message for {} ({received} received)", show(idle));
                    if received > 0 {
                        eprintln!("exbus: {note}");
                        return Ok(());
                    }
                    return Err(Failure::Timeout(note));
                }
                _ => {}
            },
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
