//! Two types claiming one wire name are caught by `check_registry` (its own test binary,
//! so the clash does not disturb the other tests).

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use experimance_common::registry::check_registry;
use experimance_common::Message;

#[derive(Debug, serde::Serialize, serde::Deserialize, Message)]
#[message(type = "Clash")]
struct First {}

#[derive(Debug, serde::Serialize, serde::Deserialize, Message)]
#[message(type = "Other", alias = "Clash")]
struct Second {}

#[derive(Debug, serde::Serialize, serde::Deserialize, Message)]
#[message(type = "EraChanged")]
struct ShadowsABuiltin {}

#[test]
fn duplicate_wire_names_are_reported() {
    let clashes = check_registry().unwrap_err();
    let mut names: Vec<&str> = clashes.iter().map(|c| c.name).collect();
    names.sort();
    assert_eq!(names, ["Clash", "EraChanged"], "{clashes:?}");
    let clash = clashes.iter().find(|c| c.name == "Clash").unwrap();
    let pair = [clash.first, clash.second];
    assert!(
        pair.iter().any(|n| n.ends_with("::First")) && pair.iter().any(|n| n.ends_with("::Second")),
        "{pair:?}"
    );
    assert!(clash.to_string().contains("`Clash`"), "{clash}");
}
