//! Proves the Python peer (tests/python/peer.py) on its own: Python <-> Python over
//! tcp, sync and async pyzmq, and that wrong expectations and timeouts are reported.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

mod support;
use support::python;

use python::{Mode, Peer, PeerReport, Role};
use serde_json::{json, Value};
use std::time::Duration;

const ANY_PORT: &str = "tcp://127.0.0.1:*";

fn pubsub_cases() -> Vec<(String, Value)> {
    vec![
        ("era".to_string(), json!({"type": "EraChanged", "era": "ai_future", "biome": "tropical_forest"})),
        (
            // The empty topic is legal: the frame starts with the space.
            String::new(),
            json!({"type": "ImageReady", "request_id": null, "image_id": "Café ☕ 東京 🌍 \"q\" \\ \n",
                   "uri": "file:///tmp/ö.png"}),
        ),
        (
            "agent".to_string(),
            json!({"type": "AgentControlEvent", "sub_type": "SuggestBiome",
                   "payload": {"biome_suggestion": "desert", "nested": {"list": [1, 2.5, null, true, "x"]}}}),
        ),
        (
            "heartbeat".to_string(),
            json!({"type": "Heartbeat", "timestamp": 1712345678.123456, "service": "display",
                   "tasks_processed": 9007199254740993u64, "ratio": 0.1}),
        ),
    ]
}

fn push_cases() -> Vec<(String, Value)> {
    vec![
        (
            String::new(),
            json!({"type": "RenderRequest", "request_id": "r-1", "era": "modern", "biome": "coastal",
                   "prompt": "naïve 🌊 prompt", "depth_map_png": null}),
        ),
        (
            String::new(),
            json!({"type": "RenderRequest", "id": 7, "parameters": {"steps": [1, 2, 3], "cfg": 7.5, "x": {}}}),
        ),
        (
            String::new(),
            json!({"type": "LoopReady", "loop_id": "l", "uri": "u", "is_video": false, "duration_s": null}),
        ),
    ]
}

/// Runs a bound sender and a connecting receiver (or the reverse) and returns
/// (sender report, receiver report).
#[allow(clippy::too_many_arguments)]
fn run_pair(
    sender: Role,
    receiver: Role,
    send_mode: Mode,
    recv_mode: Mode,
    sender_binds: bool,
    sent: &[(String, Value)],
    expected: &[(String, Value)],
    repeat: usize,
) -> (PeerReport, PeerReport) {
    let sent_file = python::write_cases(sent);
    let expected_file = python::write_cases(expected);
    let timeout = Duration::from_secs(10);
    let build = |role: Role, mode: Mode, endpoint: String, cases: &std::path::Path| {
        Peer::builder(role, endpoint).mode(mode).cases(cases).timeout(timeout).repeat(repeat)
    };
    let (mut s, mut r) = if sender_binds {
        let mut s = build(sender, send_mode, ANY_PORT.into(), &sent_file).bind().spawn();
        let ep = s.ready();
        let r = build(receiver, recv_mode, ep, &expected_file).connect().spawn();
        (s, r)
    } else {
        let mut r = build(receiver, recv_mode, ANY_PORT.into(), &expected_file).bind().spawn();
        let ep = r.ready();
        let s = build(sender, send_mode, ep, &sent_file).connect().spawn();
        (s, r)
    };
    s.ready();
    r.ready();
    let rr = r.finish();
    let sr = s.finish();
    (sr, rr)
}

#[test]
fn python_interpreter_has_pyzmq() {
    let py = python::python();
    let out = std::process::Command::new(&py)
        .args(["-c", "import zmq; print(zmq.__version__)"])
        .output()
        .expect("run python");
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).trim().is_empty());
}

#[test]
fn pub_sub_sync() {
    let c = pubsub_cases();
    let (p, s) = run_pair(Role::Pub, Role::Sub, Mode::Sync, Mode::Sync, true, &c, &c, 1);
    p.assert_ok();
    s.assert_ok();
    assert_eq!(p.sent, 4);
    assert_eq!(s.received, 4);
}

