use std::time::Duration;

use experimance_common::socket::{PullSocket, PushSocket};
use experimance_common::Heartbeat;

#[tokio::test(flavor = "current_thread")]
async fn stress_select_no_loss() {
    let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let ep = push.endpoint();
    let mut pull = PullSocket::builder().connect(&ep).unwrap().build().unwrap();
    push.wait_connected(Duration::from_secs(5)).unwrap();
    const N: u64 = 100_000;
    let sender = std::thread::spawn(move || {
        for i in 0..N {
            let mut hb = Heartbeat::now("s");
            hb.extra.insert("i".into(), i.into());
            push.push_timeout(&hb, Duration::from_secs(10)).unwrap();
            if i % 500 == 0 {
                std::thread::sleep(Duration::from_micros(300));
            }
        }
        push.close().unwrap();
    });
    let mut next = 0u64;
    let mut timer_wins = 0u64;
    let start = std::time::Instant::now();
    while next < N {
        tokio::select! {
            r = pull.pull_async::<Heartbeat>() => {
                let hb = r.unwrap();
                assert_eq!(hb.extra["i"].as_u64().unwrap(), next);
                next += 1;
            }
            _ = tokio::time::sleep(Duration::from_micros(50)) => { timer_wins += 1; }
        }
    }
    sender.join().unwrap();
    eprintln!("received {N} in {:?}, timer won {timer_wins} races", start.elapsed());
}
