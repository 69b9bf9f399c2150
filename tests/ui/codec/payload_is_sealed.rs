// `codec::Payload` is sealed: a message type, `AnyMessage` and a `serde_json::Value`
// object are what the wire carries, each held to the same decode rules; another type
// cannot declare itself one.
use experimance_common::codec::{self, Payload};

#[derive(Debug)]
struct Raw(Vec<u8>);

impl Payload for Raw {}

fn main() {
    let mut buf = Vec::new();
    codec::encode_push(&Raw(Vec::new()), &mut buf).unwrap();
}