#[test]
fn pub_sub_async() {
    let c = pubsub_cases();
    let (p, s) = run_pair(Role::Pub, Role::Sub, Mode::Async, Mode::Async, true, &c, &c, 1);
    p.assert_ok();
    s.assert_ok();
    assert_eq!(s.received, 4);
}

#[test]
fn pub_sub_mixed_modes_subscriber_binds() {
    let c = pubsub_cases();
    let (p, s) = run_pair(Role::Pub, Role::Sub, Mode::Sync, Mode::Async, false, &c, &c, 3);
    p.assert_ok();
    s.assert_ok();
    assert_eq!(p.sent, 12);
    assert_eq!(s.received, 12);
}

#[test]
fn push_pull_sync_with_repeat() {
    let c = push_cases();
    let (p, q) = run_pair(Role::Push, Role::Pull, Mode::Sync, Mode::Sync, true, &c, &c, 100);
    p.assert_ok();
    q.assert_ok();
    assert_eq!(p.sent, 300);
    assert_eq!(q.received, 300);
}

#[test]
fn push_pull_async_puller_binds() {
    let c = push_cases();
    let (p, q) = run_pair(Role::Push, Role::Pull, Mode::Async, Mode::Async, false, &c, &c, 5);
    p.assert_ok();
    q.assert_ok();
    assert_eq!(q.received, 15);
}

