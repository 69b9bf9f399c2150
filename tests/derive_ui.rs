//! Compile-fail tests of `#[derive(Message)]`: every misuse is rejected with an error
//! pointing at the offending token, all errors of one derive are reported together, and
//! the uses of a rejected type add no errors of their own (`use_after_bad_attribute.rs`).
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test derive_ui`
//! (then read every `.stderr` before committing it).

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

#[test]
fn derive_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/derive/*.rs");
}
