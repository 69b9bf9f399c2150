use experimance_common::socket::Publisher;
use experimance_common::EraChanged;

fn main() {
    let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let _ = publisher.receive::<EraChanged>();
}
