//! `exbus`: the command-line tool for a live Experimance bus.
//!
//! Exit codes: 0 success; 1 a runtime failure (socket error, lost messages in the
//! demo); 2 a usage error (bad arguments, bad endpoint, invalid JSON); 3 a timeout
//! (`--timeout` passed with no message).

mod bench;
mod demo;
mod endpoint;
mod hz;
mod output;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use experimance_common::registry::{lookup_type, registered_types};
use experimance_common::socket::{Error as SocketError, Publisher, PullSocket, PushSocket, Role, Subscriber};
use experimance_common::{codec, DefaultPort, Topic};
use serde_json::Value;

use crate::endpoint::CliEndpoint;

/// See and poke a live Experimance ZeroMQ bus.
///
/// Endpoints: `@tcp://*:5555` binds, `>tcp://host:5555` connects, a bare endpoint takes
/// the command's usual role (listen, pull and hz connect; publish and push bind). A port
/// may be a default-port name: `tcp://localhost:coordinator_pub`.
#[derive(Debug, Parser)]
#[command(name = "exbus", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Subscribe and print each message (topic, type, fields).
    Listen {
        /// Endpoint of the publisher (default role: connect).
        endpoint: String,
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
    /// Publish JSON objects (an argument, or one per line from stdin with `-`).
    Publish {
        /// Endpoint to publish on (default role: bind).
        endpoint: String,
        /// The topic. Default: the empty topic.
        #[arg(short, long, default_value = "")]
        topic: String,
        #[command(flatten)]
        send: SendArgs,
        /// Wait until this many subscribers are subscribed before publishing.
        #[arg(long, value_name = "N")]
        wait_subscribers: Option<usize>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Push JSON objects to pull sockets (an argument, or one per line from stdin).
    Push {
        /// Endpoint to push on (default role: bind).
        endpoint: String,
        #[command(flatten)]
        send: SendArgs,
        /// Wait until this many peers are connected before pushing.
        #[arg(long, value_name = "N")]
        wait_peers: Option<usize>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Pull and print each message.
    Pull {
        /// Endpoint of the pusher (default role: connect).
        endpoint: String,
        #[command(flatten)]
        receive: ReceiveArgs,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Generate a CURVE key pair: NAME.key (the secret certificate, mode 0600) and
    /// NAME.pub (the public one), in the format pyzmq's zmq.auth reads.
    Keygen {
        /// The files' name, without extension.
        name: String,
        /// The directory to write them in.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
    /// List every registered message type with its fields.
    Types {
        /// As one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// List the default ports.
    Ports {
        /// As one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Message rate and size statistics per topic, refreshed each second.
    Hz {
        /// Endpoint of the publisher (default role: connect).
        endpoint: String,
        /// Topic prefix to watch (repeatable). Default: every topic.
        #[arg(short, long = "topic")]
        topics: Vec<String>,
        /// Stop after this many seconds (default: run until interrupted).
        #[arg(long, value_name = "SECS")]
        seconds: Option<f64>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Run an Experimance pipeline in one process on loopback TCP and report per channel.
    Demo {
        /// How long to run.
        #[arg(long, default_value_t = 5.0, value_name = "SECS")]
        seconds: f64,
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
    /// Exit with code 3 when no message arrives for this many seconds.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// One JSON object per line: {"topic", "type", "message"} (or {"topic", "error",
    /// "raw"}); no "topic" for pull.
    #[arg(long)]
    json: bool,
}

/// CURVE encryption for listen, publish, push and pull (keys from `exbus keygen` or
/// pyzmq's `zmq.auth.create_certificates`).
#[derive(Debug, clap::Args)]
struct SecurityArgs {
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
fn secure<K, E, T>(
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

#[derive(Debug, clap::Args)]
struct SendArgs {
    /// The JSON object to send, or `-` to read one per line from stdin.
    message: String,
    /// Send each message this many times.
    #[arg(short = 'n', long, default_value_t = 1)]
    count: u64,
    /// Messages per second (default: as fast as possible).
    #[arg(long, value_name = "HZ")]
    rate: Option<f64>,
    /// Check each message against the registered type named by its "type" field.
    #[arg(long)]
    strict: bool,
    /// How long one send may wait for a peer, in seconds.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    timeout: f64,
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
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let (code, text) = match failure {
                Failure::Runtime(t) => (1, t),
                Failure::Usage(t) => (2, t),
                Failure::Timeout(t) => (3, t),
            };
            // A failure's text can quote the network (a topic, a frame): escaped.
            eprintln!("exbus: {}", output::escape(&text));
            ExitCode::from(code)
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Listen { endpoint, topics, exact, receive, security } => {
            let ep = endpoint::parse(&endpoint, Role::Connect)?;
            let mut sub = subscriber(&ep, &topics, exact, &security)?;
            if ep.role == Role::Bind {
                eprintln!("exbus: listening on {}", sub.endpoint());
            }
            receive_loop(&receive, |t| {
                match t {
                    Some(t) => sub.receive_timeout::<Value>(t),
                    None => sub.receive::<Value>(),
                }
                .map(|(topic, v)| (Some(topic), v))
            })?;
            sub.close().map_err(Failure::from)
        }
        Command::Pull { endpoint, receive, security } => {
            let ep = endpoint::parse(&endpoint, Role::Connect)?;
            let b = secure(PullSocket::builder(), &security)?;
            let mut pull = match ep.role {
                Role::Bind => b.bind(&ep.endpoint)?.build()?,
                Role::Connect => b.connect(&ep.endpoint)?.build()?,
            };
            if ep.role == Role::Bind {
                eprintln!("exbus: pulling on {}", pull.endpoint());
            }
            receive_loop(&receive, |t| {
                match t {
                    Some(t) => pull.pull_timeout::<Value>(t),
                    None => pull.pull::<Value>(),
                }
                .map(|v| (None, v))
            })?;
            pull.close().map_err(Failure::from)
        }
        Command::Publish { endpoint, topic, send, wait_subscribers, security } => {
            let ep = endpoint::parse(&endpoint, Role::Bind)?;
            codec::validate_topic(&topic).map_err(|e| Failure::Usage(e.to_string()))?;
            let messages = read_messages(&send)?;
            let b = Publisher::builder()
                .topic(&topic)
                .map_err(|e| Failure::Usage(e.to_string()))?
                .lossless(true)
                .send_timeout(seconds(Some(send.timeout))?.unwrap_or_default());
            let b = secure(b, &security)?;
            let mut publisher = match ep.role {
                Role::Bind => b.bind(&ep.endpoint)?.build()?,
                Role::Connect => b.connect(&ep.endpoint)?.build()?,
            };
            if ep.role == Role::Bind {
                eprintln!("exbus: publishing on {}", publisher.endpoint());
            }
            if let Some(n) = wait_subscribers {
                publisher.wait_for_subscribers(n, Duration::from_secs(60))?;
            }
            send_all(&send, messages, |v| publisher.publish(v))?;
            publisher.close().map_err(Failure::from)
        }
        Command::Push { endpoint, send, wait_peers, security } => {
            let ep = endpoint::parse(&endpoint, Role::Bind)?;
            let messages = read_messages(&send)?;
            let timeout = seconds(Some(send.timeout))?.unwrap_or_default();
            let b = secure(PushSocket::builder().send_timeout(timeout), &security)?;
            let mut push = match ep.role {
                Role::Bind => b.bind(&ep.endpoint)?.build()?,
                Role::Connect => b.connect(&ep.endpoint)?.build()?,
            };
            if ep.role == Role::Bind {
                eprintln!("exbus: pushing on {}", push.endpoint());
            }
            if let Some(n) = wait_peers {
                push.wait_for_peers(n, Duration::from_secs(60))?;
            }
            send_all(&send, messages, |v| push.push(v))?;
            push.close().map_err(Failure::from)
        }
        Command::Types { json } => {
            let types = registered_types();
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            if json {
                let all: Vec<Value> = types.iter().map(|t| output::type_json(t)).collect();
                writeln!(out, "{}", Value::Array(all)).map_err(io_failure)?;
            } else {
                for t in types {
                    writeln!(out, "{}", output::type_line(t)).map_err(io_failure)?;
                }
            }
            Ok(())
        }
        Command::Ports { json } => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            if json {
                let map: serde_json::Map<String, Value> =
                    DefaultPort::ALL.iter().map(|p| (p.as_str().to_owned(), Value::from(p.port()))).collect();
                writeln!(out, "{}", Value::Object(map)).map_err(io_failure)?;
            } else {
                for p in DefaultPort::ALL {
                    writeln!(out, "{:<18} {}", p.as_str(), p.port()).map_err(io_failure)?;
                }
            }
            Ok(())
        }
        Command::Hz { endpoint, topics, seconds: secs, security } => {
            let ep = endpoint::parse(&endpoint, Role::Connect)?;
            let sub = subscriber(&ep, &topics, false, &security)?;
            if ep.role == Role::Bind {
                eprintln!("exbus: listening on {}", sub.endpoint());
            }
            hz::run(sub, seconds(secs)?)
        }
        Command::Demo { seconds: secs } => {
            let d = seconds(Some(secs))?.unwrap_or(Duration::from_secs(5));
            demo::run(d)
        }
        Command::Keygen { name, dir } => {
            let pair = experimance_common::security::CurveKeyPair::generate()
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            let (secret, public) = pair.save(&dir, &name).map_err(|e| Failure::Runtime(e.to_string()))?;
            println!("{}", pair.public());
            eprintln!("exbus: wrote {} (secret, mode 0600) and {}", secret.display(), public.display());
            Ok(())
        }
        Command::Bench(args) => bench::run(args),
        Command::BenchPeer(args) => bench::peer(args),
    }
}

fn io_failure(e: std::io::Error) -> Failure {
    Failure::Runtime(format!("cannot write output: {e}"))
}

fn seconds(s: Option<f64>) -> Result<Option<Duration>, Failure> {
    match s {
        None => Ok(None),
        Some(s) => Duration::try_from_secs_f64(s)
            .map(Some)
            .map_err(|_| Failure::Usage(format!("invalid number of seconds: {s}"))),
    }
}

fn subscriber(
    ep: &CliEndpoint,
    topics: &[String],
    exact: bool,
    security: &SecurityArgs,
) -> Result<Subscriber, Failure> {
    fn subscribe<E>(
        b: experimance_common::socket::SocketBuilder<Subscriber, E>,
        topics: &[String],
        exact: bool,
    ) -> Result<
        experimance_common::socket::SocketBuilder<Subscriber, E, experimance_common::socket::Subscribed>,
        Failure,
    > {
        let Some((first, rest)) = topics.split_first() else {
            return Ok(b.subscribe_all());
        };
        let mut s = if exact {
            b.subscribe_exact(first).map_err(|e| Failure::Usage(e.to_string()))?
        } else {
            b.subscribe(first)
        };
        for t in rest {
            s = if exact {
                s.subscribe_exact(t).map_err(|e| Failure::Usage(e.to_string()))?
            } else {
                s.subscribe(t)
            };
        }
        Ok(s)
    }
    let b = secure(Subscriber::builder(), security)?;
    Ok(match ep.role {
        Role::Bind => subscribe(b.bind(&ep.endpoint)?, topics, exact)?.build()?,
        Role::Connect => subscribe(b.connect(&ep.endpoint)?, topics, exact)?.build()?,
    })
}

/// Receives and prints until `count` messages or the idle timeout.
fn receive_loop(
    args: &ReceiveArgs,
    mut next: impl FnMut(Option<Duration>) -> Result<(Option<Topic>, Value), SocketError>,
) -> Result<(), Failure> {
    let (count, json) = (args.count, args.json);
    let idle = seconds(args.timeout)?;
    let stdout = std::io::stdout();
    let colour = !json && stdout.is_terminal();
    let mut out = stdout.lock();
    let mut received = 0u64;
    while count.is_none_or(|n| received < n) {
        let line = match next(idle) {
            Ok((topic, value)) => output::message(topic.as_deref(), &value, json, colour),
            Err(SocketError::Decode(e)) => output::undecodable(&e, json, colour),
            // Without --timeout, wait on: the socket's own timeout only bounds each call.
            Err(SocketError::Timeout { .. }) if idle.is_none() => continue,
            Err(SocketError::Timeout { .. }) => {
                let after = args.timeout.unwrap_or_default();
                return Err(Failure::Timeout(format!("no message for {after} s ({received} received)")));
            }
            Err(e) => return Err(e.into()),
        };
        writeln!(out, "{line}").map_err(io_failure)?;
        out.flush().map_err(io_failure)?;
        received += 1;
    }
    Ok(())
}

/// Reads and validates every message before anything is sent (for stdin: each line
/// before it is sent).
fn read_messages(args: &SendArgs) -> Result<Vec<Value>, Failure> {
    let texts: Vec<String> = if args.message == "-" {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Failure::Usage(format!("cannot read stdin: {e}")))?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        vec![args.message.clone()]
    };
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let where_ =
                if args.message == "-" { format!("line {}", i + 1) } else { "the message".to_owned() };
            let value: Value = serde_json::from_str(text)
                .map_err(|e| Failure::Usage(format!("{where_} is not valid JSON: {e}")))?;
            if !value.is_object() {
                return Err(Failure::Usage(format!("{where_} is not a JSON object")));
            }
            if args.strict {
                validate(&value).map_err(|e| Failure::Usage(format!("{where_}: {e}")))?;
            }
            Ok(value)
        })
        .collect()
}

/// `--strict`: the document must decode as the registered type its "type" names.
fn validate(value: &Value) -> Result<(), String> {
    let Some(name) = value.get("type").and_then(Value::as_str) else {
        return Err("--strict needs a \"type\" field naming a registered type".to_owned());
    };
    let Some(info) = lookup_type(name) else {
        return Err(format!("\"{name}\" is not a registered message type (see `exbus types`)"));
    };
    let json = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    info.decode(&json).map(drop).map_err(|e| format!("not a valid {}: {}", info.type_name(), e.kind()))
}

fn send_all(
    args: &SendArgs,
    messages: Vec<Value>,
    mut send: impl FnMut(&Value) -> Result<(), SocketError>,
) -> Result<(), Failure> {
    let period = match args.rate {
        Some(hz) if hz > 0.0 && hz.is_finite() => Some(Duration::from_secs_f64(1.0 / hz)),
        Some(hz) => return Err(Failure::Usage(format!("invalid --rate {hz}"))),
        None => None,
    };
    let start = Instant::now();
    let mut sent: u32 = 0;
    for _ in 0..args.count {
        for m in &messages {
            if let Some(p) = period {
                let due = start + p * sent;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
            send(m)?;
            sent = sent.saturating_add(1);
        }
    }
    Ok(())
}
