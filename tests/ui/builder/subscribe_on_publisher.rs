use experimance_common::socket::Publisher;

fn main() {
    let _publisher = Publisher::builder().bind("tcp://*:5555").unwrap().subscribe("status").build();
}
