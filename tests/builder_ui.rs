//! Compile-fail tests of the socket builders and of the sockets' thread-safety: every
//! misuse is a compile error that says what to call instead.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test builder_ui`
//! (then read every `.stderr` before committing it).

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

#[test]
fn builder_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/builder/*.rs");
}
