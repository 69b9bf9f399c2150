//! Receiving sockets as `futures::Stream`s: the same typed results as the `_async`
//! receives (messages, decode errors with their bytes, timeouts), a stream that goes on
//! after each error, and cancel safety (a dropped `next()` or a dropped stream takes
//! nothing).
#![cfg(feature = "tokio")]
// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use experimance_common::{EraChanged, Heartbeat};
use futures_util::StreamExt;

mod support;
use support::era;
use support::net::*;

fn pair() -> (PushSocket, PullSocket) {
    let endpoint = format!("inproc://{}", unique("stream"));
    let pull = PullSocket::builder().bind(&endpoint).unwrap().receive_timeout(READY).build().unwrap();
    let push = PushSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    (push, pull)
}

#[tokio::test]
async fn a_pull_stream_yields_messages_and_a_decode_error_with_its_bytes_then_goes_on() {
    let (mut push, mut pull) = pair();
    push.push_async(&era(0)).await.unwrap();
    push.push_raw_async(b"{\"type\": \"EraChanged\", \"era\": \"bronze\"").await.unwrap();
    push.push_async(&era(1)).await.unwrap();
    let mut stream = pull.stream::<EraChanged>();
    assert_eq!(stream.next().await.unwrap().unwrap(), era(0));
    match stream.next().await.unwrap() {
        Err(Error::Decode(e)) => assert_eq!(e.raw(), b"{\"type\": \"EraChanged\", \"era\": \"bronze\""),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(stream.next().await.unwrap().unwrap(), era(1), "the stream goes on after an error");
}

#[tokio::test]
async fn a_subscriber_stream_yields_topics_and_a_timeout_then_goes_on() {
    let endpoint = format!("inproc://{}", unique("sub-stream"));
    let mut publisher = Publisher::builder().bind(&endpoint).unwrap().topic("hb").unwrap().build().unwrap();
    let mut subscriber = Subscriber::builder()
        .connect(&endpoint)
        .unwrap()
        .subscribe("hb")
        .receive_timeout(SHORT)
        .build()
        .unwrap();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();
    let mut stream = subscriber.stream::<Heartbeat>();
    // Nothing published yet: the item is the receive's timeout.
    match stream.next().await.unwrap() {
        Err(Error::Timeout { after, .. }) => assert_eq!(after, SHORT),
        other => panic!("expected a timeout, got {other:?}"),
    }
    publisher.publish_async(&Heartbeat::now("streamer")).await.unwrap();
    let (topic, hb) = stream.next().await.unwrap().unwrap();
    assert_eq!(
        (topic.as_str(), hb.service.as_str()),
        ("hb", "streamer"),
        "the stream goes on after a timeout"
    );
}

#[tokio::test]
async fn a_cancelled_next_or_a_dropped_stream_takes_no_message() {
    const N: usize = 500;
    let (mut push, mut pull) = pair();
    let mut got = Vec::with_capacity(N);
    for i in 0..N {
        {
            let mut stream = pull.stream::<EraChanged>();
            // Nothing is queued: a zero timeout cancels `next()` after its first poll.
            assert!(tokio::time::timeout(Duration::ZERO, stream.next()).await.is_err());
            push.push_async(&era(i)).await.unwrap();
            if i % 2 == 0 {
                got.push(stream.next().await.unwrap().unwrap());
                continue;
            }
            // Odd turns drop the stream with the message waiting.
        }
        got.push(pull.pull_async::<EraChanged>().await.unwrap());
    }
    assert_eq!(got, (0..N).map(era).collect::<Vec<_>>(), "every message once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_cancelled_at_random_moments_under_a_concurrent_sender_lose_nothing() {
    const N: usize = 5_000;
    let (mut push, mut pull) = pair();
    let sender = tokio::spawn(async move {
        for i in 0..N {
            push.push_async(&era(i)).await.unwrap();
        }
        push
    });
    let mut got = Vec::with_capacity(N);
    while got.len() < N {
        // A fresh stream every three turns, the old one dropped wherever it was.
        let mut stream = pull.stream::<EraChanged>();
        for _ in 0..3 {
            if let Ok(item) = tokio::time::timeout(Duration::ZERO, stream.next()).await {
                got.push(item.unwrap().unwrap());
            }
        }
    }
    let _push = sender.await.unwrap();
    assert_eq!(got, (0..N).map(era).collect::<Vec<_>>(), "every message once, in order");
}
