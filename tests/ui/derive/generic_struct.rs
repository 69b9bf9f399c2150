use experimance_common::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Message)]
struct Reading<T> {
    value: T,
}

#[derive(Debug, Serialize, Deserialize, Message)]
struct Label<'a> {
    text: &'a str,
}

fn main() {}
