use experimance_common::socket::Subscriber;

fn main() {
    let subscriber =
        Subscriber::builder().connect("tcp://localhost:5555").unwrap().subscribe("status").build().unwrap();
    // A `Subscriber` may move to another thread (it is `Send`), but two threads must not
    // use it at once: it is not `Sync`, so it cannot be shared by reference.
    std::thread::scope(|s| {
        s.spawn(|| subscriber.endpoint());
        s.spawn(|| subscriber.endpoint());
    });
}
