//! The library's peers: the blocking sockets (`Impl::LibraryBlocking`), the tokio API
//! (`Impl::Async`) and the service runtime's typed handlers (`Impl::Service`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use experimance_common::socket::{
    Error as SocketError, Publisher, PullSocket, PushSocket, SocketBuilder, Subscriber,
};
use serde_json::{json, Value};

use super::measure::{
    process_cpu, ready, round_trips, sender_result, status_kb, thread_cpu, with_cpu, Counter,
};
use super::{Curve, Impl, PeerArgs, Sample, Task, BIND, LINGER, READY, STALL, TOPIC};
use crate::Failure;

/// Runs the library's side of `args.task` with messages of type `M`.
pub(super) fn run<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    match (args.task, args.imp) {
        (Task::Pull, Impl::LibraryBlocking) => pull_blocking::<M>(args),
        (Task::Pull, Impl::Async) => pull_async::<M>(args),
        (Task::Pull, Impl::Service) => pull_service::<M>(args),
        (Task::Push, Impl::LibraryBlocking) => push_blocking::<M>(args),
        (Task::Push, _) => push_async::<M>(args),
        (Task::Sub, Impl::LibraryBlocking) => sub_blocking::<M>(args),
        (Task::Pub, Impl::LibraryBlocking) => pub_blocking::<M>(args),
        (Task::Ping, Impl::LibraryBlocking) => ping_blocking::<M>(args),
        (Task::Pong, Impl::LibraryBlocking) => pong_blocking::<M>(args),
        (Task::Many, Impl::Async) => many_async::<M>(args),
        (Task::Many, Impl::LibraryBlocking) => many_blocking::<M>(args),
        (task, imp) => Err(Failure::Usage(format!("no {imp:?} implementation of {task:?}"))),
    }
}

/// The builder with the CURVE keys the peer was given.
fn secure<K, E, T>(builder: SocketBuilder<K, E, T>, curve: &Curve) -> SocketBuilder<K, E, T> {
    match curve {
        Curve::Off => builder,
        Curve::Server(secret) => builder.curve_server(secret),
        Curve::Client { server, client } => builder.curve_client(server, client),
    }
}

/// Receive-side outcome of the library: `Ok(false)` for a timeout.
fn got<T>(r: Result<T, SocketError>) -> Result<bool, Failure> {
    match r {
        Ok(m) => {
            black_box(m);
            Ok(true)
        }
        Err(SocketError::Timeout { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("tokio runtime: {e}")))
}

fn bound_pull(args: &PeerArgs, counter: &Counter) -> Result<PullSocket, Failure> {
    let builder = PullSocket::builder().bind(BIND)?.receive_timeout(counter.idle.min(STALL));
    Ok(secure(builder, &args.curve()?).build()?)
}

fn connected_push(args: &PeerArgs, i: usize) -> Result<PushSocket, Failure> {
    let builder = PushSocket::builder().connect(args.endpoint(i)?)?.send_timeout(STALL).linger(LINGER);
    let mut push = secure(builder, &args.curve()?).build()?;
    push.wait_connected(READY)?;
    Ok(push)
}

// ---- PUSH/PULL --------------------------------------------------------------------

fn pull_blocking<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let mut pull = bound_pull(args, &counter)?;
    ready(&[pull.endpoint()])?;
    let result =
        counter.run(|first| if first { got(pull.pull_within::<M>(READY)) } else { got(pull.pull::<M>()) })?;
    pull.close()?;
    Ok(result)
}

fn pull_async<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let mut pull = bound_pull(args, &counter)?;
    ready(&[pull.endpoint()])?;
    let result = runtime()?.block_on(async {
        if !got(pull.pull_within_async::<M>(READY).await)? {
            return Err(Failure::Timeout(format!("no message within {READY:?}")));
        }
        let (start, cpu_start) = (Instant::now(), thread_cpu());
        let mut n = 1;
        let mut timed_out = false;
        while n < counter.count {
            if !got(pull.pull_async::<M>().await)? {
                timed_out = true;
                break;
            }
            n += 1;
        }
        let cpu = cpu_start.zip(thread_cpu());
        let end = if timed_out { Instant::now() - counter.idle } else { Instant::now() };
        Ok(with_cpu(counter.result(n, end.saturating_duration_since(start)), cpu, n))
    })?;
    pull.close()?;
    Ok(result)
}

