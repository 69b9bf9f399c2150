use experimance_common::socket::Subscriber;

fn main() {
    let _subscriber = Subscriber::builder().subscribe("status").build();
}
