use experimance_common::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(type = "DoorOpened")]
#[message(type = "DoorWasOpened")]
struct DoorOpened {
    door: u32,
}

fn main() {}
