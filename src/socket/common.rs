//! The methods every socket type has, generated once: endpoints, connection waits,
//! `close`, and `Debug`.

/// Implements the shared methods for a socket type with a `core: Core` field.
macro_rules! common_socket_methods {
    ($socket:ident) => {
        impl $socket {
            /// The first endpoint, in the form a peer on this machine connects to (the
            /// real port when bound to `*`; `0.0.0.0` becomes `127.0.0.1`).
            pub fn endpoint(&self) -> String {
                self.core.endpoint()
            }

            /// Every endpoint, as libzmq reports it.
            pub fn endpoints(&self) -> &[String] {
                self.core.endpoints()
            }

            /// How many connections completed their handshake and are up (tcp and ipc).
            pub fn peer_count(&mut self) -> usize {
                self.core.peer_count()
            }

            /// The socket's counters since it was built: messages and bytes sent and
            /// received, decode errors, timeouts, connections made, lost and refused,
            /// and the peers now (see [`SocketStats`](crate::socket::SocketStats)). It
            /// reads the monitor first, which emits the connection events pending.
            pub fn stats(&mut self) -> $crate::socket::SocketStats {
                self.core.stats()
            }

            /// How many handshakes authentication refused: peers this server's ZAP
            /// handler refused, or refusals this client got from its server.
            pub fn auth_failures(&mut self) -> u64 {
                self.core.auth_failures()
            }

            /// Waits until a peer is connected (its ZMTP handshake completed), instead of
            /// sleeping for the "slow joiner". `inproc://` connections are made
            /// synchronously and report no events, so this returns at once for a socket
            /// whose endpoints are all inproc; one that mixes inproc with tcp or ipc waits
            /// for its tcp and ipc peers (counting at once the inproc endpoints it connects
            /// to).
            ///
            /// # Errors
            /// [`Error::Timeout`](crate::socket::Error::Timeout) when none connected
            /// within `timeout`; [`Error::AuthFailed`](crate::socket::Error::AuthFailed)
            /// as soon as the peer's authentication refuses this socket.
            pub fn wait_connected(&mut self, timeout: ::std::time::Duration) -> $crate::socket::Result<()> {
                self.core.wait_for_peers(1, timeout).map(drop)
            }

            /// Waits until at least `n` peers are connected, for example every worker
            /// before work is pushed, so that it is spread over all of them.
            ///
            /// # Errors
            /// [`Error::Timeout`](crate::socket::Error::Timeout) when fewer connected
            /// within `timeout`.
            pub fn wait_for_peers(
                &mut self,
                n: usize,
                timeout: ::std::time::Duration,
            ) -> $crate::socket::Result<usize> {
                self.core.wait_for_peers(n, timeout)
            }

            /// Closes the socket. What it sent and is still queued is delivered for up to
            /// the linger (a receiving socket has nothing to deliver and closes at once);
            /// it never hangs. `Drop` does the same without reporting.
            ///
            /// It waits on the calling thread, at most the linger plus 500 ms; in async
            /// code that is a bounded block of the executor thread (move the socket into
            /// `tokio::task::spawn_blocking` to close it off the executor).
            ///
            /// # Errors
            /// [`Error::LingerExpired`](crate::socket::Error::LingerExpired) when messages
            /// were still queued when the linger passed. A socket with an inproc endpoint
            /// cannot await its end (libzmq completes it when the inproc peer next uses its
            /// socket), so it returns `Ok` at once; what it queued for tcp or ipc peers is
            /// still delivered for up to the linger.
            pub fn close(mut self) -> $crate::socket::Result<()> {
                #[cfg(feature = "tokio")]
                self.reactor.clear();
                self.core.finish()
            }
        }

        /// The tokio API (feature `tokio`): connection waits that leave the executor free.
        #[cfg(feature = "tokio")]
        #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
        impl $socket {
            /// Waits, without blocking the executor, until a peer is connected (see
            /// [`wait_connected`](Self::wait_connected)). Cancel safe.
            ///
            /// # Errors
            /// [`Error::Timeout`](crate::socket::Error::Timeout) when none connected
            /// within `timeout`.
            pub async fn wait_connected_async(
                &mut self,
                timeout: ::std::time::Duration,
            ) -> $crate::socket::Result<()> {
                self.reactor.wait_for_peers(&mut self.core, 1, timeout).await.map(drop)
            }

            /// Waits, without blocking the executor, until at least `n` peers are
            /// connected. Cancel safe.
            ///
            /// # Errors
            /// [`Error::Timeout`](crate::socket::Error::Timeout) when fewer connected
            /// within `timeout`.
            pub async fn wait_for_peers_async(
                &mut self,
                n: usize,
                timeout: ::std::time::Duration,
            ) -> $crate::socket::Result<usize> {
                self.reactor.wait_for_peers(&mut self.core, n, timeout).await
            }
        }

        impl ::std::fmt::Debug for $socket {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($socket))
                    .field("endpoints", &self.core.endpoints())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use common_socket_methods;

/// The raw receives of a receiving socket, blocking and async, named after its verb
/// (`pull_raw`, `receive_raw_within`, `pull_raw_async`, ...): the frame as it came,
/// undecoded.
macro_rules! raw_receives {
    ($socket:ident, $verb:ident, $op:expr, $does:literal) => {
        ::paste::paste! {
            impl $socket {
                #[doc = concat!($does, " the next frame as it came, undecoded.")]
                ///
                /// # Errors
                /// [`Error::Timeout`](crate::socket::Error::Timeout) after the receive timeout.
                pub fn [<$verb _raw>](&mut self) -> $crate::socket::Result<&[u8]> {
                    self.core.recv_frame($op, None)?;
                    Ok(self.core.received_frame())
                }

                #[doc = concat!($does, " the next frame as it came, waiting at most `timeout` (instead of the")]
                /// receive timeout).
                ///
                /// # Errors
                /// [`Error::Timeout`](crate::socket::Error::Timeout) after `timeout`.
                pub fn [<$verb _raw_within>](
                    &mut self,
                    timeout: ::std::time::Duration,
                ) -> $crate::socket::Result<&[u8]> {
                    self.core.recv_frame($op, Some(timeout))?;
                    Ok(self.core.received_frame())
                }
            }

            /// The tokio API (feature `tokio`): the frames as they came.
            #[cfg(feature = "tokio")]
            #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
            impl $socket {
                #[doc = concat!($does, " the next frame as it came, without blocking the executor. Cancel safe.")]
                ///
                /// # Errors
                /// [`Error::Timeout`](crate::socket::Error::Timeout) after the receive timeout.
                pub async fn [<$verb _raw_async>](&mut self) -> $crate::socket::Result<&[u8]> {
                    self.reactor.recv_frame(&mut self.core, $op, None).await?;
                    Ok(self.core.received_frame())
                }

                #[doc = concat!($does, " the next frame as it came within `timeout`, without blocking the executor.")]
                /// Cancel safe.
                ///
                /// # Errors
                /// [`Error::Timeout`](crate::socket::Error::Timeout) after `timeout`.
                pub async fn [<$verb _raw_within_async>](
                    &mut self,
                    timeout: ::std::time::Duration,
                ) -> $crate::socket::Result<&[u8]> {
                    self.reactor.recv_frame(&mut self.core, $op, Some(timeout)).await?;
                    Ok(self.core.received_frame())
                }
            }
        }
    };
}
pub(crate) use raw_receives;

/// Defines a socket type that is only its `core` and `reactor` (subscriber, push,
/// pull), makes it a [`SocketKind`](super::SocketKind) of libzmq kind `$kind`, and gives
/// it its `builder()`.
macro_rules! socket_kind {
    ($(#[$meta:meta])* pub struct $socket:ident = $kind:expr, $what:literal;) => {
        $(#[$meta])*
        pub struct $socket {
            /// Before `core`: dropped first, so the fd is deregistered before the socket closes.
            #[cfg(feature = "tokio")]
            reactor: super::asyncio::Registration,
            pub(crate) core: super::core::Core,
        }

        impl $crate::socket::SocketKind for $socket {}

        impl super::builder::sealed::BuildFromParts for $socket {
            const KIND: super::builder::Kind = $kind;
            fn from_parts(parts: super::builder::Parts) -> $crate::socket::Result<Self> {
                Ok($socket {
                    #[cfg(feature = "tokio")]
                    reactor: Default::default(),
                    core: super::core::Core::open(Self::KIND, &parts)?,
                })
            }
        }

        impl $socket {
            #[doc = concat!("Starts building ", $what, ".")]
            pub fn builder() -> super::SocketBuilder<$socket> {
                super::SocketBuilder::new()
            }
        }
    };
}
pub(crate) use socket_kind;
