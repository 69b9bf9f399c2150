//! Two test hosts in network namespaces, with a switch between them.
//!
//! `Lab::new()` creates three namespaces unique to this process: `a` and `b` (the
//! hosts) and `sw` (a switch: a bridge with one veth pair to each host). Host `a` is
//! 10.213.N.1/30 and host `b` 10.213.N.2/30, on the hosts' `eth0` only: nothing is
//! added to the root namespace, so the only traffic is between these namespaces.
//! Cutting the switch (`link_down`) silences the path while both hosts keep their link
//! and routes, as a cable cut between two switches would; `vanish_b` makes host `b`
//! disappear without a FIN or RST reaching `a`.
//!
//! Peers are child processes run with `ip netns exec`; `Drop` kills them and deletes
//! every namespace (which deletes their veths), also when the test panics.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The prefix of the lines peers write for the test (the harness writes others).
pub const LINE: &str = "@@ ";

/// Runs `ip args...`, returning its stderr on failure.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip {}`: {e} (is iproute2 installed?)", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("`ip {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// One side of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    A,
    B,
}

pub struct Lab {
    a: String,
    b: String,
    sw: String,
    /// The third byte of the hosts' addresses.
    net: u8,
    peers: Vec<Child>,
}

impl Lab {
    /// Creates the namespaces, or says why it cannot (not root, no `ip`, no bridge).
    pub fn new() -> Result<Lab, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let id = format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut lab = Lab {
            a: format!("exp-{id}-a"),
            b: format!("exp-{id}-b"),
            sw: format!("exp-{id}-sw"),
            net: (std::process::id() % 250) as u8,
            peers: Vec::new(),
        };
        // From here on, Drop removes whatever was created.
        lab.setup().map_err(|e| {
            format!(
                "cannot create the test network namespaces ({e}); these tests need root \
                 (CAP_NET_ADMIN and CAP_SYS_ADMIN), iproute2 and bridge support"
            )
        })?;
        Ok(lab)
    }

    /// Deletes the namespaces of earlier runs whose process is gone (killed before its
    /// `Drop` ran): names are `exp-<pid>-<n>-<host>`.
    fn sweep_stale() {
        let Ok(out) = Command::new("ip").args(["netns", "list"]).stdin(Stdio::null()).output() else {
            return;
        };
        for name in String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()) {
            let Some(pid) = name.strip_prefix("exp-").and_then(|r| r.split('-').next()) else { continue };
            if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = ip(&["netns", "del", name]);
            }
        }
    }

    fn setup(&mut self) -> Result<(), String> {
        Self::sweep_stale();
        let (a, b, sw) = (self.a.clone(), self.b.clone(), self.sw.clone());
        for ns in [&a, &b, &sw] {
            ip(&["netns", "add", ns])?;
        }
        for ns in [&a, &b, &sw] {
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
        for (host, port) in [(&a, "pa"), (&b, "pb")] {
            // Created inside the switch's namespace, the host end moved straight into
            // its host's namespace: no interface ever appears in the root namespace.
            ip(&["-n", &sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host])?;
            ip(&["-n", &sw, "link", "set", port, "master", "br0"])?;
            ip(&["-n", &sw, "link", "set", port, "up"])?;
        }
        ip(&["-n", &sw, "link", "set", "br0", "up"])?;
        for (host, addr) in [(&a, self.addr(Host::A)), (&b, self.addr(Host::B))] {
            ip(&["-n", host, "addr", "add", &format!("{addr}/30"), "dev", "eth0"])?;
            ip(&["-n", host, "link", "set", "eth0", "up"])?;
        }
        Ok(())
    }

    /// The address of `host`.
    pub fn addr(&self, host: Host) -> String {
        match host {
            Host::A => format!("10.213.{}.1", self.net),
            Host::B => format!("10.213.{}.2", self.net),
        }
    }

    fn ns(&self, host: Host) -> &str {
        match host {
            Host::A => &self.a,
            Host::B => &self.b,
        }
    }

    /// Runs this test binary in `host`'s namespace as a peer: the test `test` (run
    /// alone) sees `EXP_NETNS_ROLE=role` and the other variables, and plays the peer.
    pub fn spawn(&mut self, host: Host, test: &str, role: &str, env: &[(&str, String)]) -> Peer {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", self.ns(host)])
            .arg(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env("EXP_NETNS_ROLE", role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn a peer with `ip netns exec`");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                // The harness may have written "test name ... " before it on the line.
                if let Some(at) = line.find(LINE) {
                    if tx.send(line[at + LINE.len()..].to_owned()).is_err() {
                        break;
                    }
                }
            }
        });
        let index = self.peers.len();
        self.peers.push(child);
        Peer { index, stdin, lines, role: role.to_owned() }
    }

    /// Cuts the switch: both hosts keep their link and routes, nothing passes.
    pub fn link_down(&self) {
        ip(&["-n", &self.sw, "link", "set", "br0", "down"]).expect("cut the switch");
    }

    /// Reconnects the switch.
    pub fn link_up(&self) {
        ip(&["-n", &self.sw, "link", "set", "br0", "up"]).expect("reconnect the switch");
    }

    /// Host `b` disappears with its process `peer`: its switch port goes first (so
    /// nothing it sends as it dies reaches `a`: no FIN, no RST), then the process is
    /// killed and the namespace deleted. Host `a` keeps its link up.
    pub fn vanish_b(&mut self, peer: &Peer) {
        ip(&["-n", &self.sw, "link", "del", "pb"]).expect("unplug host b");
        let child = &mut self.peers[peer.index];
        let _ = child.kill();
        let _ = child.wait();
        ip(&["netns", "del", &self.b]).expect("delete host b's namespace");
    }

    pub fn kill(&mut self, peer: &Peer) {
        let child = &mut self.peers[peer.index];
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Waits for peer `peer` to exit, at most `timeout`.
    pub fn wait(&mut self, peer: &Peer, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = &mut self.peers[peer.index];
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.peers {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Deleting a namespace deletes the interfaces in it, and a veth with its pair.
        for ns in [&self.a, &self.b, &self.sw] {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// A peer process: commands go to its stdin, its `@@ ` lines come back.
pub struct Peer {
    index: usize,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    role: String,
}

impl Peer {
    /// Sends the peer one command line.
    pub fn tell(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("the peer's stdin");
        writeln!(stdin, "{command}").and_then(|_| stdin.flush()).expect("write to the peer");
    }

    /// The lines the peer has written and no `expect` has taken yet, without waiting.
    pub fn written(&mut self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// The next line that starts with `prefix` (earlier lines are skipped), within
    /// `timeout`; panics with what the peer wrote otherwise.
    pub fn expect(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(line) => seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "peer {} wrote no `{prefix}` line within {timeout:?}; it wrote {seen:?}",
                        self.role
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("peer {} ended before writing `{prefix}`; it wrote {seen:?}", self.role)
                }
            }
        }
    }
}

/// `key=value` fields of a peer's line.
pub fn field<T: std::str::FromStr>(line: &str, key: &str) -> T {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no `{key}=` in `{line}`"))
}
