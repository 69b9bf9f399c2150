//! Compile-fail tests of the codec's types: only a `Message` type, `AnyMessage` or a
//! `serde_json::Value` is a `codec::Payload`, misuse says what to add, and the trait is
//! sealed.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test codec_ui`
//! (then read every `.stderr` before committing it).

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

#[test]
fn codec_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/codec/*.rs");
}
