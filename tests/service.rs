//! The service layer: dispatch, handler failures, duplicate registration, graceful
//! shutdown, back-pressure, requests, heartbeats, health, topics. Everything runs on
//! `inproc://` with readiness handshakes; no test sleeps to wait for anything.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use experimance_common::service::{
    to_python_json, Context, Handlers, Harness, HealthStatus, Service, ServiceError, TopicMode,
};
use experimance_common::{
    AnyMessage, Biome, DecodeErrorKind, Era, EraChanged, Heartbeat, IdleStatus, ImageReady, PullSocket,
    PushSocket, RenderRequest,
};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};

const WAIT: Duration = Duration::from_secs(10);

fn render(id: &str) -> RenderRequest {
    RenderRequest {
        request_id: id.to_owned(),
        era: Era::Modern,
        biome: Biome::Forest,
        prompt: format!("prompt {id}"),
        depth_map_png: None,
    }
}

fn image_for(r: &RenderRequest, worker: &str) -> ImageReady {
    ImageReady {
        request_id: Some(r.request_id.clone()),
        image_id: format!("{worker}:{}", r.request_id),
        uri: format!("file:///tmp/{}.png", r.request_id),
    }
}

fn endpoint(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("inproc://service-test-{what}-{}", N.fetch_add(1, Ordering::Relaxed))
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(WAIT, rx.recv()).await.expect("timed out").expect("channel open")
}

