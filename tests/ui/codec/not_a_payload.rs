// A struct without `#[derive(Message)]` is not a payload: encoding or receiving it says
// what to add.
use experimance_common::codec;
use experimance_common::socket::PullSocket;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct DoorOpened {
    door: u32,
}

fn main() {
    let mut buf = Vec::new();
    codec::encode_push(&DoorOpened { door: 3 }, &mut buf).unwrap();
    let mut pull = PullSocket::builder().connect("tcp://localhost:5556").unwrap().build().unwrap();
    let _ = pull.pull::<DoorOpened>();
}
