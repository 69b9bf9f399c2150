//! A service configured from TOML: the image-transition worker of the installation.
//!
//! It loads `examples/config/transition_worker.toml` (or the file named by the
//! environment variable `EXPERIMANCE_TRANSITION_WORKER_CONFIG`, falling back to the
//! shipped file when that one is missing or unreadable), builds its four sockets from
//! the file, and handles one request end to end:
//!
//! ```text
//! core --EraChanged-------------> events    (SUB, connects to coordinator_pub)
//! core --TransitionRequest------> requests  (PULL, connects to transition_pull)
//! core <--TransitionReady-------- results   (PUSH, connects to coordinator_pull)
//!      monitor <--Heartbeat------ heartbeat (PUB, binds transition_pub)
//! ```
//!
//! The shipped file is the configuration as deployed: the worker connects to the core
//! on the installation's default ports. So that this example runs to completion on any
//! machine, without the installation, it stands in for the core itself, on free
//! loopback ports (`tcp://127.0.0.1:*`), and points the worker's endpoints at it; every
//! other setting (topics, timeouts, linger, queue limits, ...) comes from the file. On
//! the installation, the sockets are built exactly as configured: drop the overrides.
//!
//! ```text
//! cargo run --example config_service
//! ```

use std::time::Duration;

use experimance_common::config::{self, SubscriberConfig};
use experimance_common::config::{PublisherConfig, PullConfig, PushConfig};
use experimance_common::socket::{Publisher, PullSocket, PushSocket};
use experimance_common::{
    Biome, Era, EraChanged, Heartbeat, Topic, TransitionReady, TransitionRequest, TransitionStyle,
};
use serde::Deserialize;

/// The environment variable that names the configuration file.
const CONFIG_VAR: &str = "EXPERIMANCE_TRANSITION_WORKER_CONFIG";
/// The shipped configuration, the default.
const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/config/transition_worker.toml");
/// How long to wait for a connection or a subscription.
const READY: Duration = Duration::from_secs(5);

/// The worker's configuration file. Unknown keys are refused when it is loaded.
#[derive(Debug, Deserialize)]
struct WorkerConfig {
    service: ServiceSection,
    sockets: Sockets,
}

#[derive(Debug, Deserialize)]
struct ServiceSection {
    name: String,
    heartbeat_every_ms: u64,
}

#[derive(Debug, Deserialize)]
struct Sockets {
    events: SubscriberConfig,
    requests: PullConfig,
    results: PushConfig,
    heartbeat: PublisherConfig,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loaded = config::Loader::new().load_env::<WorkerConfig>(CONFIG_VAR, SHIPPED)?;
    for skipped in &loaded.skipped {
        println!("skipped {skipped}");
    }
    println!("loaded {}", loaded.path.display());
    let mut cfg = loaded.value;
    let s = &cfg.sockets;
    for (name, endpoints) in [
        ("events", s.events.endpoints()?),
        ("requests", s.requests.endpoints()?),
        ("results", s.results.endpoints()?),
        ("heartbeat", s.heartbeat.endpoints()?),
    ] {
        let list: Vec<_> = endpoints.iter().map(|e| format!("{} {e}", e.role())).collect();
        println!("  {name:<9} as configured: {}", list.join(", "));
    }

    // The core, standing in for the installation on free loopback ports.
    let mut core_events = Publisher::builder().bind("tcp://127.0.0.1:*")?.topic("events")?.build()?;
    let mut core_requests = PushSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;
    let mut core_results = PullSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;

    // Point the worker at it; everything else stays as the file says.
    let s = &mut cfg.sockets;
    (s.events.connect, s.events.port) = (Some(core_events.endpoint().into()), None);
    (s.requests.connect, s.requests.port) = (Some(core_requests.endpoint().into()), None);
    (s.results.connect, s.results.port) = (Some(core_results.endpoint().into()), None);
    (s.heartbeat.bind, s.heartbeat.port) = (Some("tcp://127.0.0.1:*".into()), None);

    // The worker's sockets, built from the configuration.
    let mut events = s.events.build()?;
    let mut requests = s.requests.build()?;
    let mut results = s.results.build()?;
    let mut heartbeat = s.heartbeat.build()?;
    println!("worker {} sockets built", cfg.service.name);

    // 1. The core announces an era; the worker's subscriber receives it.
    core_events.wait_for_subscribers(1, READY)?;
    core_events.publish(&EraChanged { era: Era::Modern, biome: Biome::Coastal })?;
    let (topic, era): (Topic, EraChanged) = events.receive()?;
    println!("events    <- {topic}: {era:?}");

    // 2. The core asks for a transition; the worker pulls the request.
    core_requests.wait_for_peers(1, READY)?;
    core_requests.push(&TransitionRequest {
        request_id: "t-1".into(),
        from_image_uri: "file:///images/a.png".into(),
        to_image_uri: "file:///images/b.png".into(),
        style: TransitionStyle::default(),
        duration_frames: 48,
    })?;
    let request: TransitionRequest = requests.pull()?;
    println!("requests  <- {request:?}");

    // 3. The worker pushes the result back; the core pulls it.
    results.wait_connected(READY)?;
    results.push(&TransitionReady {
        transition_id: request.request_id.clone(),
        uri: "file:///transitions/t-1.mp4".into(),
        is_video: true,
        r#loop: false,
        final_frame_uri: request.to_image_uri.clone(),
    })?;
    let ready: TransitionReady = core_results.pull()?;
    println!("core      <- {ready:?}");

    // 4. The worker's heartbeat reaches a monitor, itself a socket described in code.
    let mut monitor = SubscriberConfig {
        connect: Some(heartbeat.endpoint().into()),
        exact_topics: vec!["heartbeat".into()],
        ..SubscriberConfig::default()
    }
    .build()?;
    heartbeat.wait_for_subscribers(1, READY)?;
    heartbeat.publish(&Heartbeat::now(cfg.service.name.as_str()))?;
    let (_, beat): (Topic, Heartbeat) = monitor.receive()?;
    println!("monitor   <- heartbeat from {} (every {} ms)", beat.service, cfg.service.heartbeat_every_ms);

    assert_eq!(ready.transition_id, "t-1");
    println!("ok");
    Ok(())
}
