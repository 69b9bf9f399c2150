//! ZAP (ZeroMQ RFC 27): the handler libzmq asks, on `inproc://zeromq.zap.01` of a
//! socket's context, whether to admit each connecting peer.
//!
//! One [`Authenticator`] serves a context. Each server socket names a ZAP domain, and
//! each domain has an [`AuthPolicy`]: IP allow and deny lists (which also work without
//! encryption), PLAIN users (plaintext passwords: a trusted LAN only), and a CURVE
//! allowlist of client public keys (a directory of `.pub` certificates, as CZMQ's
//! zauth takes). Every decision is counted per domain.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::ipnet::{IpNet, IpNetError};
use super::keys::{CurvePublicKey, KeyError};

/// Where libzmq sends ZAP requests (RFC 27).
pub const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// Who a server socket admits. With nothing set it admits every peer (the IP lists
/// are empty, and NULL or CURVE clients need nothing more); each rule narrows it.
///
/// # Example
/// ```
/// use experimance_common::security::AuthPolicy;
/// let policy = AuthPolicy::new()
///     .allow("127.0.0.1")?
///     .deny("10.0.0.0/8")?
///     .plain_user("display", "sand-table");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct AuthPolicy {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
    plain: HashMap<String, String>,
    curve: Option<HashSet<CurvePublicKey>>,
}

impl AuthPolicy {
    /// A policy that admits every peer.
    pub fn new() -> Self {
        AuthPolicy::default()
    }

    /// Admit only peers from these networks (called again, the lists add up).
    ///
    /// # Errors
    /// An [`IpNetError`] for text that is not an address or network.
    pub fn allow(mut self, network: &str) -> Result<Self, IpNetError> {
        self.allow.push(network.parse()?);
        Ok(self)
    }

    /// Refuse peers from this network, whatever else admits them.
    ///
    /// # Errors
    /// An [`IpNetError`] for text that is not an address or network.
    pub fn deny(mut self, network: &str) -> Result<Self, IpNetError> {
        self.deny.push(network.parse()?);
        Ok(self)
    }

    /// A PLAIN user and password. PLAIN sends both in plaintext: use it only where
    /// nobody can listen (and CURVE everywhere else). A PLAIN client is refused unless
    /// its user and password are listed.
    pub fn plain_user(mut self, user: &str, password: &str) -> Self {
        self.plain.insert(user.to_owned(), password.to_owned());
        self
    }

    /// Admit this CURVE client key. Once any key is allowed, a CURVE client whose key
    /// is not listed is refused.
    pub fn curve_allow(mut self, key: CurvePublicKey) -> Self {
        self.curve.get_or_insert_with(HashSet::new).insert(key);
        self
    }

    /// Admit the CURVE client keys of every `*.pub` certificate in `dir` (CZMQ's zauth
    /// and pyzmq's `configure_curve(location=...)` take such a directory). An empty
    /// directory admits no CURVE client.
    ///
    /// # Errors
    /// [`KeyError::Io`] when the directory cannot be read, or any error of
    /// [`CurvePublicKey::load`] naming the certificate that is malformed.
    pub fn curve_allow_dir(mut self, dir: impl AsRef<Path>) -> Result<Self, KeyError> {
        let dir = dir.as_ref();
        let io = |source| KeyError::Io { action: "read", path: dir.to_owned(), source };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        files.retain(|p| p.extension().is_some_and(|e| e == "pub"));
        files.sort();
        let keys = self.curve.get_or_insert_with(HashSet::new);
        for file in files {
            keys.insert(CurvePublicKey::load(&file)?);
        }
        Ok(self)
    }

