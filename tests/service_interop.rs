//! The service layer against Python services over tcp: the Rust image worker
//! (`examples/image_worker.rs`) served by a Python controller (the pyzmq peer pushes
//! `RenderRequest`s and pulls the `ImageReady`s, comparing each field), and the Rust
//! controller (`examples/image_controller.rs`) served by two Python workers
//! (`tests/python/image_worker.py`), with exact counts. No sleeps: the Python PUSH blocks
//! until the Rust worker connects, the Rust controller waits for its workers' connections.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]
// Each example it includes brings the examples' `logging` module (examples/logging/mod.rs).
#![allow(clippy::duplicate_mod)]

#[path = "../examples/image_controller.rs"]
mod image_controller;
#[path = "../examples/image_worker.rs"]
mod image_worker;
mod support;
use support::python;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use experimance_common::{AnyMessage, ImageReady};
use python::{Peer, Role};
use serde_json::Value;

const REQUESTS: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_image_worker_served_by_a_python_controller() {
    let requests: Vec<_> = (0..REQUESTS).map(image_controller::request).collect();
    let as_case = |m: AnyMessage| (String::new(), m.to_json().expect("a task encodes"));
    let tasks = python::write_cases(&requests.iter().cloned().map(|r| as_case(r.into())).collect::<Vec<_>>());
    let images = python::write_cases(
        &requests.iter().map(|r| as_case(image_worker::image_for(r).into())).collect::<Vec<_>>(),
    );
    let mut results =
        Peer::builder(Role::Pull, "tcp://127.0.0.1:*").bind().cases(&images).unordered().spawn();
    let mut pusher = Peer::builder(Role::Push, "tcp://127.0.0.1:*").bind().cases(&tasks).spawn();
    let (results_ep, tasks_ep) = (results.ready(), pusher.ready());

    let service = image_worker::service(&tasks_ep, &results_ep).unwrap();
    let ctx = service.context();
    let run = tokio::spawn(service.run());
    let (pushed, pulled) =
        tokio::task::spawn_blocking(move || (pusher.finish(), results.finish())).await.unwrap();
    pushed.assert_ok();
    pulled.assert_ok();
    assert_eq!((pushed.sent, pulled.received), (REQUESTS as u64, REQUESTS as u64));

    ctx.shutdown();
    let summary = run.await.unwrap();
    assert!(summary.is_clean(), "{summary:?}");
    assert_eq!(summary.count("RenderRequest").handled, REQUESTS as u64);
    assert_eq!(summary.sent.get("responses"), Some(&(REQUESTS as u64)));
}

/// Starts `tests/python/image_worker.py NAME REQUESTS RESULTS COUNT`.
fn python_worker(name: &str, requests: &str, results: &str, count: usize) -> std::process::Child {
    let script = python::workspace_dir().join("tests/python/image_worker.py");
    Command::new(python::python())
        .arg(script)
        .args([name, requests, results, &count.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the Python worker")
}

fn done(child: std::process::Child) -> Value {
    let out = child.wait_with_output().expect("the Python worker exits");
    assert!(out.status.success(), "python worker: {out:?}");
    let last = BufReader::new(&out.stdout[..]).lines().map_while(Result::ok).last().unwrap_or_default();
    serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {last:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_controller_served_by_two_python_workers() {
    let half = REQUESTS / 2;
    let mut pairs = Vec::new();
    let mut procs = Vec::new();
    for name in ["a", "b"] {
        let (mut push, pull) =
            image_controller::bind_worker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*").unwrap();
        procs.push(python_worker(name, &push.endpoint(), &pull.endpoint(), half));
        // Requests are pushed only once the worker is there (a PUSH without a peer
        // would wait out its send timeout).
        push.wait_connected_async(python::READY_TIMEOUT).await.unwrap();
        pairs.push((name.to_owned(), push, pull));
    }
    let service = image_controller::service(pairs).unwrap();
    let ctx = service.context();
    let run = tokio::spawn(service.run());

    let (a, b) = tokio::join!(
        image_controller::render(&ctx, "a", 0, half),
        image_controller::render(&ctx, "b", half, half)
    );
    let (a, b): (Vec<ImageReady>, Vec<ImageReady>) = (a.unwrap(), b.unwrap());
    for (worker, images, first) in [("a", &a, 0), ("b", &b, half)] {
        for (i, image) in images.iter().enumerate() {
            let id = format!("req-{}", first + i);
            assert_eq!(image.request_id.as_deref(), Some(id.as_str()));
            assert_eq!(image.image_id, format!("{worker}-{id}"), "answered by the worker it was sent to");
        }
    }
    for (p, name) in procs.into_iter().zip(["a", "b"]) {
        let report = tokio::task::spawn_blocking(move || done(p)).await.unwrap();
        assert_eq!((report["name"].as_str(), report["handled"].as_u64()), (Some(name), Some(half as u64)));
    }
    ctx.shutdown();
    let s = run.await.unwrap();
    assert_eq!((s.late_responses, s.unmatched_responses, s.processed), (0, 0, REQUESTS as u64), "{s:?}");
    assert_eq!((s.sent.get("a"), s.sent.get("b")), (Some(&(half as u64)), Some(&(half as u64))));
    assert!(s.is_clean(), "{s:?}");
}
