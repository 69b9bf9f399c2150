//! Publisher/subscriber, blocking: a publisher sends a heartbeat on "status-updates" and
//! a subscriber prints it (the "Synchronous Usage" snippet of the Python guide).
//!
//! The two sides usually live in two services; here the subscriber is a thread of the
//! same process, and the publisher binds a free port instead of `tcp://*:5555`, so the
//! example runs anywhere: `cargo run --example pubsub_sync`.

use std::time::Duration;

use experimance_common::socket::{Error, Publisher, Subscriber};
use experimance_common::{AnyMessage, Heartbeat};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Publisher (usually in one service).
    let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*")?.topic("status-updates")?.build()?;
    let endpoint = publisher.endpoint();

    // Subscriber (usually in another service).
    let subscriber = std::thread::spawn(move || -> Result<(), Error> {
        let mut subscriber = Subscriber::builder().connect(&endpoint)?.subscribe("status-updates").build()?;
        // Receive a message (with built-in timeout).
        match subscriber.receive::<AnyMessage>() {
            Ok((topic, message)) => println!("Received message on topic {topic}: {message:?}"),
            Err(Error::Timeout { .. }) => println!("No message received within timeout period"),
            Err(e) => return Err(e),
        }
        subscriber.close()
    });

    // Instead of sleeping for the "slow joiner", wait until the subscription arrived.
    publisher.wait_for_subscribers(1, Duration::from_secs(5))?;
    publisher.publish(&Heartbeat::now("example-service"))?;
    println!("Message published successfully");
    publisher.close()?;

    subscriber.join().expect("the subscriber thread panicked")?;
    Ok(())
}