    /// The decision for one request: `Ok(user id)` to admit, `Err(reason)` to refuse.
    fn decide(&self, request: &Request<'_>) -> Result<String, &'static str> {
        let ip: Option<IpAddr> = std::str::from_utf8(request.address).ok().and_then(|a| a.parse().ok());
        if let Some(ip) = ip {
            if self.deny.iter().any(|n| n.contains(ip)) {
                return Err("address denied");
            }
        }
        if !self.allow.is_empty() && !ip.is_some_and(|ip| self.allow.iter().any(|n| n.contains(ip))) {
            return Err("address not allowed");
        }
        match (request.mechanism, request.credentials) {
            (b"NULL", []) => Ok(String::new()),
            (b"PLAIN", [user, password]) => {
                let user = std::str::from_utf8(user).map_err(|_| "bad user name")?;
                match self.plain.get(user) {
                    Some(p) if p.as_bytes() == *password => Ok(user.to_owned()),
                    _ => Err("invalid user name or password"),
                }
            }
            (b"CURVE", [key]) => {
                let key =
                    <[u8; 32]>::try_from(*key).map(CurvePublicKey::from_bytes).map_err(|_| "bad key")?;
                match &self.curve {
                    Some(allowed) if !allowed.contains(&key) => Err("client key not allowed"),
                    _ => Ok(key.to_z85()),
                }
            }
            _ => Err("unsupported mechanism"),
        }
    }
}

/// How many peers a domain admitted and refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthCounts {
    /// Peers admitted.
    pub admitted: u64,
    /// Peers refused.
    pub refused: u64,
}

#[derive(Default)]
struct Counters {
    admitted: AtomicU64,
    refused: AtomicU64,
}

struct Domain {
    policy: AuthPolicy,
    counts: Arc<Counters>,
}

type Domains = Arc<Mutex<HashMap<String, Domain>>>;

/// Why the authenticator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Binding `inproc://zeromq.zap.01` failed; `EADDRINUSE` means another ZAP handler
    /// serves that context already.
    #[error("cannot start the ZAP handler on {ZAP_ENDPOINT}: {0}")]
    Bind(#[source] zmq::Error),
    /// Creating its socket or thread failed.
    #[error("cannot start the ZAP handler: {0}")]
    Start(#[source] std::io::Error),
}

/// The ZAP handler of one ZeroMQ context: a thread answering libzmq's requests with the
/// policies of the domains registered on it. Dropping it stops the thread (within
/// 100 ms); [`Authenticator::global`] serves the shared context for the process's life.
///
/// # Example
/// ```
/// use experimance_common::security::{Authenticator, AuthPolicy};
/// let auth = Authenticator::start(&zmq::Context::new())?;
/// let domain = auth.register(AuthPolicy::new().allow("127.0.0.1")?);
/// assert_eq!(auth.counts(&domain).unwrap().admitted, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Authenticator {
    domains: Domains,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let domains = self.domains.lock().map(|d| d.len()).unwrap_or(0);
        f.debug_struct("Authenticator").field("domains", &domains).finish_non_exhaustive()
    }
}

/// How often the handler thread looks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(100);

impl Authenticator {
    /// Starts the ZAP handler of `ctx`.
    ///
    /// # Errors
    /// [`AuthError::Bind`] when the context has a ZAP handler already.
    pub fn start(ctx: &zmq::Context) -> Result<Authenticator, AuthError> {
        let socket = ctx.socket(zmq::REP).map_err(AuthError::Bind)?;
        socket.set_linger(0).map_err(AuthError::Bind)?;
        socket.set_rcvtimeo(i32::try_from(STOP_POLL.as_millis()).unwrap_or(100)).map_err(AuthError::Bind)?;
        socket.bind(ZAP_ENDPOINT).map_err(AuthError::Bind)?;
        // The thread's socket must not keep the context alive (the `zmq` crate's
        // sockets hold a reference): a context dropped by its owner then ends, and the
        // thread sees ETERM and stops.
        // SAFETY: the pointer comes from `into_raw` and is owned by `socket` alone.
        let socket = unsafe { zmq::Socket::from_raw(socket.into_raw()) };
        let domains: Domains = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (Arc::clone(&domains), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("experimance-zap".into())
            .spawn(move || serve(socket, &d, &s))
            .map_err(AuthError::Start)?;
        Ok(Authenticator { domains, stop, thread: Some(thread) })
    }

    /// The handler of the shared context ([`global_context`](crate::socket::global_context)),
    /// started on first use and kept for the life of the process.
    ///
    /// # Errors
    /// As [`start`](Self::start), the first time.
    pub fn global() -> Result<&'static Authenticator, AuthError> {
        static GLOBAL: OnceLock<Authenticator> = OnceLock::new();
        static STARTING: Mutex<()> = Mutex::new(());
        if let Some(auth) = GLOBAL.get() {
            return Ok(auth);
        }
        let _one_at_a_time = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(auth) = GLOBAL.get() {
            return Ok(auth);
        }
        let auth = Authenticator::start(&crate::socket::global_context())?;
        Ok(GLOBAL.get_or_init(|| auth))
    }

