//! Every raw libzmq call the library makes (`zmq_sys`), for what the `zmq` crate has no
//! API for. Each `unsafe` block says why it is sound.

use super::error::{Error, Result};

/// Stops the socket's monitor (`zmq_socket_monitor(socket, NULL, 0)`): libzmq sends
/// MONITOR_STOPPED to the reader, still alive, and closes its end.
pub(super) fn stop_monitor(socket: &mut zmq::Socket) {
    // SAFETY: a live socket handle and a null endpoint, which the C API documents as
    // "stop monitoring".
    unsafe {
        zmq_sys::zmq_socket_monitor(socket.as_mut_ptr(), std::ptr::null(), 0);
    }
}

pub(crate) fn set_raw_int(socket: &mut zmq::Socket, option: &'static str, id: u32, value: i32) -> Result<()> {
    // The `zmq` crate has no setter for these options; libzmq's C API does.
    // SAFETY: a live socket handle, a pointer to a live i32 and its size.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            socket.as_mut_ptr(),
            id as i32,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        // SAFETY: reading errno right after the failed call.
        let errno = unsafe { zmq_sys::zmq_errno() };
        Err(Error::SetOption { option, source: zmq::Error::from_raw(errno) })
    }
}

/// Reads an `int` option the `zmq` crate has no getter for (`ZMQ_TCP_MAXRT`).
#[cfg(test)]
pub(crate) fn get_raw_int(socket: &mut zmq::Socket, option: &'static str, id: u32) -> Result<i32> {
    let mut value: i32 = 0;
    let mut size = std::mem::size_of::<i32>();
    // SAFETY: a live socket handle, a pointer to a live i32 and a pointer to its size,
    // which libzmq overwrites with the size it wrote (at most `size`).
    let rc = unsafe {
        zmq_sys::zmq_getsockopt(socket.as_mut_ptr(), id as i32, (&mut value as *mut i32).cast(), &mut size)
    };
    if rc == 0 {
        Ok(value)
    } else {
        // SAFETY: reading errno right after the failed call.
        let errno = unsafe { zmq_sys::zmq_errno() };
        Err(Error::SetOption { option, source: zmq::Error::from_raw(errno) })
    }
}
