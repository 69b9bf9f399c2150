use experimance_common::socket::Publisher;

fn main() {
    let _publisher = Publisher::builder().topic("status").unwrap().build();
}
