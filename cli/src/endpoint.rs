//! Endpoints on the command line, the CZMQ way: `@tcp://*:5555` binds,
//! `>tcp://host:5555` connects, a bare endpoint takes the command's usual role.

use experimance_common::socket::{Endpoint, EndpointError, Role};

/// An endpoint with the role it was given (or the command's default role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliEndpoint {
    pub role: Role,
    pub endpoint: String,
}

/// Parses `@E`, `>E` or `E` (which takes `default_role`), validating `E`.
pub fn parse(arg: &str, default_role: Role) -> Result<CliEndpoint, EndpointError> {
    let (role, rest) = match arg.as_bytes().first() {
        Some(b'@') => (Role::Bind, &arg[1..]),
        Some(b'>') => (Role::Connect, &arg[1..]),
        _ => (default_role, arg),
    };
    let endpoint = Endpoint::parse(rest, role)?;
    Ok(CliEndpoint { role, endpoint: endpoint.as_str().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_choose_the_role() {
        assert_eq!(parse("@tcp://*:5555", Role::Connect).unwrap().role, Role::Bind);
        assert_eq!(parse(">tcp://localhost:5555", Role::Bind).unwrap().role, Role::Connect);
        let bare = parse("tcp://localhost:coordinator_pub", Role::Connect).unwrap();
        assert_eq!(bare, CliEndpoint { role: Role::Connect, endpoint: "tcp://localhost:5555".into() });
        let err = parse("tcp://*:5555", Role::Connect).unwrap_err();
        assert!(err.to_string().contains("tcp://*:5555"), "{err}");
        assert!(parse(">udp://x:1", Role::Bind).is_err());
    }
}
