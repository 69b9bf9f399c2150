//! `exbus publish` and `exbus push`: messages from an argument or streamed from stdin,
//! each checked before anything is bound (an argument) or sent (a line).

use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use experimance_common::codec;
use experimance_common::registry::lookup_type;
use experimance_common::socket::{Error as SocketError, Publisher, PushSocket, Role};
use serde_json::Value;

use crate::endpoint::{self, EndpointArgs};
use crate::session::{interrupted, parse_duration, show, wait_until, Watch, TICK};
use crate::{announce, secure, Failure, SecurityArgs};

/// Where to send, and what: the positional words are endpoints, then the message.
#[derive(Debug, clap::Args)]
pub struct SendTarget {
    /// Zero or more endpoints (`@E` binds, `'>E'` connects, a bare `E` binds; or
    /// --bind/--connect), then MESSAGE: the JSON object to send, or `-` to read one per
    /// line from stdin (sent as each line arrives). A `listen --json` line
    /// ({"topic", "type", "message"}) sends its message on its topic.
    #[arg(value_name = "ENDPOINT... MESSAGE", required = true, num_args = 1..)]
    words: Vec<String>,
    /// Bind this endpoint (repeatable): the same as `@ENDPOINT`.
    #[arg(long = "bind", value_name = "ENDPOINT")]
    bind: Vec<String>,
    /// Connect to this endpoint (repeatable): the same as `'>ENDPOINT'`.
    #[arg(long = "connect", value_name = "ENDPOINT")]
    connect: Vec<String>,
}

impl SendTarget {
    /// The endpoints and the message.
    fn split(&self) -> (EndpointArgs, &str) {
        let (message, endpoints) = self.words.split_last().expect("clap requires one word");
        let at = EndpointArgs {
            endpoints: endpoints.to_vec(),
            bind: self.bind.clone(),
            connect: self.connect.clone(),
        };
        (at, message)
    }
}

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Send each message this many times (an argument; stdin lines are sent once each).
    #[arg(short = 'n', long, default_value_t = 1)]
    pub count: u64,
    /// Messages per second (default: as fast as possible).
    #[arg(long, value_name = "HZ")]
    pub rate: Option<f64>,
    /// Check each message against the registered type named by its "type" field.
    #[arg(long)]
    pub strict: bool,
    /// Send objects without a "type" field (peers route on it, so it is an error
    /// otherwise).
    #[arg(long)]
    pub untyped: bool,
    /// How long waiting for subscribers or peers, and each send, may take.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// A message ready to send: its topic when the line named one, and the object.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub topic: Option<String>,
    pub value: Value,
}

/// Parses and checks one message; `text` is exactly what the user wrote, so `--strict`
/// errors point at its columns.
pub fn parse_message(text: &str, args: &SendArgs) -> Result<Outgoing, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}"))?;
    let Value::Object(object) = &value else {
        return Err("is not a JSON object".into());
    };
    let only = |keys: &[&str]| object.keys().all(|k| keys.contains(&k.as_str()));
    // A line `listen --json` wrote: {"topic"?, "type", "message": {...}}.
    if object.get("message").is_some_and(Value::is_object) && only(&["topic", "type", "message"]) {
        let topic = match object.get("topic") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => {
                codec::validate_topic(t).map_err(|e| format!("has a bad \"topic\": {e}"))?;
                Some(t.clone())
            }
            Some(other) => return Err(format!("has a \"topic\" that is not a string: {other}")),
        };
        let message = object["message"].clone();
        let check = serde_json::to_string(&message).map_err(|e| e.to_string())?;
        check_type(&message, &check, args)?;
        return Ok(Outgoing { topic, value: message });
    }
    if object.contains_key("error")
        && object.contains_key("raw")
        && only(&["topic", "error", "raw", "raw_hex"])
    {
        return Err(
            "is an undecodable frame as `listen --json` reported it; there is no message to send".into()
        );
    }
    check_type(&value, text, args)?;
    Ok(Outgoing { topic: None, value })
}

