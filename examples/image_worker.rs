//! A Rust image worker for the Python core: it pulls `RenderRequest`s (from the core's
//! PUSH) and pushes an `ImageReady` back for each, at most `MAX_CONCURRENT` at once;
//! above that it stops pulling, so the core's PUSH hands work to other workers.
//!
//! ```sh
//! cargo run --example image_worker -- tcp://localhost:5564 tcp://localhost:5556
//! ```
//!
//! `tests/service_interop.rs` runs it against a Python controller (the pyzmq peer).

use experimance_common::service::{Context, Handlers, Service, ServiceError};
use experimance_common::{ImageReady, PullSocket, PushSocket, RenderRequest};

mod logging;

/// Renders at once this many images (the Python `max_concurrent_tasks` default is 10).
pub const MAX_CONCURRENT: usize = 4;

/// The image an `ImageReady` names for `request`.
pub fn image_for(request: &RenderRequest) -> ImageReady {
    ImageReady {
        request_id: Some(request.request_id.clone()),
        image_id: format!("img-{}", request.request_id),
        uri: format!("file:///var/cache/experimance/images/{}.png", request.request_id),
    }
}

/// The worker: PULL connected to `requests`, PUSH connected to `results`.
///
/// # Errors
/// A socket that cannot be built.
pub fn service(requests: &str, results: &str) -> Result<Service, ServiceError> {
    let handlers = Handlers::new().on(|_ctx: Context, request: RenderRequest| async move {
        // A real worker renders here (and may await a GPU queue); what it returns is
        // pushed back as the response.
        image_for(&request)
    });
    Service::builder("image_server")
        .pull(PullSocket::builder().connect(requests)?.receive_hwm(1).build()?)
        .push(PushSocket::builder().connect(results)?.build()?)
        .max_concurrent(MAX_CONCURRENT)
        .handlers(handlers)
        .build()
}

#[allow(dead_code)] // the interop test uses `service` without `main`
#[tokio::main]
async fn main() {
    logging::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [requests, results] = args.as_slice() else {
        eprintln!("usage: image_worker REQUESTS_ENDPOINT RESULTS_ENDPOINT");
        std::process::exit(2);
    };
    let summary = match service(requests, results) {
        Ok(service) => service.run().await,
        Err(e) => {
            tracing::error!("{e}");
            std::process::exit(1);
        }
    };
    println!("{summary:?}");
    std::process::exit(summary.exit_code());
}
