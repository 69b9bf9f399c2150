//! The service layer's errors.

use std::time::Duration;

use crate::{DecodeError, EncodeError};

/// A handler's error, boxed: handlers may fail with any error type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong building or running a service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Two handlers were registered for one message type (or one of its aliases).
    #[error("two handlers for message type \"{type_name}\"")]
    DuplicateHandler {
        /// The wire name (or alias) registered twice.
        type_name: &'static str,
    },
    /// Two handlers were registered for one topic.
    #[error("two handlers for topic \"{topic}\"")]
    DuplicateTopic {
        /// The topic registered twice.
        topic: String,
    },
    /// Two sockets were given the same name.
    #[error("two sockets named \"{name}\"")]
    DuplicateSocket {
        /// The name.
        name: String,
    },
    /// `max_concurrent` must be at least 1.
    #[error("max_concurrent must be at least 1")]
    ZeroConcurrency,
    /// The service has no socket of the kind an operation needs.
    #[error("the service has no {what}")]
    NoSocket {
        /// What is missing (for example `publisher` or `push socket "image"`).
        what: String,
    },
    /// A message could not be encoded; nothing was sent.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A response did not decode as the expected type.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Publishing by type needs a `"type"`, and there is no default topic either.
    #[error("no topic: none given, the message has no \"type\" and the publisher has no default topic")]
    NoTopic,
    /// The service has stopped; nothing more is sent.
    #[error("the service has stopped")]
    Stopped,
    /// No response arrived within the timeout.
    #[error("no response to request \"{request_id}\" within {after:?}")]
    RequestTimeout {
        /// The request's id.
        request_id: String,
        /// The timeout that passed.
        after: Duration,
    },
    /// The push socket could not send the request (for example, no worker took it
    /// within the socket's send timeout); no response can come.
    #[error("request \"{request_id}\" was not sent: {source}")]
    RequestNotSent {
        /// The request's id.
        request_id: String,
        /// Why the send failed.
        source: crate::socket::Error,
    },
    /// A request with this id is already waiting for its response.
    #[error("request \"{request_id}\" is already pending")]
    DuplicateRequest {
        /// The request's id.
        request_id: String,
    },
    /// A socket failed while the service was being set up.
    #[error(transparent)]
    Socket(#[from] crate::socket::Error),
    /// An endpoint is malformed.
    #[error(transparent)]
    Endpoint(#[from] crate::socket::EndpointError),
    /// A topic is not valid (it has a space).
    #[error(transparent)]
    Topic(#[from] crate::TopicError),
    /// A socket described in the configuration could not be built.
    #[error(transparent)]
    Build(#[from] crate::config::BuildError),
    /// Installing the SIGINT/SIGTERM handlers failed.
    #[error("cannot install the signal handlers: {0}")]
    Signals(#[source] std::io::Error),
    /// The harness waited in vain.
    #[error("the harness waited {after:?} for {what}")]
    HarnessTimeout {
        /// What it waited for.
        what: String,
        /// How long.
        after: Duration,
    },
}
