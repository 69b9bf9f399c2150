//! Push/pull, blocking: a push socket sends a render task and a pull socket prints it
//! (the "Synchronous Usage" snippet of the Python guide).
//!
//! The two sides usually live in two services; here the puller is a thread of the same
//! process, and the push socket binds a free port instead of `tcp://*:5556`, so the
//! example runs anywhere: `cargo run --example pushpull_sync`.

use std::time::Duration;

use experimance_common::socket::{Error, PullSocket, PushSocket};
use experimance_common::MessageType;
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Push socket (distributes tasks).
    let mut push_socket = PushSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;
    let endpoint = push_socket.endpoint();

    // Pull socket (receives tasks).
    let puller = std::thread::spawn(move || -> Result<(), Error> {
        let mut pull_socket = PullSocket::builder().connect(&endpoint)?.build()?;
        // Pull a task (with built-in timeout); a free-form task is a `serde_json::Value`.
        match pull_socket.pull::<serde_json::Value>() {
            Ok(task) => println!("Received task: {task}"),
            Err(Error::Timeout { .. }) => println!("No task received within timeout period"),
            Err(e) => return Err(e),
        }
        pull_socket.close()
    });

    // Wait until a puller is connected: a push with nobody to take it times out.
    push_socket.wait_connected(Duration::from_secs(5))?;
    let task = json!({
        "type": MessageType::RENDER_REQUEST,
        "id": "task-123",
        "parameters": {"resolution": [800, 600]}
    });
    push_socket.push(&task)?;
    println!("Task pushed successfully");
    push_socket.close()?;

    puller.join().expect("the puller thread panicked")?;
    Ok(())
}
