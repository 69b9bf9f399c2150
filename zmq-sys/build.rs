//! Builds libzmq 4.3.4 from zeromq-src with CURVE, linked to the libsodium that
//! libsodium-sys-stable built from its bundled source.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // libsodium-sys-stable (`links = "sodium"`) reports where it installed libsodium.
    let include = env::var("DEP_SODIUM_INCLUDE").expect("libsodium-sys-stable reports its include dir");
    let lib = env::var("DEP_SODIUM_LIB").expect("libsodium-sys-stable reports its lib dir");
    // zeromq-src takes no extra defines, but its cc build reads CXXFLAGS.
    let mut flags = env::var("CXXFLAGS").unwrap_or_default();
    // libzmq's own compiler warnings are not ours to fix; cc would print each one as a
    // cargo warning on every clean build of this (path) crate.
    flags.push_str(" -w");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        // What libzmq's CMake build detects on Linux and zeromq-src leaves out: every
        // libzmq socket's mailbox is then one eventfd instead of a socketpair, so a
        // socket holds one file descriptor, not two (a library socket three, not six).
        flags.push_str(" -DZMQ_HAVE_EVENTFD -DZMQ_HAVE_EVENTFD_CLOEXEC");
        // TCP keepalive: without these libzmq compiles its ZMQ_TCP_KEEPALIVE* options
        // out and setting them does nothing. The library's receiving sockets rely on
        // them to notice a sender whose host vanished (see DEAD_PEER_TIMEOUT).
        flags.push_str(" -DZMQ_HAVE_SO_KEEPALIVE -DZMQ_HAVE_TCP_KEEPIDLE -DZMQ_HAVE_TCP_KEEPINTVL -DZMQ_HAVE_TCP_KEEPCNT");
        // The epoll fd is not inherited by child processes.
        flags.push_str(" -DZMQ_HAVE_EPOLL_CLOEXEC");
    }
    env::set_var("CXXFLAGS", flags);
    zeromq_src::Build::new().with_libsodium(Some(zeromq_src::LibLocation::new(lib, include))).build();
}
