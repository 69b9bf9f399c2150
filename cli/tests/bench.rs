//! End-to-end test of `exbus bench`: a tiny run (one round, small counts) must report
//! every measurement. No timing assertions: timing claims belong in the benchmark's
//! output, not in pass/fail tests.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A statistic (`median`, `max`, ...) of a series, whose names contain dots.
fn series(report: &Value, name: &str, stat: &str) -> f64 {
    let v = &report["series"][name][stat];
    v.as_f64().unwrap_or_else(|| panic!("series {name} {stat} is not a number: {v}"))
}

fn number(v: &Value, path: &str) -> f64 {
    let mut at = v;
    for key in path.split('.') {
        at = &at[key];
    }
    at.as_f64().unwrap_or_else(|| panic!("{path} is not a number: {at}"))
}

/// Runs `exbus bench` with `args` after the tiny settings; (exit code, stdout).
fn bench(extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
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
        "--large-mb",
        "2",
        "--fanout",
        "2",
        "--fanout-messages",
        "500",
        "--many",
        "5",
        "--many-secs",
        "1",
        "--python-messages",
        "500",
    ];
    args.extend(extra);
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_exbus")).args(&args).stdout(Stdio::piped()).spawn().unwrap();
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
    (status.code(), stdout)
}

#[test]
fn bench_json_reports_every_measurement() {
    let (code, stdout) = bench(&["--check"]);
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON object on one line: {stdout}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    // --check: exit 1 exactly when a target is missed (which, in so tiny a run, says
    // nothing about the library).
    let missed = report["targets"].as_array().unwrap().iter().any(|t| t["met"] == false);
    assert_eq!(code, Some(if missed { 1 } else { 0 }), "exit code against the targets; stdout: {stdout}");

    assert_eq!(report["settings"]["rounds"], 1);
    assert_eq!(report["settings"]["message_bytes"], 89, "the issue's 89-byte Heartbeat");

    // Every row has one positive value a side and a positive ratio.
    let rows = report["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    for expected in [
        "push_pull",
        "push_pull_ceiling",
        "pub_sub_lossless",
        "pub_sub_lossless_ceiling",
        "pub_sub_lossy",
        "async_push_pull",
        "service_dispatch",
        "service_dispatch_cpu",
        "latency_p50",
        "latency_p99",
        "curve_push_pull",
        "curve_cost",
        "curve_latency_p50",
        "curve_latency_p99",
        "large_64k_ceiling",
        "large_1024k_baseline",
        "large_1024k_ceiling",
        "large_4096k_rss",
        "fanout",
        "receiver_peak_rss",
    ] {
        assert!(names.contains(&expected), "no row {expected}: {names:?}");
    }
    for r in rows {
        let name = r["name"].as_str().unwrap();
        for side in ["numerator", "denominator"] {
            assert_eq!(r[side]["values"]["values"].as_array().unwrap().len(), 1, "{name} {side}: one round");
            assert!(number(r, &format!("{side}.values.median")) > 0.0, "{name} {side}: {r}");
        }
        assert!(number(r, "ratio.median") > 0.0, "{name}");
    }
    if report["python"] == true {
        assert!(names.contains(&"python_sync") && names.contains(&"python_async"), "{names:?}");
    }

    // Nothing may be lost where loss is not allowed.
    for name in [
        "push.library",
        "push.baseline",
        "push.raw",
        "push.async",
        "service.service",
        "service.async",
        "lossless.library",
        "lossless.baseline",
        "lossless.raw",
        "curve.library",
        "curve.baseline",
        "large1024.library",
        "large4096.raw",
        "fanout.library",
        "fanout.baseline",
    ] {
        assert_eq!(series(&report, &format!("{name}.loss"), "max"), 0.0, "{name} lost messages");
    }
    // The lossy mode reports its loss as a fraction.
    for side in ["library", "baseline"] {
        let loss = series(&report, &format!("lossy.{side}.loss"), "median");
        assert!((0.0..1.0).contains(&loss), "lossy {side}: loss {loss}");
    }
    for side in ["library", "baseline"] {
        let p50 = series(&report, &format!("p50.{side}"), "median");
        let p99 = series(&report, &format!("p99.{side}"), "median");
        let p999 = series(&report, &format!("p999.{side}"), "median");
        assert!(p50 > 0.0 && p50 <= p99 && p99 <= p999, "{side}: p50 {p50} p99 {p99} p99.9 {p999}");
    }

    // Many sockets: every subscriber got every message, memory and CPU are reported.
    for side in ["async", "library"] {
        let m = &report["many_sockets"][side];
        assert_eq!(m["received"], m["expected"], "{side}: {m}");
        assert_eq!(m["subscribers"], 5, "{side}");
        assert!(number(m, "process_cpu_ns_per_message") > 0.0, "{side}: {m}");
        assert!(number(m, "rss_built_kb") > 0.0, "{side}: {m}");
    }

    let targets = report["targets"].as_array().unwrap();
    assert!(targets.len() >= 15, "{targets:?}");
    for t in targets {
        assert!(t["met"].is_boolean() && t["value"].is_number(), "{t}");
    }
}

#[test]
fn bench_rejects_zero_rounds() {
    let out = Command::new(env!("CARGO_BIN_EXE_exbus")).args(["bench", "--rounds", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// A peer is a small program of its own: each implementation moves the same bytes, and
/// the CURVE keys reach it as `--flag=value` (a Z85 key may begin with '-').
#[test]
fn bench_peers_refuse_a_malformed_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_exbus"))
        .args(["bench-peer", "pull", "baseline", "--curve-server=-not-a-key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