    /// Registers `policy` under a new domain and returns the domain, for a server
    /// socket's `ZMQ_ZAP_DOMAIN`.
    pub fn register(&self, policy: AuthPolicy) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let domain = format!("experimance-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let entry = Domain { policy, counts: Arc::default() };
        self.domains.lock().unwrap_or_else(PoisonError::into_inner).insert(domain.clone(), entry);
        domain
    }

    /// Replaces the policy of `domain` (for example a new allowlist); peers that
    /// connect from now on are judged by it. Returns false for an unknown domain.
    pub fn update(&self, domain: &str, policy: AuthPolicy) -> bool {
        let mut domains = self.domains.lock().unwrap_or_else(PoisonError::into_inner);
        match domains.get_mut(domain) {
            Some(d) => {
                d.policy = policy;
                true
            }
            None => false,
        }
    }

    /// How many peers `domain` admitted and refused so far.
    pub fn counts(&self, domain: &str) -> Option<AuthCounts> {
        let domains = self.domains.lock().unwrap_or_else(PoisonError::into_inner);
        domains.get(domain).map(|d| AuthCounts {
            admitted: d.counts.admitted.load(Ordering::Relaxed),
            refused: d.counts.refused.load(Ordering::Relaxed),
        })
    }
}

impl Drop for Authenticator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One ZAP request's frames (RFC 27).
struct Request<'a> {
    address: &'a [u8],
    mechanism: &'a [u8],
    credentials: &'a [&'a [u8]],
}

fn serve(socket: zmq::Socket, domains: &Domains, stop: &AtomicBool) {
    serve_until_stopped(&socket, domains, stop);
    // Closing a socket frees its inproc endpoint only later, on libzmq's reaper
    // thread; unbinding frees it now, so a handler started right after this one's
    // `Drop` can bind it. (Fails harmlessly with ETERM when the context is ending.)
    let _ = socket.unbind(ZAP_ENDPOINT);
}

fn serve_until_stopped(socket: &zmq::Socket, domains: &Domains, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let frames = match socket.recv_multipart(0) {
            Ok(frames) => frames,
            Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => continue,
            // ETERM: the context is ending.
            Err(_) => return,
        };
        let reply = answer(&frames, domains);
        if socket.send_multipart(reply, 0).is_err() {
            return;
        }
    }
}

/// The reply frames for one request: version, request id, status code and text, user
/// id, metadata.
fn answer(frames: &[Vec<u8>], domains: &Domains) -> Vec<Vec<u8>> {
    let reply = |id: &[u8], code: &str, text: &str, user: &str| {
        vec![
            b"1.0".to_vec(),
            id.to_vec(),
            code.as_bytes().to_vec(),
            text.as_bytes().to_vec(),
            user.as_bytes().to_vec(),
            Vec::new(),
        ]
    };
    let [version, id, domain, address, _identity, mechanism, credentials @ ..] = frames else {
        let id = frames.get(1).map(Vec::as_slice).unwrap_or_default();
        return reply(id, "500", "malformed ZAP request", "");
    };
    if version != b"1.0" {
        return reply(id, "500", "unsupported ZAP version", "");
    }
    let credentials: Vec<&[u8]> = credentials.iter().map(Vec::as_slice).collect();
    let request = Request { address, mechanism, credentials: &credentials };
    let domains = domains.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(entry) = std::str::from_utf8(domain).ok().and_then(|d| domains.get(d)) else {
        // A socket that named no domain of ours: CURVE has already authenticated the
        // server, and a NULL peer is asked about only when a domain is set; a PLAIN
        // password cannot be checked against nothing.
        return match mechanism.as_slice() {
            b"PLAIN" => reply(id, "400", "no PLAIN users for this domain", ""),
            _ => reply(id, "200", "OK", ""),
        };
    };
    match entry.policy.decide(&request) {
        Ok(user) => {
            entry.counts.admitted.fetch_add(1, Ordering::Relaxed);
            reply(id, "200", "OK", &user)
        }
        Err(why) => {
            entry.counts.refused.fetch_add(1, Ordering::Relaxed);
            reply(id, "400", why, "")
        }
    }
}