/// The service runtime's receive loop with a plain-function handler for `M`: what
/// `pull_async` does, plus the type lookup, the dispatch and the per-type counters.
fn pull_service<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    use experimance_common::service::{Handlers, Service};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    let counter = Counter::new(args);
    let pull = secure(PullSocket::builder().bind(BIND)?.receive_timeout(STALL), &args.curve()?).build()?;
    ready(&[pull.endpoint()])?;
    let (n, times) = (Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new((None, None, None, None))));
    let (hn, ht, count) = (n.clone(), times.clone(), counter.count);
    let handlers = Handlers::new().on_fn(move |ctx, m: M| {
        black_box(m);
        // One receiving task calls this handler (one PULL socket), so the count is a
        // load and a store, not a locked read-modify-write: the plain loop it is
        // compared with counts in a local.
        let seen = hn.load(Ordering::Relaxed) + 1;
        hn.store(seen, Ordering::Relaxed);
        if seen == 1 || seen == count {
            let mut t = ht.lock().unwrap_or_else(|e| e.into_inner());
            let (now, cpu) = (Some(Instant::now()), thread_cpu());
            if seen == 1 {
                (t.0, t.2) = (now, cpu);
            }
            if seen == count {
                (t.1, t.3) = (now, cpu);
                ctx.shutdown();
            }
        }
    });
    let service = Service::builder("bench")
        .pull(pull)
        .handlers(handlers)
        .handle_signals(false)
        .heartbeat(None)
        .build()
        .map_err(|e| Failure::Runtime(format!("the bench service: {e}")))?;
    let summary = runtime()?.block_on(service.run());
    let received = n.load(Ordering::Relaxed);
    let (start, end, cpu_start, cpu_end) = *times.lock().unwrap_or_else(|e| e.into_inner());
    match (start, end) {
        (Some(start), Some(end)) if summary.is_clean() => {
            let result = counter.result(received, end.saturating_duration_since(start));
            Ok(with_cpu(result, cpu_start.zip(cpu_end), received))
        }
        _ => Err(Failure::Runtime(format!("the service received {received} of {count}: {summary:?}"))),
    }
}

fn push_blocking<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let mut push = connected_push(args, 0)?;
    let msg = M::sample(args);
    let start = Instant::now();
    for _ in 0..args.count {
        push.push(&msg)?;
    }
    let elapsed = start.elapsed();
    push.close()?;
    Ok(sender_result(args.count, elapsed))
}

fn push_async<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let mut push = connected_push(args, 0)?;
    let msg = M::sample(args);
    let elapsed = runtime()?.block_on(async {
        let start = Instant::now();
        for _ in 0..args.count {
            push.push_async(&msg).await?;
        }
        Ok::<_, Failure>(start.elapsed())
    })?;
    push.close()?;
    Ok(sender_result(args.count, elapsed))
}

// ---- PUB/SUB ----------------------------------------------------------------------

fn sub_blocking<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let counter = Counter::new(args);
    let timeout = counter.idle.min(STALL);
    let curve = args.curve()?;
    let mut sub = match args.endpoints.first() {
        Some(ep) => {
            let b = Subscriber::builder()
                .connect(ep)?
                .subscribe_exact(TOPIC)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            secure(b.receive_timeout(timeout), &curve).build()?
        }
        None => {
            let b = Subscriber::builder()
                .bind(BIND)?
                .subscribe_exact(TOPIC)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let sub = secure(b.receive_timeout(timeout), &curve).build()?;
            ready(&[sub.endpoint()])?;
            sub
        }
    };
    let result =
        counter.run(
            |first| {
                if first {
                    got(sub.receive_within::<M>(READY))
                } else {
                    got(sub.receive::<M>())
                }
            },
        )?;
    sub.close()?;
    Ok(result)
}

fn pub_blocking<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let curve = args.curve()?;
    let (mut publisher, subscribers) = match args.endpoints.first() {
        Some(ep) => {
            let b =
                Publisher::builder().connect(ep)?.topic(TOPIC).map_err(|e| Failure::Usage(e.to_string()))?;
            (secure(b.lossless(args.lossless).send_timeout(STALL).linger(LINGER), &curve).build()?, 1)
        }
        None => {
            let b =
                Publisher::builder().bind(BIND)?.topic(TOPIC).map_err(|e| Failure::Usage(e.to_string()))?;
            let p = secure(b.lossless(args.lossless).send_timeout(STALL).linger(LINGER), &curve).build()?;
            ready(&[p.endpoint()])?;
            (p, args.subscribers.max(1))
        }
    };
    publisher.wait_for_subscribers(subscribers, READY)?;
    let msg = M::sample(args);
    let interval = Duration::from_millis(args.interval_ms);
    let start = Instant::now();
    for i in 0..args.count {
        if !interval.is_zero() {
            // Paced: message i leaves at i x interval, whatever the previous one took.
            std::thread::sleep(
                (start + interval * u32::try_from(i).unwrap_or(u32::MAX))
                    .saturating_duration_since(Instant::now()),
            );
        }
        publisher.publish(&msg)?;
    }
    let elapsed = start.elapsed();
    publisher.close()?;
    Ok(sender_result(args.count, elapsed))
}

// ---- round trips ------------------------------------------------------------------

fn ping_blocking<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let mut push = connected_push(args, 0)?;
    let builder = PullSocket::builder().connect(args.endpoint(1)?)?.receive_timeout(STALL);
    let mut pull = secure(builder, &args.curve()?).build()?;
    pull.wait_connected(READY)?;
    let msg = M::sample(args);
    let result = round_trips(args, || {
        push.push(&msg)?;
        black_box(pull.pull::<M>()?);
        Ok(())
    })?;
    push.close()?;
    pull.close()?;
    Ok(result)
}