#[test]
fn python_wire_format_is_topic_space_json_dumps() {
    let cases = vec![("era".to_string(), json!({"type": "EraChanged", "era": "modern", "biome": "forest"}))];
    let file = python::write_cases(&cases);
    let mut p = Peer::builder(Role::Pub, ANY_PORT).bind().cases(&file).spawn();
    let ep = p.ready();
    let mut s = Peer::builder(Role::Sub, ep).cases(&file).echo().spawn();
    s.ready();
    let sr = s.finish();
    p.finish().assert_ok();
    sr.assert_ok();
    // json.dumps default separators; key order is the cases file's, which keeps the order
    // written here (serde_json's `preserve_order`), as a Python dict does.
    assert_eq!(
        sr.frames,
        vec![r#"era {"type": "EraChanged", "era": "modern", "biome": "forest"}"#.to_string()]
    );
}

#[test]
fn wrong_expectation_is_reported_field_by_field() {
    let sent = pubsub_cases();
    let mut expected = sent.clone();
    expected[2].1["payload"]["biome_suggestion"] = json!("forest");
    expected[2].1["payload"]["nested"]["list"][1] = json!(2.5000001);
    expected[3].1.as_object_mut().unwrap().remove("ratio");
    expected[3].1["missing_here"] = json!(1);
    for mode in [Mode::Sync, Mode::Async] {
        let (p, s) = run_pair(Role::Pub, Role::Sub, mode, mode, true, &sent, &expected, 1);
        p.assert_ok();
        assert_eq!(s.exit_code, 1, "{s}");
        assert_eq!(s.received, 4, "{s}");
        let all = s.mismatches.join("\n");
        assert_eq!(s.mismatches.len(), 4, "{s}");
        assert!(
            s.mismatches.iter().any(|m| m.contains("case 2")
                && m.contains("payload.biome_suggestion")
                && m.contains("\"forest\"")
                && m.contains("\"desert\"")),
            "{all}"
        );
        assert!(all.contains("payload.nested.list[1]"), "{all}");
        assert!(all.contains("unexpected field ratio"), "{all}");
        assert!(all.contains("missing field missing_here"), "{all}");
    }
}

#[test]
fn wrong_topic_and_type_are_mismatches() {
    let sent = push_cases();
    let mut expected = sent.clone();
    // int vs float and bool vs int are different JSON values.
    expected[1].1["id"] = json!(7.0);
    expected[2].1["is_video"] = json!(0);
    let (p, q) = run_pair(Role::Push, Role::Pull, Mode::Sync, Mode::Async, true, &sent, &expected, 1);
    p.assert_ok();
    assert_eq!(q.exit_code, 1, "{q}");
    let all = q.mismatches.join("\n");
    assert!(all.contains("case 1: id: expected float 7.0, got int 7"), "{all}");
    assert!(all.contains("case 2: is_video"), "{all}");

    let sent = pubsub_cases();
    let mut expected = sent.clone();
    expected[0].0 = "eras".into();
    let (p, s) = run_pair(Role::Pub, Role::Sub, Mode::Sync, Mode::Sync, true, &sent, &expected, 1);
    p.assert_ok();
    assert_eq!(s.exit_code, 1, "{s}");
    assert!(s.mismatches[0].contains("topic: expected 'eras', got 'era'"), "{s}");
}

#[test]
fn subscription_filter_and_pub_topic_wait() {
    // `status ` (trailing space) matches the topic `status` exactly, not `status-updates`.
    let sent = vec![
        ("status-updates".to_string(), json!({"type": "X", "n": 1})),
        ("status".to_string(), json!({"type": "X", "n": 2})),
        ("other".to_string(), json!({"type": "X", "n": 3})),
        ("status".to_string(), json!({"type": "X", "n": 4})),
    ];
    let expected = vec![sent[1].clone(), sent[3].clone()];
    let (sf, ef) = (python::write_cases(&sent), python::write_cases(&expected));
    let mut p = Peer::builder(Role::Pub, ANY_PORT).bind().topic("status ").cases(&sf).spawn();
    let ep = p.ready();
    let mut s = Peer::builder(Role::Sub, ep).mode(Mode::Async).topic("status ").cases(&ef).spawn();
    s.ready();
    let sr = s.finish();
    p.finish().assert_ok();
    sr.assert_ok();
    assert_eq!(sr.received, 2);
}

#[test]
fn missing_messages_time_out_with_exit_2() {
    let sent = push_cases();
    let expected: Vec<_> = sent.iter().chain(sent.iter()).cloned().collect();
    let (sf, ef) = (python::write_cases(&sent), python::write_cases(&expected));
    let mut q = Peer::builder(Role::Pull, ANY_PORT)
        .bind()
        .mode(Mode::Async)
        .cases(&ef)
        .timeout(Duration::from_millis(700))
        .spawn();
    let ep = q.ready();
    let mut p = Peer::builder(Role::Push, ep).cases(&sf).spawn();
    p.ready();
    p.finish().assert_ok();
    let r = q.finish();
    assert_eq!(r.exit_code, 2, "{r}");
    assert_eq!(r.received, 3, "{r}");
    let t = r.timeout.as_ref().expect("timeout event");
    assert_eq!(t["phase"], "receive");
    assert_eq!(t["missing"].as_array().unwrap().len(), 3, "{r}");
}

#[test]
fn pub_without_subscriber_times_out() {
    let f = python::write_cases(&pubsub_cases());
    let mut p =
        Peer::builder(Role::Pub, ANY_PORT).bind().cases(&f).timeout(Duration::from_millis(500)).spawn();
    p.ready();
    let r = p.finish();
    assert_eq!(r.exit_code, 2, "{r}");
    assert_eq!(r.sent, 0);
    assert_eq!(r.timeout.as_ref().unwrap()["phase"], "subscribe", "{r}");
}

#[test]
fn usage_errors_exit_3() {
    let f = python::write_cases(&[]);
    // These exit before `ready`: finish() still reports them.
    let r = Peer::builder(Role::Sub, "not-an-endpoint").bind().cases(&f).spawn().finish();
    assert_eq!(r.exit_code, 3, "{r}");
    let missing = python::target_dir().join("python-peer-cases").join("does-not-exist.json");
    let r = Peer::builder(Role::Pull, ANY_PORT).bind().cases(missing).spawn().finish();
    assert_eq!(r.exit_code, 3, "{r}");
    assert_eq!(r.error.as_ref().unwrap()["kind"], "usage", "{r}");
}
