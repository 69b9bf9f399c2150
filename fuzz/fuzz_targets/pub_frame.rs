//! The input as a whole PUB frame (topic, space, JSON) through every decoder, with the
//! checks before parsing required to agree, and the frame helpers of `DecodeError`.
#![no_main]

#[path = "../../tests/support/decoders.rs"]
mod decoders;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = decoders::check_all(data, decoders::Framing::Pub) {
        panic!("{e}");
    }
    match experimance_common::codec::split_pub(data) {
        Ok((topic, json)) => assert_eq!(topic.len() + 1 + json.len(), data.len()),
        Err(e) => assert_eq!(e.raw(), data),
    }
    if let Err(e) = experimance_common::codec::decode_pub::<serde_json::Value>(data) {
        let json = e.json_bytes();
        assert!(data.ends_with(json));
        if let Some(topic) = e.topic() {
            assert!(data.starts_with(topic.as_bytes()));
        }
    }
});
