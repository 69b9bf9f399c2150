//! The `AnyMessage` decoders, on the input as a PUSH frame and as the JSON of a PUB frame.
#![no_main]

#[path = "../../tests/support/decoders.rs"]
mod decoders;

libfuzzer_sys::fuzz_target!(|data: &[u8]| decoders::push_and_pub(data, decoders::check_any));
