//! End-to-end test of `exbus bench`: a tiny run (one round, small counts) must report
//! every measurement. No timing assertions: timing claims belong in the benchmark's
//! output, not in pass/fail tests.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn number(v: &Value, path: &str) -> f64 {
    let mut at = v;
    for key in path.split('.') {
        at = &at[key];
    }
    at.as_f64().unwrap_or_else(|| panic!("{path} is not a number: {at}"))
}

#[test]
fn bench_json_reports_every_measurement() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_exbus"))
        .args([
            "bench",
            "--json",
            "--rounds",
            "1",
            "--messages",
            "3000",
            "--round-trips",
            "200",
            "--warmup",
            "20",
            "--idle-ms",
            "300",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("exbus bench did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(status.success(), "exbus bench failed: {status}; stdout: {stdout}");
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON object on one line: {stdout}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();

    assert_eq!(report["settings"]["rounds"], 1);
    assert_eq!(report["settings"]["message_bytes"], 89, "the issue's 89-byte Heartbeat");

    for m in ["push_pull", "pub_sub_lossless", "pub_sub_lossy", "async_push_pull"] {
        for side in ["library", "baseline"] {
            let rate = number(&report, &format!("{m}.{side}.median"));
            assert!(rate > 0.0, "{m} {side}: rate {rate}");
            assert_eq!(report[m][side]["values"].as_array().unwrap().len(), 1, "{m} {side}: one round");
        }
        assert!(number(&report, &format!("{m}.ratio.median")) > 0.0, "{m}");
    }
    // Nothing may be lost where loss is not allowed.
    for m in ["push_pull", "pub_sub_lossless"] {
        for side in ["library", "baseline"] {
            assert_eq!(number(&report, &format!("{m}.loss.{side}.max")), 0.0, "{m} {side} lost messages");
        }
    }
    assert_eq!(number(&report, "async_push_pull.loss.library.max"), 0.0, "async PUSH/PULL lost messages");
    // The lossy mode reports its loss as a fraction, and how fast publish returned.
    for side in ["library", "baseline"] {
        assert!(number(&report, &format!("pub_sub_lossy.sender_rate.{side}.median")) > 0.0, "{side}");
        let loss = number(&report, &format!("pub_sub_lossy.loss.{side}.median"));
        assert!((0.0..1.0).contains(&loss), "lossy {side}: loss {loss}");
    }

    for side in ["library", "baseline"] {
        let p50 = number(&report, &format!("latency.p50.{side}.median"));
        let p99 = number(&report, &format!("latency.p99.{side}.median"));
        let p999 = number(&report, &format!("latency.p999.{side}.median"));
        assert!(p50 > 0.0 && p50 <= p99 && p99 <= p999, "{side}: p50 {p50} p99 {p99} p99.9 {p999}");
    }
    for side in ["library", "baseline"] {
        assert!(number(&report, &format!("receiver_peak_rss.{side}.median")) > 0.0, "{side} RSS");
    }

    // The service runtime's loop and the plain receive loop, measured in the same run.
    for side in ["library", "baseline"] {
        assert!(number(&report, &format!("service_dispatch.rates.{side}.median")) > 0.0, "{side}");
        let cpu =
            number(&report, &format!("service_dispatch.receiving_thread_cpu_ns_per_message.{side}.median"));
        assert!(cpu > 0.0, "{side}: CPU per message {cpu}");
    }

    let targets = report["targets"].as_array().unwrap();
    let names: Vec<&str> = targets.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "push_pull",
            "pub_sub_lossless",
            "async_push_pull",
            "service_dispatch",
            "service_dispatch_cpu",
            "latency_p50",
            "latency_p99",
            "receiver_peak_rss"
        ]
    );
    for t in targets {
        assert!(t["met"].is_boolean() && t["value"].is_number(), "{t}");
    }
}

#[test]
fn bench_rejects_zero_rounds() {
    let out = Command::new(env!("CARGO_BIN_EXE_exbus")).args(["bench", "--rounds", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
