use experimance_common::socket::Subscriber;

fn main() {
    let _subscriber = Subscriber::builder()
        .connect("tcp://localhost:5555")
        .unwrap()
        .bind("tcp://*:5557")
        .unwrap()
        .subscribe("status")
        .build();
}
