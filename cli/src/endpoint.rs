//! Endpoints on the command line, the CZMQ way: `@tcp://*:5555` binds,
//! `>tcp://host:5555` connects, a bare endpoint takes the command's usual role; or the
//! `--bind`/`--connect` flags, which need no quoting. Parsed into the library's
//! [`Endpoint`], and every socket is opened through its builder by [`open`].

use experimance_common::socket::state::{NoEndpoint, TopicsChosen};
use experimance_common::socket::{Endpoint, EndpointError, Role, SocketBuilder, SocketKind};

use crate::Failure;

/// Where a socket binds or connects: positional endpoints and the explicit flags.
#[derive(Debug, Clone, clap::Args)]
pub struct EndpointArgs {
    /// Endpoints (one or more): `@E` binds, `>E` connects (quote `'>E'` in a shell, or
    /// use --connect), a bare `E` takes the command's usual role. A tcp port may be a
    /// default-port name: `tcp://localhost:coordinator_pub`.
    #[arg(value_name = "ENDPOINT")]
    pub endpoints: Vec<String>,
    /// Bind this endpoint (repeatable): the same as `@ENDPOINT`.
    #[arg(long = "bind", value_name = "ENDPOINT")]
    pub bind: Vec<String>,
    /// Connect to this endpoint (repeatable): the same as `'>ENDPOINT'`.
    #[arg(long = "connect", value_name = "ENDPOINT")]
    pub connect: Vec<String>,
}

impl EndpointArgs {
    /// Every endpoint, checked: at least one, and all of them bind or all connect.
    pub fn resolve(&self, default_role: Role) -> Result<Vec<Endpoint>, Failure> {
        let mut all = Vec::new();
        for arg in &self.endpoints {
            all.push(parse(arg, default_role)?);
        }
        for arg in &self.bind {
            all.push(Endpoint::parse(arg, Role::Bind)?);
        }
        for arg in &self.connect {
            all.push(Endpoint::parse(arg, Role::Connect)?);
        }
        let Some(first) = all.first() else {
            return Err(Failure::Usage(
                "no endpoint: give one (`@tcp://*:5555` binds, `'>tcp://host:5555'` connects) or --bind/--connect"
                    .into(),
            ));
        };
        if all.iter().any(|e| e.role() != first.role()) {
            return Err(Failure::Usage(
                "a socket either binds or connects: do not mix `@`/--bind with `>`/--connect".into(),
            ));
        }
        Ok(all)
    }
}

/// Parses `@E`, `>E` or `E` (which takes `default_role`), validating `E`.
pub fn parse(arg: &str, default_role: Role) -> Result<Endpoint, EndpointError> {
    let (role, rest) = match arg.as_bytes().first() {
        Some(b'@') => (Role::Bind, &arg[1..]),
        Some(b'>') => (Role::Connect, &arg[1..]),
        _ => (default_role, arg),
    };
    Endpoint::parse(rest, role)
}

/// Binds or connects `builder` to every endpoint (all of one role, as
/// [`EndpointArgs::resolve`] checked) and builds the socket: the one place exbus chooses
/// between the builder's `bind` and `connect`.
pub fn open<K, T>(builder: SocketBuilder<K, NoEndpoint, T>, endpoints: &[Endpoint]) -> Result<K, Failure>
where
    K: SocketKind,
    T: TopicsChosen<K>,
{
    let Some((first, rest)) = endpoints.split_first() else {
        return Err(Failure::Usage("no endpoint".into()));
    };
    let socket = match first.role() {
        Role::Bind => {
            let mut b = builder.bind(first.as_str())?;
            for e in rest {
                b = b.bind(e.as_str())?;
            }
            b.build()
        }
        Role::Connect => {
            let mut b = builder.connect(first.as_str())?;
            for e in rest {
                b = b.connect(e.as_str())?;
            }
            b.build()
        }
    };
    Ok(socket?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_choose_the_role() {
        assert_eq!(parse("@tcp://*:5555", Role::Connect).unwrap().role(), Role::Bind);
        assert_eq!(parse(">tcp://localhost:5555", Role::Bind).unwrap().role(), Role::Connect);
        let bare = parse("tcp://localhost:coordinator_pub", Role::Connect).unwrap();
        assert_eq!((bare.role(), bare.as_str()), (Role::Connect, "tcp://localhost:5555"));
        let err = parse("tcp://*:5555", Role::Connect).unwrap_err();
        assert!(err.to_string().contains("tcp://*:5555"), "{err}");
        assert!(parse(">udp://x:1", Role::Bind).is_err());
    }

    #[test]
    fn flags_and_prefixes_combine_but_roles_do_not_mix() {
        let args = |e: &[&str], b: &[&str], c: &[&str]| EndpointArgs {
            endpoints: e.iter().map(|s| s.to_string()).collect(),
            bind: b.iter().map(|s| s.to_string()).collect(),
            connect: c.iter().map(|s| s.to_string()).collect(),
        };
        let two = args(&["tcp://localhost:1"], &[], &["tcp://localhost:2"]).resolve(Role::Connect).unwrap();
        assert_eq!(two.len(), 2);
        assert!(args(&["tcp://localhost:1"], &["tcp://*:2"], &[]).resolve(Role::Connect).is_err());
        assert!(args(&[], &[], &[]).resolve(Role::Connect).is_err());
    }
}
