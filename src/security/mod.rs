//! Securing the bus: CURVE keys (and, with them, encryption and server/client
//! authentication).

mod keys;

pub use keys::{CurveKeyPair, CurvePublicKey, CurveSecretKey, KeyError, KeyFileProblem, Z85Error};
