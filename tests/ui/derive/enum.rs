use experimance_common::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Message)]
enum Mode {
    Idle,
    Active { since: f64 },
}

fn main() {}
