use std::time::Duration;

use experimance_common::socket::PullSocket;

fn main() {
    let _pull = PullSocket::builder().receive_timeout(Duration::from_millis(100)).build();
}
