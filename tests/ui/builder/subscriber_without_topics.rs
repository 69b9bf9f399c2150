use experimance_common::socket::Subscriber;

fn main() {
    let _subscriber = Subscriber::builder().connect("tcp://localhost:5555").unwrap().build();
}
