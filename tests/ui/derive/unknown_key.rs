use experimance_common::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(type = "DoorOpened", topic = "doors")]
struct DoorOpened {
    door: u32,
}

fn main() {}
