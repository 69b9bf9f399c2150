//! Services: typed handlers, workers and controllers, lifecycle and health (feature
//! `tokio`). The Rust side of the later Python library's `PubSubService`,
//! `WorkerService`, `ControllerService` and `BaseService`.
//!
//! A [`Service`] is composed of its sockets and a [`Handlers`] set. [`Service::run`]
//! receives on every receiving socket, dispatches each frame by its `"type"` to a typed
//! handler, publishes a [`Heartbeat`](crate::Heartbeat) every
//! [`HEARTBEAT_INTERVAL`](crate::HEARTBEAT_INTERVAL), and on SIGINT, SIGTERM or
//! [`Shutdown::shutdown`] stops gracefully: it stops receiving, lets in-flight handlers
//! finish within a deadline, closes the sockets with their linger and returns a
//! [`Summary`].
//!
//! ```no_run
//! // The README's complete service (it is compiled here).
//! use experimance_common::service::{Context, Handlers, Service, TopicMode};
//! use experimance_common::{EraChanged, ImageReady, Publisher, PullSocket, PushSocket, RenderRequest, Subscriber};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let handlers = Handlers::new()
//!         // One typed handler per message type, found by "type" (aliases included).
//!         .on(|ctx: Context, era: EraChanged| async move {
//!             println!("now {} / {}", era.era, era.biome);
//!             ctx.publish(&era).await // topic "EraChanged": TopicMode::ByType below
//!         })
//!         // What a handler returns is pushed back as the response (a worker).
//!         .on(|_ctx: Context, r: RenderRequest| async move {
//!             let uri = format!("file:///tmp/{}.png", r.request_id);
//!             ImageReady { request_id: Some(r.request_id.clone()), image_id: r.request_id, uri }
//!         })
//!         .on_unknown(|_ctx, topic, value| eprintln!("no handler for {topic}: {value}"))
//!         .on_undecodable(|_ctx, e| eprintln!("bad frame: {e}")); // {e}: its length and a bounded, escaped prefix
//!     let events = Subscriber::builder().connect("tcp://localhost:coordinator_pub")?.subscribe("EraChanged");
//!     let summary = Service::builder("image_server")
//!         .subscriber(events.build()?)
//!         .pull(PullSocket::builder().connect("tcp://localhost:image_server_pull")?.receive_hwm(1).build()?)
//!         .push(PushSocket::builder().connect("tcp://localhost:coordinator_pull")?.build()?)
//!         .publisher(Publisher::builder().bind("tcp://*:image_server_pub")?.topic("image_server")?.build()?)
//!         .topic_mode(TopicMode::ByType) // explicit topic, else the "type", else "image_server"
//!         .max_concurrent(4) // at 4 in flight it stops pulling: the next task goes to another worker
//!         .health_file("image_server") // ./logs/health/image_server.json, as the Python services
//!         .handlers(handlers)
//!         .build()? // two handlers for one type would be an error here
//!         .run() // until SIGINT/SIGTERM; a Heartbeat every 5 s
//!         .await; // then: stop receiving, finish in-flight work, flush, close
//!     println!("{summary:?}"); // handled/failed per type, dropped at close, ...
//!     std::process::exit(summary.exit_code()) // 0 after a clean shutdown
//! }
//! ```
//!
//! Workers ([`ServiceBuilder::pull`] plus [`ServiceBuilder::push`]) push what a handler
//! returns and apply back-pressure at [`ServiceBuilder::max_concurrent`]; controllers
//! ([`ServiceBuilder::worker`]) send requests with [`Context::request`], matched to their
//! responses by `request_id`. [`Harness`] runs a service on `inproc://` for tests.

mod context;
mod dispatch;
mod error;
mod harness;
mod health;
mod pyjson;
mod runtime;
mod shared;

pub use context::{Context, Request, Response, TopicMode};
pub use dispatch::{Handlers, Outcome, Reply};
pub use error::{BoxError, ServiceError};
pub use harness::{Harness, HarnessBuilder};
pub use health::{health_dir, HealthCheck, HealthSnapshot, HealthStatus, ServiceState};
pub use pyjson::to_python_json;
pub use runtime::{Service, ServiceBuilder, Shutdown, Summary, TypeCounts, HEARTBEAT_TOPIC_DEFAULT};
