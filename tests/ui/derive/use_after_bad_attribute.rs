// A derive that is rejected still implements `Message`, so the type's uses below compile
// and the only errors are the derive's own (no "`DoorOpened: Message` is not satisfied"
// at every use).
use experimance_common::{codec, Message};
use serde::{Deserialize, Serialize};

// A typo in a key.
#[derive(Debug, Serialize, Deserialize, Message)]
#[message(typ = "DoorOpened")]
struct DoorOpened {
    door: u32,
}

// An invalid type name (the fallback's `TYPE` is then the struct's name).
#[derive(Debug, Serialize, Deserialize, Message)]
#[message(type = "Door Closed", alias = "Closed")]
struct DoorClosed {
    door: u32,
}

// Not a struct with named fields.
#[derive(Debug, Serialize, Deserialize, Message)]
enum Mode {
    Idle,
    Active { since: f64 },
}

// Generic (used below with a concrete parameter) and with a field named `type`.
#[derive(Debug, Serialize, Deserialize, Message)]
struct Reading<T> {
    value: T,
    r#type: String,
}

fn takes_message<M: Message>(_: &M) {}

fn main() {
    let door = DoorOpened { door: 3 };
    takes_message(&door);
    let mut buf = Vec::new();
    codec::encode_push(&door, &mut buf).unwrap();
    let _: DoorOpened = codec::decode_push(&buf).unwrap();
    let _: &str = DoorOpened::TYPE;
    let _: &[&str] = DoorClosed::ALIASES;
    takes_message(&DoorClosed { door: 4 });
    takes_message(&Mode::Idle);
    takes_message(&Reading { value: 1.5_f64, r#type: String::new() });
}
