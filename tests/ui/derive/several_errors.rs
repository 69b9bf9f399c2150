use experimance_common::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(type = "", topic = "doors", alias = "Door\"Opened")]
#[message(alias = "Door", alias = "Door", alias = 42)]
struct DoorOpened {
    door: u32,
    r#type: String,
}

fn main() {}
