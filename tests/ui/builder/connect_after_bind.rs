use experimance_common::socket::PushSocket;

fn main() {
    let _push = PushSocket::builder()
        .bind("tcp://*:5556")
        .unwrap()
        .connect("tcp://localhost:5557")
        .unwrap()
        .build();
}
