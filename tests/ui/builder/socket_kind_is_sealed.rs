use experimance_common::socket::SocketKind;

// A user's own type cannot become a socket kind: the trait is only a bound.
struct MySocket;

impl SocketKind for MySocket {}

fn main() {}
