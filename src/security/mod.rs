//! Securing the bus: CURVE keys (encryption, and server and client authentication) and
//! a ZAP handler that admits or refuses each connecting peer by address, PLAIN user, or
//! CURVE client key.

mod keys;
mod zap;

pub use keys::{CurveKeyPair, CurvePublicKey, CurveSecretKey, KeyError, KeyFileProblem, Z85Error};
pub use zap::{AuthCounts, AuthError, AuthPolicy, Authenticator, IpNet, IpNetError, ZAP_ENDPOINT};