fn pong_blocking<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let curve = args.curve()?;
    let mut pull = secure(PullSocket::builder().bind(BIND)?.receive_timeout(READY), &curve).build()?;
    let push = PushSocket::builder().bind(BIND)?.send_timeout(READY).linger(LINGER);
    let mut push = secure(push, &curve).build()?;
    ready(&[pull.endpoint(), push.endpoint()])?;
    for _ in 0..args.warmup + args.count {
        let m: M = pull.pull()?;
        push.push(&m)?;
    }
    push.close()?;
    pull.close()?;
    Ok(json!({ "echoed": args.warmup + args.count, "peak_rss_kb": super::peak_rss_kb() }))
}

// ---- many sockets -----------------------------------------------------------------

fn connected_sub(ep: &str, curve: &Curve) -> Result<Subscriber, Failure> {
    let b = Subscriber::builder()
        .connect(ep)?
        .subscribe_exact(TOPIC)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(secure(b.receive_timeout(STALL), curve).build()?)
}

/// What the many-sockets peer reports: memory per socket (RSS after the sockets were
/// built and connected, less before), CPU per delivered message (the whole process,
/// libzmq's threads included, from the first message to the last) and the count.
fn many_result(
    args: &PeerArgs,
    rss_before: u64,
    rss_built: u64,
    cpu: Option<(Duration, Duration)>,
    received: u64,
) -> Value {
    let n = args.subscribers.max(1) as f64;
    let cpu_ns = cpu.map(|(a, b)| b.saturating_sub(a).as_nanos() as f64 / received.max(1) as f64);
    json!({
        "subscribers": args.subscribers,
        "received": received,
        "expected": args.count * args.subscribers as u64,
        "rss_before_kb": rss_before,
        "rss_built_kb": rss_built,
        "kb_per_socket": rss_built.saturating_sub(rss_before) as f64 / n,
        "peak_rss_kb": super::peak_rss_kb(),
        "process_cpu_ns_per_message": cpu_ns,
    })
}

/// `--subscribers` async subscribers on one current-thread runtime.
fn many_async<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let (ep, curve) = (args.endpoint(0)?.to_owned(), args.curve()?);
    let rt = runtime()?;
    let rss_before = status_kb("VmRSS:");
    let mut subs = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        subs.push(connected_sub(&ep, &curve)?);
    }
    for sub in &mut subs {
        sub.wait_connected(READY)?;
    }
    let rss_built = status_kb("VmRSS:");
    let count = args.count;
    let cpu_start = process_cpu();
    let received = rt.block_on(async move {
        let tasks: Vec<_> = subs
            .into_iter()
            .map(|mut sub| {
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while n < count {
                        match sub.receive_async::<M>().await {
                            Ok(m) => {
                                black_box(m);
                                n += 1;
                            }
                            Err(SocketError::Timeout { .. }) => break,
                            Err(e) => return Err(Failure::from(e)),
                        }
                    }
                    let _ = sub.close();
                    Ok(n)
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.map_err(|e| Failure::Runtime(format!("a subscriber task: {e}")))??;
        }
        Ok::<_, Failure>(total)
    })?;
    Ok(many_result(args, rss_before, rss_built, cpu_start.zip(process_cpu()), received))
}

/// `--subscribers` blocking subscribers, a thread each.
fn many_blocking<M: Sample>(args: &PeerArgs) -> Result<Value, Failure> {
    let (ep, curve) = (args.endpoint(0)?.to_owned(), args.curve()?);
    let rss_before = status_kb("VmRSS:");
    let count = args.count;
    let (built_tx, built_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let go_rx = std::sync::Arc::new(std::sync::Mutex::new(go_rx));
    let mut threads = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let mut sub = connected_sub(&ep, &curve)?;
        sub.wait_connected(READY)?;
        let (built_tx, go_rx) = (built_tx.clone(), go_rx.clone());
        let spawned = std::thread::Builder::new().stack_size(256 * 1024).spawn(move || {
            let _ = built_tx.send(());
            // Every thread waits for the start, so the RSS is read with all of them up.
            let _ = go_rx.lock().map(|rx| rx.recv());
            let mut n = 0u64;
            while n < count {
                match sub.receive::<M>() {
                    Ok(m) => {
                        black_box(m);
                        n += 1;
                    }
                    Err(SocketError::Timeout { .. }) => break,
                    Err(e) => return Err(Failure::from(e)),
                }
            }
            let _ = sub.close();
            Ok(n)
        });
        threads.push(spawned.map_err(|e| Failure::Runtime(format!("spawn: {e}")))?);
    }
    for _ in 0..args.subscribers {
        built_rx.recv().map_err(|e| Failure::Runtime(format!("a subscriber thread: {e}")))?;
    }
    let rss_built = status_kb("VmRSS:");
    let cpu_start = process_cpu();
    for _ in 0..args.subscribers {
        let _ = go_tx.send(());
    }
    let mut total = 0;
    for t in threads {
        total += t.join().map_err(|_| Failure::Runtime("a subscriber thread panicked".to_owned()))??;
    }
    Ok(many_result(args, rss_before, rss_built, cpu_start.zip(process_cpu()), total))
}
