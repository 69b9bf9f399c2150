//! A Rust controller for Python image workers: one PUSH/PULL pair per named worker (as
//! the Python `ControllerService`), `RenderRequest`s sent with `Context::request` and
//! answered by `ImageReady`s matched by `request_id`, within a timeout.
//!
//! ```sh
//! cargo run --example image_controller -- 3   # binds free ports, prints them
//! ```
//!
//! `tests/service_interop.rs` runs it against two Python workers.

use std::time::Duration;

use experimance_common::service::{Context, Handlers, Service, ServiceError};
use experimance_common::{Biome, Era, ImageReady, PullSocket, PushSocket, RenderRequest};

mod logging;

/// How long a request waits for its image.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Binds one worker's pair: requests go out on `requests`, images come back on `results`.
///
/// # Errors
/// An endpoint that cannot be bound.
pub fn bind_worker(requests: &str, results: &str) -> Result<(PushSocket, PullSocket), ServiceError> {
    Ok((PushSocket::builder().bind(requests)?.build()?, PullSocket::builder().bind(results)?.build()?))
}

/// A controller of the named workers' pairs. Late or unmatched answers are counted and
/// logged.
///
/// # Errors
/// Two workers with one name.
pub fn service(workers: Vec<(String, PushSocket, PullSocket)>) -> Result<Service, ServiceError> {
    let stray = |_ctx: &Context, image: ImageReady| tracing::warn!("no request waits for {image:?}");
    let mut b = Service::builder("core").handlers(Handlers::new().on_fn(stray));
    for (name, push, pull) in workers {
        b = b.worker(&name, push, pull);
    }
    b.build()
}

/// The `n`th request.
pub fn request(n: usize) -> RenderRequest {
    let (era, biome) = (Era::ALL[n % Era::ALL.len()], Biome::ALL[n % Biome::ALL.len()]);
    let prompt = format!("a {biome} landscape in the {era} era");
    RenderRequest { request_id: format!("req-{n}"), era, biome, prompt, depth_map_png: None }
}

/// Sends `count` requests to `worker` at once and awaits every image.
///
/// # Errors
/// The first request that failed (timed out, ...).
pub async fn render(
    ctx: &Context,
    worker: &str,
    first: usize,
    count: usize,
) -> Result<Vec<ImageReady>, ServiceError> {
    let asks: Vec<_> = (first..first + count)
        .map(|n| {
            let (ctx, worker) = (ctx.clone(), worker.to_owned());
            tokio::spawn(async move { ctx.request(&worker, &request(n), REQUEST_TIMEOUT).await })
        })
        .collect();
    let mut images = Vec::new();
    for ask in asks {
        images.push(ask.await.map_err(|_| ServiceError::Stopped)??);
    }
    Ok(images)
}

#[allow(dead_code)] // the interop test uses the functions above without `main`
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init();
    let count: usize = std::env::args().nth(1).map_or(Ok(3), |n| n.parse())?;
    let (mut push, pull) = bind_worker("tcp://*:5564", "tcp://*:5556")?;
    push.wait_connected_async(Duration::from_secs(3600)).await?; // a worker is there
    let service = service(vec![("image".into(), push, pull)])?;
    let ctx = service.context();
    let run = tokio::spawn(service.run());
    for image in render(&ctx, "image", 0, count).await? {
        println!("{} -> {}", image.request_id.unwrap_or_default(), image.uri);
    }
    ctx.shutdown();
    let summary = run.await?;
    println!("{summary:?}");
    std::process::exit(summary.exit_code());
}
