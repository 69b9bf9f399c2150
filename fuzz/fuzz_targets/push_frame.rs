//! The input as a whole PUSH frame (the JSON alone) through every decoder, the registry's
//! included, with the checks before parsing required to agree.
#![no_main]

#[path = "../../tests/support/decoders.rs"]
mod decoders;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = decoders::check_all(data, decoders::Framing::Push) {
        panic!("{e}");
    }
});