fn check_type(value: &Value, text: &str, args: &SendArgs) -> Result<(), String> {
    let name = match value.get("type") {
        Some(Value::String(name)) => name,
        Some(other) => return Err(format!("has a \"type\" that is not a string: {other}")),
        None if args.untyped => return Ok(()),
        None if args.strict => return Err("--strict needs a \"type\" field naming a registered type".into()),
        None => {
            return Err(
                "has no \"type\" field (receivers route on it); pass --untyped to send it anyway".into()
            )
        }
    };
    if !args.strict {
        return Ok(());
    }
    let Some(info) = lookup_type(name) else {
        return Err(format!(
            "has type \"{name}\", which is not a registered message type (see `exbus types`)"
        ));
    };
    info.decode(text.as_bytes()).map(drop).map_err(|e| {
        let mut text = format!("is not a valid {}: {}", info.type_name(), e.kind());
        // Name the allowed values of each enum field whose value is not one of them.
        for f in info.fields() {
            let inner = f.rust_type.trim_start_matches("Option<").trim_end_matches('>');
            let (Some(values), Some(given)) = (crate::types::enum_values(inner), value.get(f.name)) else {
                continue;
            };
            if given.is_null() && f.optional {
                continue;
            }
            if !given.as_str().is_some_and(|g| values.contains(&g)) {
                text.push_str(&format!("; \"{}\" must be one of: {}", f.name, values.join(", ")));
            }
        }
        if let Some(schema) = info.wire_schema() {
            case_enums(&schema, value, &mut text);
        }
        text
    })
}

/// For a hand-written schema with cases (AgentControlEvent): the allowed values of each
/// enum in the case the document names (by its `const` discriminator) that it misses,
/// as `"payload.biome_suggestion" must be one of: ...`.
fn case_enums(schema: &Value, value: &Value, text: &mut String) {
    for case in schema["oneOf"].as_array().into_iter().flatten() {
        let Some(props) = case["properties"].as_object() else { continue };
        let named = props.iter().any(|(k, p)| p.get("const").is_some_and(|c| value.get(k) == Some(c)));
        if !named {
            continue;
        }
        for (outer, p) in props {
            for (inner, field) in p["properties"].as_object().into_iter().flatten() {
                let Some(values) = field["enum"].as_array() else { continue };
                if !values.contains(&value[outer.as_str()][inner.as_str()]) {
                    let names: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                    text.push_str(&format!("; \"{outer}.{inner}\" must be one of: {}", names.join(", ")));
                }
            }
        }
    }
}

fn check_rate(args: &SendArgs) -> Result<Option<Duration>, Failure> {
    if args.count == 0 {
        return Err(Failure::Usage("--count 0 would send nothing: give 1 or more".into()));
    }
    match args.rate {
        Some(hz) if hz > 0.0 && hz.is_finite() => Ok(Some(Duration::from_secs_f64(1.0 / hz))),
        Some(hz) => Err(Failure::Usage(format!("invalid --rate {hz}: give messages per second, above 0"))),
        None => Ok(None),
    }
}

/// Where the messages come from.
enum Source {
    /// The argument, `count` times.
    Argument(Outgoing, u64),
    /// Stdin lines as they arrive (line number, text), read on a thread.
    Stdin(mpsc::Receiver<std::io::Result<(usize, String)>>),
}

impl Source {
    /// Stdin's lines, read on a thread so that the loops stay responsive.
    fn stdin_lines() -> mpsc::Receiver<std::io::Result<(usize, String)>> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for (i, line) in std::io::stdin().lock().lines().enumerate() {
                let stop = line.is_err();
                if tx.send(line.map(|l| (i + 1, l))).is_err() || stop {
                    break;
                }
            }
        });
        rx
    }
}

/// What the sending loop got from the source.
enum Next {
    Message(Outgoing),
    Rejected(String),
    Wait,
    End,
}

