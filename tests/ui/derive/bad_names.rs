use experimance_common::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(type = "TürGeöffnet", alias = "Door\\Opened")]
struct DoorOpened {
    door: u32,
}

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(type = "DoorClosed", alias = "DoorClosed", alias = "Door\tClosed")]
struct DoorClosed {
    door: u32,
}

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(alias = "DoorLocked", type)]
struct DoorLocked {
    door: u32,
}

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(type = "DoorBell\u{7}", alias = "")]
struct DoorBell {
    door: u32,
}

fn main() {}
