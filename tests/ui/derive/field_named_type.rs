use experimance_common::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Message)]
struct DoorOpened {
    door: u32,
    r#type: String,
}

#[derive(Debug, Serialize, Deserialize, Message)]
struct DoorClosed {
    door: u32,
    #[serde(rename = "type")]
    kind: String,
}

fn main() {}