fn next_line(
    rx: &mpsc::Receiver<std::io::Result<(usize, String)>>,
    args: &SendArgs,
) -> Result<Next, Failure> {
    match rx.recv_timeout(TICK) {
        Ok(Ok((_, line))) if line.trim().is_empty() => Ok(Next::Wait),
        Ok(Ok((n, line))) => Ok(match parse_message(&line, args) {
            Ok(m) => Next::Message(m),
            Err(e) => Next::Rejected(format!("line {n} {e}")),
        }),
        Ok(Err(e)) => Err(Failure::Usage(format!("cannot read stdin: {e}"))),
        Err(mpsc::RecvTimeoutError::Timeout) => Ok(Next::Wait),
        Err(mpsc::RecvTimeoutError::Disconnected) => Ok(Next::End),
    }
}

/// The source and its first message, read and checked before any socket exists.
fn first_message(message: &str, args: &SendArgs) -> Result<(Source, Outgoing, u64), Failure> {
    check_rate(args)?;
    if message != "-" {
        let m = parse_message(message, args).map_err(|e| Failure::Usage(format!("the message {e}")))?;
        return Ok((Source::Argument(m.clone(), args.count), m, 0));
    }
    let rx = Source::stdin_lines();
    let mut rejected = 0;
    loop {
        if interrupted() {
            return Err(Failure::Interrupted("nothing sent".into()));
        }
        match next_line(&rx, args)? {
            Next::Message(m) => return Ok((Source::Stdin(rx), m, rejected)),
            Next::Rejected(e) => {
                rejected += 1;
                eprintln!("exbus: {e}; not sent");
            }
            Next::Wait => {}
            Next::End if rejected > 0 => {
                return Err(Failure::Usage(format!("stdin ended: {rejected} line(s) rejected, nothing sent")))
            }
            Next::End => return Err(Failure::Usage("stdin ended with no message: nothing sent".into())),
        }
    }
}

/// Sends the first message, then the rest of the source, paced by `--rate`.
fn send_loop<S>(
    args: &SendArgs,
    (source, first, mut rejected): (Source, Outgoing, u64),
    socket: &mut S,
    watch: &mut Watch,
    mut send: impl FnMut(&mut S, &Outgoing) -> Result<(), SocketError>,
    peers: fn(&mut S) -> usize,
) -> Result<u64, Failure> {
    let period = check_rate(args)?;
    let start = Instant::now();
    let mut sent: u64 = 0;
    let mut pending = Some(first);
    let summary = |sent: u64, rejected: u64| {
        if rejected > 0 {
            format!("{sent} sent, {rejected} line(s) rejected")
        } else {
            format!("{sent} sent")
        }
    };
    let (arg, mut left) = match &source {
        Source::Argument(m, n) => (Some(m.clone()), *n),
        Source::Stdin(_) => (None, 0),
    };
    loop {
        if interrupted() {
            return Err(Failure::Interrupted(summary(sent, rejected)));
        }
        let message = match (&source, pending.take()) {
            (_, Some(m)) => m,
            (Source::Argument(..), None) if left > 0 => arg.clone().expect("an argument source"),
            (Source::Argument(..), None) => break,
            (Source::Stdin(rx), None) => match next_line(rx, args)? {
                Next::Message(m) => m,
                Next::Rejected(e) => {
                    rejected += 1;
                    eprintln!("exbus: {e}; not sent");
                    continue;
                }
                Next::Wait => {
                    watch.tick(|| peers(socket));
                    continue;
                }
                Next::End => break,
            },
        };
        if let Some(p) = period {
            let due = start + p * u32::try_from(sent).unwrap_or(u32::MAX);
            while Instant::now() < due {
                if interrupted() {
                    return Err(Failure::Interrupted(summary(sent, rejected)));
                }
                std::thread::sleep((due - Instant::now()).min(TICK));
            }
        }
        match send(socket, &message) {
            Ok(()) => {}
            Err(SocketError::Interrupted { .. }) => {
                // A signal cut the send short: the loop looks at the flag, or sends again.
                pending = Some(message);
                continue;
            }
            Err(SocketError::Timeout { .. }) => {
                return Err(Failure::Timeout(format!(
                    "a send could not complete within {} (no peer took it: gone or not reading); {}",
                    show(args.timeout),
                    summary(sent, rejected)
                )))
            }
            Err(e) => return Err(Failure::Runtime(format!("{e}; {}", summary(sent, rejected)))),
        }
        sent += 1;
        left = left.saturating_sub(1);
        watch.tick(|| peers(socket));
    }
    if rejected > 0 {
        return Err(Failure::Usage(summary(sent, rejected)));
    }
    Ok(sent)
}