#[tokio::test]
async fn dispatch_by_type_alias_fallback_and_undecodable() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (t1, t2, t3, t4) = (tx.clone(), tx.clone(), tx.clone(), tx);
    let handlers = Handlers::new()
        .on(move |_ctx: Context, m: EraChanged| {
            let t = t1.clone();
            async move { t.send(format!("era {} {}", m.era, m.biome)) }
        })
        .on_fn(move |_ctx, m: IdleStatus| t2.send(format!("idle {}", m.status)))
        .on_unknown(move |_ctx, topic, v: Value| t3.send(format!("unknown {topic} {}", v["type"])))
        .on_undecodable(move |_ctx, e| {
            t4.send(format!("bad {} {}", String::from_utf8_lossy(e.raw()), e.kind()))
        });
    let mut h =
        Harness::builder("dispatch").handlers(handlers).subscriber(&["events"]).start().await.unwrap();

    h.publish(&EraChanged { era: Era::AiFuture, biome: Biome::Tundra }).await.unwrap();
    assert_eq!(next(&mut rx).await, "era ai_future tundra");
    // Python's IdleStatus model writes "Idle": the alias reaches the same handler.
    h.publish_raw(br#"events {"type": "Idle", "status": true}"#).unwrap();
    assert_eq!(next(&mut rx).await, "idle true");
    h.publish(&IdleStatus { status: false }).await.unwrap();
    assert_eq!(next(&mut rx).await, "idle false");
    h.publish_raw(br#"events {"type": "SandLevel", "mm": 3}"#).unwrap();
    assert_eq!(next(&mut rx).await, r#"unknown events "SandLevel""#);
    h.publish_raw(b"events not json").unwrap();
    let bad = next(&mut rx).await;
    assert!(bad.starts_with("bad events not json "), "{bad}");
    // A known type whose fields do not fit is undecodable too, with its raw frame.
    h.publish_raw(br#"events {"type": "EraChanged", "era": "bronze_age", "biome": "tundra"}"#).unwrap();
    let bad = next(&mut rx).await;
    assert!(bad.starts_with(r#"bad events {"type": "EraChanged", "era": "bronze_age""#), "{bad}");
    h.processed(6).await.unwrap();

    let s = h.stop().await;
    assert!(s.is_clean(), "{s:?}");
    assert_eq!(s.count("EraChanged").handled, 1);
    assert_eq!(s.count("IdleStatus").handled, 2);
    assert_eq!(s.unknown.get("SandLevel"), Some(&1));
    assert_eq!(s.undecodable, 2);
    assert_eq!(s.processed, 6);
}

#[tokio::test]
async fn undecodable_without_a_handler_is_counted_and_the_loop_goes_on() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handlers = Handlers::new().on_fn(move |_ctx, m: IdleStatus| tx.send(m.status));
    let mut h = Harness::builder("nohandler").handlers(handlers).pull().start().await.unwrap();
    h.push_raw(b"[1, 2]").await.unwrap();
    h.push_raw(br#"{"type": "Nope"}"#).await.unwrap();
    h.push(&IdleStatus { status: true }).await.unwrap();
    assert!(next(&mut rx).await);
    h.processed(3).await.unwrap();
    let s = h.stop().await;
    assert_eq!((s.undecodable, s.unknown.get("Nope").copied()), (1, Some(1)), "{s:?}");
    assert_eq!(s.count("IdleStatus").handled, 1);
}

#[derive(Debug, thiserror::Error)]
#[error("the sand is too wet")]
struct Wet;

#[tokio::test]
async fn handler_errors_and_panics_are_counted_and_the_loop_goes_on() {
    let handlers = Handlers::new()
        .on_fn(|_ctx, m: IdleStatus| if m.status { Err(Wet) } else { Ok(()) })
        .on_fn(|_ctx, m: EraChanged| {
            if m.era == Era::Ruins {
                panic!("plain handler panicked on {:?}", m.era);
            }
        })
        .on(|_ctx: Context, r: RenderRequest| async move {
            if r.request_id == "boom" {
                panic!("async handler panicked");
            }
            Ok::<_, Wet>(image_for(&r, "w"))
        });
    let mut h = Harness::builder("failing").handlers(handlers).pull().push().start().await.unwrap();
    h.push(&IdleStatus { status: true }).await.unwrap();
    h.push(&EraChanged { era: Era::Ruins, biome: Biome::Desert }).await.unwrap();
    h.push(&render("boom")).await.unwrap();
    h.push(&IdleStatus { status: false }).await.unwrap();
    h.push(&EraChanged { era: Era::Modern, biome: Biome::Desert }).await.unwrap();
    h.push(&render("fine")).await.unwrap();
    // The service is still alive after each failure: the last request is answered.
    let reply: ImageReady = h.pushed().await.unwrap();
    assert_eq!(reply.request_id.as_deref(), Some("fine"));
    h.processed(6).await.unwrap();
    assert_eq!(h.context().health().error_count, 3);
    let s = h.stop().await;
    for t in ["IdleStatus", "EraChanged", "RenderRequest"] {
        assert_eq!((s.count(t).handled, s.count(t).failed), (1, 1), "{t}: {s:?}");
    }
    assert!(s.is_clean(), "handler failures do not make the shutdown unclean: {s:?}");
}

#[test]
fn registering_two_handlers_for_one_type_or_topic_is_an_error() {
    let twice = Handlers::new().on_fn(|_ctx, _: IdleStatus| ()).on_fn(|_ctx, _: IdleStatus| ());
    match Service::builder("dup").handlers(twice).build() {
        Err(ServiceError::DuplicateHandler { type_name: "IdleStatus" }) => {}
        other => panic!("{other:?}"),
    }
    let async_and_plain =
        Handlers::new().on(|_ctx: Context, _: EraChanged| async {}).on_fn(|_ctx, _: EraChanged| ());
    assert!(matches!(
        Service::builder("dup").handlers(async_and_plain).build(),
        Err(ServiceError::DuplicateHandler { type_name: "EraChanged" })
    ));
    let topics = Handlers::new().on_topic("*", |_c, _t, _m| async {}).on_topic("", |_c, _t, _m| async {});
    assert!(matches!(
        Service::builder("dup").handlers(topics).build(),
        Err(ServiceError::DuplicateTopic { .. })
    ));
    assert!(matches!(Service::builder("zero").max_concurrent(0).build(), Err(ServiceError::ZeroConcurrency)));
}

#[test]
fn builders_and_handlers_debug_print_what_they_hold() {
    let handlers = Handlers::new()
        .on_fn(|_ctx, _: IdleStatus| ())
        .on_topic("events", |_c, _t, _m| async {})
        .on_unknown(|_ctx, _topic, _value| ());
    let shown = format!("{handlers:?}");
    assert!(shown.contains(r#"types: ["IdleStatus"]"#), "{shown}");
    assert!(shown.contains(r#"topics: ["events"]"#), "{shown}");
    assert!(shown.contains("unknown: true") && shown.contains("undecodable: false"), "{shown}");

    let builder = Service::builder("image_server").handlers(handlers).max_concurrent(3);
    let shown = format!("{builder:?}");
    assert!(shown.starts_with(r#"ServiceBuilder { name: "image_server""#), "{shown}");
    assert!(shown.contains("max_concurrent: 3") && shown.contains("IdleStatus"), "{shown}");

    let harness = Harness::builder("probe").pull();
    let shown = format!("{harness:?}");
    assert!(
        shown.starts_with(r#"HarnessBuilder { name: "probe""#) && shown.contains("pull: true"),
        "{shown}"
    );
}

#[tokio::test]
async fn topic_handlers_come_first_then_types_then_the_catch_all() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (t1, t2, t3) = (tx.clone(), tx.clone(), tx);
    let handlers = Handlers::new()
        .on_topic("control", move |_c, topic, m: AnyMessage| {
            let t = t1.clone();
            async move { t.send(format!("{topic}: {}", m.type_name().unwrap_or("-"))) }
        })
        .on_fn(move |_c, m: IdleStatus| t2.send(format!("typed {}", m.status)))
        .on_topic("*", move |_c, topic, m: AnyMessage| {
            let t = t3.clone();
            async move { t.send(format!("catch-all {topic}: {}", m.type_name().unwrap_or("-"))) }
        });
    let mut h = Harness::builder("topics").handlers(handlers).subscriber(&[""]).start().await.unwrap();
    h.publish_to("control", &IdleStatus { status: true }).await.unwrap();
    assert_eq!(next(&mut rx).await, "control: IdleStatus");
    h.publish_to("events", &IdleStatus { status: true }).await.unwrap();
    assert_eq!(next(&mut rx).await, "typed true");
    h.publish_to("events", &EraChanged { era: Era::Modern, biome: Biome::Hills }).await.unwrap();
    assert_eq!(next(&mut rx).await, "catch-all events: EraChanged");
    let s = h.stop().await;
    assert_eq!(s.count("topic:control").handled, 1);
    assert_eq!(s.count("topic:*").handled, 1);
}

#[tokio::test]
async fn publishing_by_type_or_on_the_fixed_default_topic() {
    for (mode, era_topic, free_topic) in
        [(TopicMode::ByType, "EraChanged", "Custom"), (TopicMode::Fixed, "display", "display")]
    {
        let handlers = Handlers::new().on(|ctx: Context, m: EraChanged| async move {
            ctx.publish(&m).await?;
            ctx.publish_value(&json!({"type": "Custom", "x": 1})).await?;
            ctx.publish_value(&json!({"untyped": true})).await?;
            ctx.publish_to("explicit", &m).await
        });
        let mut h = Harness::builder("topic-mode")
            .handlers(handlers)
            .pull()
            .publisher("display")
            .configure(move |b| b.topic_mode(mode))
            .start()
            .await
            .unwrap();
        h.push(&EraChanged { era: Era::Modern, biome: Biome::Hills }).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..4 {
            let (topic, _): (_, Value) = h.published().await.unwrap();
            got.push(topic.to_string());
        }
        assert_eq!(got, [era_topic, free_topic, "display", "explicit"], "{mode:?}");
        let s = h.stop().await;
        assert_eq!(s.count("EraChanged").handled, 1, "{s:?}");
    }
}

#[tokio::test]
async fn graceful_shutdown_lets_in_flight_work_finish_and_pushes_every_response() {
    let gate = Arc::new(Semaphore::new(0));
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let g = gate.clone();
    let handlers = Handlers::new().on(move |_ctx: Context, r: RenderRequest| {
        let (g, s) = (g.clone(), started_tx.clone());
        async move {
            let _ = s.send(r.request_id.clone());
            let _permit = g.acquire().await.map_err(|_| Wet)?;
            Ok::<_, Wet>(image_for(&r, "w"))
        }
    });
    let mut h = Harness::builder("inflight")
        .handlers(handlers)
        .pull()
        .push()
        .configure(|b| b.max_concurrent(4).shutdown_deadline(WAIT))
        .start()
        .await
        .unwrap();
    for i in 0..4 {
        h.push(&render(&format!("r{i}"))).await.unwrap();
    }
    for _ in 0..4 {
        next(&mut started).await;
    }
    // Stop with four handlers in flight, then let them finish.
    h.context().shutdown();
    gate.add_permits(4);
    let mut ids = Vec::new();
    for _ in 0..4 {
        let reply: ImageReady = h.pushed().await.unwrap();
        ids.push(reply.request_id.unwrap());
    }
    ids.sort();
    assert_eq!(ids, ["r0", "r1", "r2", "r3"]);
    let s = h.stop().await;
    assert!(s.is_clean(), "{s:?}");
    assert_eq!((s.count("RenderRequest").handled, s.abandoned), (4, 0));
    assert_eq!(s.sent.get("responses"), Some(&4));
    assert_eq!(s.exit_code(), 0);
}

#[tokio::test]
async fn a_handler_past_the_deadline_is_abandoned_and_the_exit_code_says_so() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let handlers = Handlers::new().on(move |_ctx: Context, _r: RenderRequest| {
        let s = started_tx.clone();
        async move {
            let _ = s.send(());
            std::future::pending::<()>().await
        }
    });
    let mut h = Harness::builder("stuck")
        .handlers(handlers)
        .pull()
        .configure(|b| b.max_concurrent(2).shutdown_deadline(Duration::from_millis(50)))
        .start()
        .await
        .unwrap();
    h.push(&render("forever")).await.unwrap();
    next(&mut started).await;
    let s = h.stop().await;
    assert_eq!(s.abandoned, 1, "{s:?}");
    assert!(!s.is_clean());
    assert_eq!(s.exit_code(), 1);
}

/// Two workers with `max_concurrent(1)` behind one PUSH: while the slow one is busy it
/// pulls nothing more, so the PUSH's round robin hands every other task to the fast one.
/// Receive and send high-water marks of 1 keep libzmq from queueing more than a couple
/// of tasks in the slow worker's pipe (on inproc a pipe holds about the sum of the two
/// ends' HWMs); with the default 1000 they would all queue there, unread but stuck.
#[tokio::test]
async fn back_pressure_across_two_workers_one_slow() {
    const TASKS: usize = 20;
    let (tasks_ep, results_ep) = (endpoint("tasks"), endpoint("results"));
    let gate = Arc::new(Semaphore::new(0));
    let slow_started = Arc::new(AtomicU64::new(0));

    let worker = |name: &'static str, slow: bool| {
        let (gate, started) = (gate.clone(), slow_started.clone());
        let handlers = Handlers::new().on(move |_ctx: Context, r: RenderRequest| {
            let (gate, started) = (gate.clone(), started.clone());
            async move {
                if slow {
                    started.fetch_add(1, Ordering::SeqCst);
                    let _p = gate.acquire().await.map_err(|_| Wet)?;
                }
                Ok::<_, Wet>(image_for(&r, name))
            }
        });
        let pull = PullSocket::builder().connect(&tasks_ep).unwrap().receive_hwm(1).build().unwrap();
        let push = PushSocket::builder().connect(&results_ep).unwrap().build().unwrap();
        Service::builder(name)
            .handlers(handlers)
            .pull(pull)
            .push(push)
            .max_concurrent(1)
            .handle_signals(false)
            .heartbeat(None)
            .build()
            .unwrap()
    };
    // The controller: requests go out on the PUSH, answers come back on the PULL,
    // matched by request_id.
    let mut to_workers = PushSocket::builder().bind(&tasks_ep).unwrap().send_hwm(1).build().unwrap();
    let from_workers = PullSocket::builder().bind(&results_ep).unwrap().build().unwrap();
    let (slow, fast) = (worker("slow", true), worker("fast", false));
    to_workers.wait_for_peers(2, WAIT).unwrap();
    let controller = Service::builder("controller")
        .worker("image", to_workers, from_workers)
        .handle_signals(false)
        .heartbeat(None)
        .build()
        .unwrap();
    let ctx = controller.context();
    let (slow_ctx, fast_ctx) = (slow.context(), fast.context());
    let runs = [tokio::spawn(controller.run()), tokio::spawn(slow.run()), tokio::spawn(fast.run())];

    let requests: Vec<_> = (0..TASKS)
        .map(|i| {
            let ctx = ctx.clone();
            tokio::spawn(async move { ctx.request("image", &render(&format!("t{i:02}")), WAIT * 3).await })
        })
        .collect();
    // Wait until the fast worker has done everything the slow one could not take.
    let most = u64::try_from(TASKS - 1 - 4).unwrap();
    tokio::time::timeout(WAIT, fast_ctx.processed_at_least(most))
        .await
        .expect("the fast worker took the rest");
    assert_eq!(slow_started.load(Ordering::SeqCst), 1, "the busy worker pulled no more than it can run");
    gate.add_permits(TASKS);
    let mut by_worker = std::collections::BTreeMap::<String, usize>::new();
    for (i, r) in requests.into_iter().enumerate() {
        let reply = r.await.unwrap().unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(reply.request_id, Some(format!("t{i:02}")));
        *by_worker.entry(reply.image_id.split(':').next().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(by_worker.values().sum::<usize>(), TASKS, "nothing was dropped: {by_worker:?}");
    assert!(by_worker["slow"] <= 5, "{by_worker:?}");
    ctx.shutdown();
    slow_ctx.shutdown();
    fast_ctx.shutdown();
    let [c, s, f] = runs;
    let (c, s, f) = (c.await.unwrap(), s.await.unwrap(), f.await.unwrap());
    assert_eq!((c.late_responses, c.unmatched_responses), (0, 0), "{c:?}");
    assert_eq!(s.count("RenderRequest").handled + f.count("RenderRequest").handled, TASKS as u64);
    assert!(c.is_clean() && s.is_clean() && f.is_clean(), "{c:?}\n{s:?}\n{f:?}");
}

#[tokio::test]
async fn request_timeouts_late_and_unmatched_responses() {
    let (req_ep, resp_ep) = (endpoint("req"), endpoint("resp"));
    let mut worker_pull = PullSocket::builder().bind(&req_ep).unwrap().build().unwrap();
    let mut worker_push = PushSocket::builder().bind(&resp_ep).unwrap().build().unwrap();
    let to_worker = PushSocket::builder().connect(&req_ep).unwrap().build().unwrap();
    let from_worker = PullSocket::builder().connect(&resp_ep).unwrap().build().unwrap();
    worker_push.wait_connected(WAIT).unwrap();
    let (tx, mut late_rx) = mpsc::unbounded_channel();
    let controller = Service::builder("controller")
        .worker("image", to_worker, from_worker)
        .handlers(Handlers::new().on_fn(move |_ctx, m: ImageReady| tx.send(m.request_id)))
        .handle_signals(false)
        .heartbeat(None)
        .build()
        .unwrap();
    let ctx = controller.context();
    let run = tokio::spawn(controller.run());

    // Answered in time.
    let asked = tokio::spawn({
        let ctx = ctx.clone();
        async move { ctx.request("image", &render("on-time"), WAIT).await }
    });
    let req: RenderRequest = worker_pull.pull_within_async(WAIT).await.unwrap();
    worker_push.push_async(&image_for(&req, "py")).await.unwrap();
    assert_eq!(asked.await.unwrap().unwrap().image_id, "py:on-time");

    // Not answered in time: a timeout; the answer that comes later is late.
    let err = ctx.request("image", &render("slow"), Duration::from_millis(20)).await.unwrap_err();
    assert!(
        matches!(err, ServiceError::RequestTimeout { ref request_id, .. } if request_id == "slow"),
        "{err}"
    );
    let req: RenderRequest = worker_pull.pull_within_async(WAIT).await.unwrap();
    worker_push.push_async(&image_for(&req, "py")).await.unwrap();
    assert_eq!(next(&mut late_rx).await.as_deref(), Some("slow"), "the late response reaches the handler");
    // One nobody asked for.
    worker_push.push_async(&image_for(&render("stranger"), "py")).await.unwrap();
    assert_eq!(next(&mut late_rx).await.as_deref(), Some("stranger"));

    // Fire and forget, and to all workers.
    ctx.push_to("image", &render("fire")).await.unwrap();
    assert_eq!(ctx.push_all(&render("all")).await.unwrap(), 1);
    for id in ["fire", "all"] {
        let r: RenderRequest = worker_pull.pull_within_async(WAIT).await.unwrap();
        assert_eq!(r.request_id, id);
    }
    assert!(matches!(ctx.push_to("nobody", &render("x")).await, Err(ServiceError::NoSocket { .. })));

    ctx.shutdown();
    let s = run.await.unwrap();
    assert_eq!((s.late_responses, s.unmatched_responses), (1, 1), "{s:?}");
    assert_eq!(s.count("ImageReady").handled, 2);
    assert_eq!(s.sent.get("image"), Some(&4));
}

#[tokio::test]
async fn a_request_no_worker_takes_fails_with_the_send_error_not_a_timeout() {
    // No worker is connected: the push times out after 50 ms. The request's own
    // timeout is far longer, and the error must be the send's, not a request timeout.
    let to_worker = PushSocket::builder()
        .bind(&endpoint("nobody"))
        .unwrap()
        .send_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let from_worker = PullSocket::builder().bind(&endpoint("nobody-resp")).unwrap().build().unwrap();
    let controller = Service::builder("controller")
        .worker("image", to_worker, from_worker)
        .handle_signals(false)
        .heartbeat(None)
        .build()
        .unwrap();
    let ctx = controller.context();
    let run = tokio::spawn(controller.run());
    for _ in 0..2 {
        // The same id twice: the failed request is no longer pending.
        let err = ctx.request("image", &render("lost"), WAIT * 6).await.unwrap_err();
        assert!(
            matches!(err, ServiceError::RequestNotSent { ref request_id, source: experimance_common::socket::Error::Timeout { .. } } if request_id == "lost"),
            "{err:?}"
        );
    }
    ctx.shutdown();
    let s = run.await.unwrap();
    assert_eq!(s.send_failures.get("image"), Some(&2), "{s:?}");
    assert_eq!(s.sent.get("image").copied().unwrap_or(0), 0, "{s:?}");
}

#[tokio::test]
async fn heartbeat_bytes_are_what_python_json_dumps_writes() {
    let mut h = Harness::builder("image_server")
        .pull()
        .publisher("heartbeat")
        .handlers(Handlers::new().on_fn(|_c, _m: IdleStatus| ()))
        .configure(|b| b.heartbeat(Some(Duration::from_millis(10))))
        .start()
        .await
        .unwrap();
    h.push(&IdleStatus { status: true }).await.unwrap();
    h.processed(1).await.unwrap();
    // Heartbeats come at every interval; the first one after the task names it.
    let (topic, hb) = loop {
        let frame = h.published_raw().await.unwrap();
        let text = String::from_utf8(frame).unwrap();
        let (topic, json) = text.split_once(' ').unwrap();
        let hb: Heartbeat = experimance_common::codec::decode_push(json.as_bytes()).unwrap();
        if hb.extra["tasks_processed"] == 1 {
            // Python: json.dumps({"type": "Heartbeat", "timestamp": time.time(),
            // "service": name, "tasks_processed": n})
            let expected = format!(
                r#"{{"type": "Heartbeat", "timestamp": {}, "service": "image_server", "tasks_processed": 1}}"#,
                serde_json::to_string(&hb.timestamp).unwrap()
            );
            assert_eq!(json, expected);
            let python = to_python_json(&serde_json::from_str::<Value>(json).unwrap()).unwrap();
            assert_eq!(json, python);
            break (topic.to_owned(), hb);
        }
    };
    assert_eq!((topic.as_str(), hb.service.as_str()), ("heartbeat", "image_server"));
    let s = h.stop().await;
    assert!(s.heartbeats >= 1);
}

#[tokio::test]
async fn heartbeat_bytes_match_the_python_interpreter() {
    let Ok(out) = std::process::Command::new("python3")
        .args([
            "-c",
            "import json; print(json.dumps({'type': 'Heartbeat', 'timestamp': 1764640123.456789, \
             'service': 'caf\\u00e9', 'tasks_processed': 3}))",
        ])
        .output()
    else {
        panic!("python3 is needed by the test suite (README: Run all tests)");
    };
    let python = String::from_utf8(out.stdout).unwrap();
    let rust = to_python_json(&json!({
        "type": "Heartbeat", "timestamp": 1764640123.456789, "service": "café", "tasks_processed": 3
    }))
    .unwrap();
    assert_eq!(rust, python.trim_end());
}

#[tokio::test]
async fn the_health_file_has_the_python_fields_and_is_replaced_atomically() {
    let dir = std::env::temp_dir().join(format!("exp-health-{}-{}", std::process::id(), line!()));
    let _ = std::fs::remove_dir_all(&dir);
    let handlers = Handlers::new().on_fn(|_c, m: IdleStatus| if m.status { Err(Wet) } else { Ok(()) });
    let d = dir.clone();
    let mut h = Harness::builder("agent")
        .handlers(handlers)
        .pull()
        .configure(move |b| b.health_file_in(d, "agent_service"))
        .start()
        .await
        .unwrap();
    h.push(&IdleStatus { status: true }).await.unwrap();
    h.push(&IdleStatus { status: false }).await.unwrap();
    h.processed(2).await.unwrap();
    h.context().record_check("camera", HealthStatus::Warning, Some("no frames"));
    let snapshot = h.context().health();
    assert_eq!(snapshot.overall_status, HealthStatus::Warning);
    assert_eq!((snapshot.processed, snapshot.error_count), (2, 1));
    let s = h.stop().await;
    assert!(s.is_clean());

    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["agent_service.json"], "no temporary file is left behind");
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join("agent_service.json")).unwrap()).unwrap();
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "service_name",
            "overall_status",
            "checks",
            "last_updated",
            "uptime",
            "restart_count",
            "error_count"
        ]
    );
    assert_eq!(v["service_name"], "agent");
    assert_eq!(v["overall_status"], "warning");
    assert_eq!((v["error_count"].as_u64(), v["restart_count"].as_u64()), (Some(1), Some(0)));
    assert!(v["uptime"].as_f64().unwrap() >= 0.0);
    assert!(v["last_updated"].as_str().unwrap().ends_with("+00:00"));
    let checks = v["checks"].as_array().unwrap();
    let lifecycle: Vec<_> =
        checks.iter().filter(|c| c["name"] == "lifecycle").map(|c| c["message"].as_str().unwrap()).collect();
    assert_eq!(lifecycle, ["running", "stopping", "stopped"]);
    for c in checks {
        let keys: Vec<_> = c.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["name", "status", "message", "timestamp", "metadata"]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_health_directory_follows_experimance_env() {
    // The only test in this binary that touches EXPERIMANCE_ENV.
    std::env::set_var("EXPERIMANCE_ENV", "production");
    let production = experimance_common::service::health_dir();
    std::env::set_var("EXPERIMANCE_ENV", "development");
    let development = experimance_common::service::health_dir();
    std::env::remove_var("EXPERIMANCE_ENV");
    assert_eq!(production, std::path::PathBuf::from("/var/cache/experimance/health"));
    assert_eq!(development, std::path::PathBuf::from("logs/health"));
}

#[tokio::test]
async fn a_worker_built_from_the_toml_sockets() {
    #[derive(serde::Deserialize)]
    struct Sockets {
        requests: experimance_common::config::PullConfig,
        results: experimance_common::config::PushConfig,
    }
    let (req_ep, res_ep) = (endpoint("toml-req"), endpoint("toml-res"));
    let mut to_worker = PushSocket::builder().bind(&req_ep).unwrap().build().unwrap();
    let mut from_worker = PullSocket::builder().bind(&res_ep).unwrap().build().unwrap();
    let text = format!(
        "[requests]\nconnect = \"{req_ep}\"\nreceive_hwm = 1\n[results]\nconnect = \"{res_ep}\"\nlinger_ms = 2000\n"
    );
    let sockets: Sockets = toml::from_str(&text).unwrap();
    let service = Service::builder("toml_worker")
        .pull_config(&sockets.requests)
        .unwrap()
        .push_config(&sockets.results)
        .unwrap()
        .handlers(Handlers::new().on_fn(|_c, r: RenderRequest| image_for(&r, "toml")))
        .handle_signals(false)
        .build()
        .unwrap();
    let ctx = service.context();
    let run = tokio::spawn(service.run());
    to_worker.wait_connected_async(WAIT).await.unwrap();
    to_worker.push_async(&render("cfg")).await.unwrap();
    let reply: ImageReady = from_worker.pull_within_async(WAIT).await.unwrap();
    assert_eq!(reply.image_id, "toml:cfg");
    ctx.shutdown();
    assert!(run.await.unwrap().is_clean());
}

#[tokio::test]
async fn a_decode_error_keeps_its_kind() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let handlers = Handlers::new()
        .on_fn(|_c, _m: EraChanged| ())
        .on_undecodable(move |_c, e| s2.lock().unwrap().push(e));
    let mut h = Harness::builder("kinds").handlers(handlers).subscriber(&["x"]).start().await.unwrap();
    h.publish_raw(b"x[]").unwrap();
    h.publish_raw(b"x {\"type\": \"EraChanged\"}").unwrap();
    h.processed(2).await.unwrap();
    let _ = h.stop().await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(matches!(seen[0].kind(), DecodeErrorKind::MissingSeparator), "{:?}", seen[0]);
    assert_eq!(seen[1].raw(), b"x {\"type\": \"EraChanged\"}");
}

#[tokio::test]
async fn degraded_after_a_failing_interval_running_after_a_clean_one() {
    use experimance_common::service::ServiceState;
    let handlers = Handlers::new().on_fn(|_c, m: IdleStatus| if m.status { Err(Wet) } else { Ok(()) });
    let mut h = Harness::builder("moody")
        .handlers(handlers)
        .pull()
        .publisher("hb")
        .configure(|b| b.heartbeat(Some(Duration::from_millis(5))))
        .start()
        .await
        .unwrap();
    h.push(&IdleStatus { status: true }).await.unwrap();
    h.processed(1).await.unwrap();
    // The first tick, at start, reviews nothing; every later tick reviews its interval
    // and records a lifecycle change in the health history. The history, not the
    // state at the moment the test looks, is what is asserted: with 5 ms ticks a busy
    // machine may already have moved on.
    let lifecycle = |h: &Harness| -> Vec<String> {
        let checks = h.context().health().checks;
        checks.iter().filter(|c| c.name == "lifecycle").filter_map(|c| c.message.clone()).collect()
    };
    let wanted = ["running", "degraded", "running"];
    let mut heartbeats = 0;
    while !lifecycle(&h).windows(3).any(|w| w == wanted) {
        let (_, hb): (_, Heartbeat) = h.published().await.unwrap();
        heartbeats += 1;
        assert!(
            heartbeats < 1000,
            "no degraded-then-running after {heartbeats} ticks: {:?} ({hb:?})",
            lifecycle(&h)
        );
    }
    let statuses: Vec<_> = h.context().health().checks.iter().map(|c| c.status).collect();
    assert!(statuses.contains(&HealthStatus::Warning), "{statuses:?}");
    assert_eq!(lifecycle(&h).iter().filter(|m| *m == "degraded").count(), 1, "one failing interval");
    assert_eq!(h.context().health().state, ServiceState::Running, "no failure since");
    let _ = h.stop().await;
}
