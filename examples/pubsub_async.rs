//! Publisher/subscriber with tokio: a publisher sends a heartbeat on "status-updates" and
//! a subscriber prints it (the "Asynchronous Usage" snippet of the Python guide).
//!
//! The two sides usually live in two services; here the subscriber is a task of the
//! same process, and the publisher binds a free port instead of `tcp://*:5555`, so the
//! example runs anywhere: `cargo run --example pubsub_async`.

use std::time::Duration;

use experimance_common::socket::{Error, Publisher, Subscriber};
use experimance_common::{AnyMessage, Heartbeat};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Publisher (usually in one service).
    let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*")?.topic("status-updates")?.build()?;
    let endpoint = publisher.endpoint();

    // Subscriber (usually in another service).
    let subscriber = tokio::spawn(async move {
        let mut subscriber = Subscriber::builder().connect(&endpoint)?.subscribe("status-updates").build()?;
        // Receive a message asynchronously (with built-in timeout).
        match subscriber.receive_async::<AnyMessage>().await {
            Ok((topic, message)) => println!("Received message on topic {topic}: {message:?}"),
            Err(Error::Timeout { .. }) => println!("No message received within timeout period"),
            Err(e) => return Err(e),
        }
        subscriber.close()
    });

    // Instead of sleeping for the "slow joiner", wait until the subscription arrived.
    publisher.wait_for_subscribers_async(1, Duration::from_secs(5)).await?;
    publisher.publish_async(&Heartbeat::now("example-service")).await?;
    println!("Message published successfully");
    publisher.close()?;

    subscriber.await??;
    Ok(())
}