/// `exbus publish`.
pub fn publish(
    target: &SendTarget,
    topic: &str,
    args: &SendArgs,
    wait_subscribers: usize,
    security: &SecurityArgs,
) -> Result<(), Failure> {
    let (at, message) = target.split();
    let eps = at.resolve(Role::Bind)?;
    codec::validate_topic(topic).map_err(|e| Failure::Usage(e.to_string()))?;
    let input = first_message(message, args)?;
    let b = Publisher::builder()
        .topic(topic)
        .map_err(|e| Failure::Usage(e.to_string()))?
        .lossless(true)
        .send_timeout(args.timeout);
    let mut publisher = endpoint::open(secure(b, security)?, &eps)?;
    announce("publishing", eps[0].role(), &publisher.endpoint(), publisher.endpoints());
    let mut watch = Watch::new(&eps);
    let first_topic = input.1.topic.clone().unwrap_or_else(|| topic.to_owned());
    let ready = wait_subscribers == 0
        || wait_until(
            &mut publisher,
            args.timeout,
            &mut watch,
            |p, d| p.wait_for_subscribers_to(&first_topic, wait_subscribers, d),
            Publisher::peer_count,
        )?;
    if !ready {
        let have = publisher.subscribers_to(&first_topic).unwrap_or(0);
        return Err(Failure::Timeout(format!(
            "{have} of {wait_subscribers} subscriber(s) to topic \"{first_topic}\" within {}: nothing sent \
             (--wait-subscribers 0 sends anyway)",
            show(args.timeout)
        )));
    }
    let publish =
        |p: &mut Publisher, m: &Outgoing| p.publish_to(m.topic.as_deref().unwrap_or(topic), &m.value);
    let sent = send_loop(args, input, &mut publisher, &mut watch, publish, Publisher::peer_count)?;
    let reached = publisher.subscribers_to(topic).unwrap_or(0);
    eprintln!("exbus: published {sent} message(s); {reached} subscriber(s) to \"{topic}\"");
    publisher.close().map_err(Failure::from)
}

/// `exbus push`.
pub fn push(
    target: &SendTarget,
    args: &SendArgs,
    wait_peers: Option<usize>,
    security: &SecurityArgs,
) -> Result<(), Failure> {
    let (at, message) = target.split();
    let eps = at.resolve(Role::Bind)?;
    let input = first_message(message, args)?;
    let b = secure(PushSocket::builder().send_timeout(args.timeout), security)?;
    let mut push = endpoint::open(b, &eps)?;
    announce("pushing", eps[0].role(), &push.endpoint(), push.endpoints());
    let mut watch = Watch::new(&eps);
    if let Some(n) = wait_peers {
        if !wait_until(
            &mut push,
            args.timeout,
            &mut watch,
            |p, d| p.wait_for_peers(n, d),
            PushSocket::peer_count,
        )? {
            let have = push.peer_count();
            return Err(Failure::Timeout(format!(
                "{have} of {n} peer(s) within {}: nothing sent",
                show(args.timeout)
            )));
        }
    }
    let sent =
        send_loop(args, input, &mut push, &mut watch, |p, m| p.push(&m.value), PushSocket::peer_count)?;
    eprintln!("exbus: pushed {sent} message(s)");
    push.close().map_err(Failure::from)
}
