//! Default ports and timeouts shared by every Experimance service (the Python library's
//! `experimance_common.constants`).

use std::time::Duration;

/// Generates the `DefaultPort` enum, the `DefaultPorts` struct and the name lookup from
/// one table, so the three can never disagree.
macro_rules! default_ports {
    ($($variant:ident = $name:ident : $port:literal),* $(,)?) => {
        /// A service port of the installation, by name: a misspelt name is a compile error.
        ///
        /// # Example
        /// ```
        /// use experimance_common::DefaultPort;
        /// assert_eq!(DefaultPort::CoordinatorPub.port(), 5555);
        /// assert_eq!("display_pull".parse::<DefaultPort>().unwrap().port(), 5560);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DefaultPort {
            $(
                #[doc = concat!("`", stringify!($name), "`: port ", stringify!($port), ".")]
                $variant,
            )*
        }

        impl DefaultPort {
            /// Every default port, in port order.
            pub const ALL: &'static [DefaultPort] = &[$(DefaultPort::$variant),*];

            /// The port number.
            pub const fn port(self) -> u16 {
                match self { $(DefaultPort::$variant => $port),* }
            }

            /// The Python name (`"coordinator_pub"`, ...).
            pub const fn as_str(self) -> &'static str {
                match self { $(DefaultPort::$variant => stringify!($name)),* }
            }
        }

        /// The default ports as fields, read the way Python's `DEFAULT_PORTS[...]` is.
        ///
        /// # Example
        /// ```
        /// use experimance_common::DEFAULT_PORTS;
        /// assert_eq!(DEFAULT_PORTS.coordinator_pub, 5555);
        /// assert_eq!(DEFAULT_PORTS.get("display_pull"), Some(5560));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct DefaultPorts {
            $(
                #[doc = concat!("Port ", stringify!($port), ".")]
                pub $name: u16,
            )*
        }

        /// The installation's default ports.
        pub const DEFAULT_PORTS: DefaultPorts = DefaultPorts { $($name: $port),* };
    };
}

default_ports! {
    CoordinatorPub = coordinator_pub: 5555,
    CoordinatorPull = coordinator_pull: 5556,
    TransitionPub = transition_pub: 5557,
    TransitionPull = transition_pull: 5558,
    DisplayPub = display_pub: 5559,
    DisplayPull = display_pull: 5560,
    AgentPub = agent_pub: 5561,
    AgentPull = agent_pull: 5562,
    ImageServerPub = image_server_pub: 5563,
    ImageServerPull = image_server_pull: 5564,
    AudioPub = audio_pub: 5565,
    AudioPull = audio_pull: 5566,
    ExamplePub = example_pub: 5567,
    ExamplePull = example_pull: 5568,
}

impl DefaultPorts {
    /// The port with the Python name `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<u16> {
        name.parse::<DefaultPort>().ok().map(DefaultPort::port)
    }

    /// Every `(name, port)` pair, in port order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u16)> {
        DefaultPort::ALL.iter().map(|p| (p.as_str(), p.port()))
    }
}

impl std::fmt::Display for DefaultPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DefaultPort {
    type Err = crate::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DefaultPort::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| crate::UnknownName::new("default port", s))
    }
}

impl serde::Serialize for DefaultPort {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for DefaultPort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Socket send and receive timeout, blocking and async (Python `DEFAULT_TIMEOUT`,
/// 1000 ms, and `DEFAULT_RECV_TIMEOUT`, 1.0 s, which is the same bound for its asyncio
/// API and so has no constant of its own here).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How often services send a `Heartbeat` (Python `HEARTBEAT_INTERVAL`, 5.0 s).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
// Python's DEFAULT_RETRY_ATTEMPTS (3) and DEFAULT_RETRY_DELAY (0.5 s) have no Rust
// twin: this library never retries a failed operation behind the caller's back (a
// retried send could deliver twice). libzmq reconnects on its own; a call that failed
// returns its typed error, and retrying is the caller's decision.
/// `ZMQ_HEARTBEAT_IVL` the installation's design asks for on long-running connections.
pub const ZMQ_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(3000);
/// The largest frame a socket accepts by default (16 MiB). The bus's largest messages
/// are base64 images of about 1 MB (the Python services switch to file URIs above
/// 1 MB); a larger frame is refused the way libzmq refuses it: the connection that sent
/// it is dropped as soon as its size header arrives, before any of it is buffered.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 16 * 1024 * 1024;
/// How long `close()` and `Drop` wait to deliver queued messages before giving up.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(1000);
