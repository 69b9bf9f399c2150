use experimance_common::socket::PushSocket;

fn main() {
    let _push = PushSocket::builder().build();
}
