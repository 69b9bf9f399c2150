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
//! use experimance_common::service::{Context, Handlers, Service};
//! use experimance_common::{EraChanged, Publisher, Subscriber};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let handlers = Handlers::new()
//!     .on(|ctx: Context, era: EraChanged| async move {
//!         ctx.publish(&era).await // republish on the service's own publisher
//!     })
//!     .on_fn(|_ctx, hb: experimance_common::Heartbeat| println!("{} is alive", hb.service));
//! let summary = Service::builder("display")
//!     .subscriber(Subscriber::builder().connect("tcp://localhost:5555")?.subscribe("").build()?)
//!     .publisher(Publisher::builder().bind("tcp://*:5559")?.topic("display")?.build()?)
//!     .handlers(handlers)
//!     .build()?
//!     .run()
//!     .await;
//! std::process::exit(summary.exit_code());
//! # }
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

pub use context::{Context, Request, Response, TopicMode};
pub use dispatch::{Handlers, Outcome, Reply};
pub use error::{BoxError, ServiceError};
pub use harness::{Harness, HarnessBuilder};
pub use health::{health_dir, HealthCheck, HealthSnapshot, HealthStatus, ServiceState};
pub use pyjson::to_python_json;
pub use runtime::{Service, ServiceBuilder, Shutdown, Summary, TypeCounts, HEARTBEAT_TOPIC_DEFAULT};
