//! What a curriculum example must reach. A missed expectation ends the example with an error
//! and a failing exit status, and the README's test command runs every example, so a lesson
//! that stopped teaching fails CI. Included by each example (`#[path = "expect.rs"]`).

use wgtrain::{Result, TrainError};

/// `Ok` when `ok`; else an error saying what the example should reach and what it got.
pub fn reached(what: &str, ok: bool, got: impl std::fmt::Display) -> Result<()> {
    if ok {
        println!("reached: {what} ({got})");
        return Ok(());
    }
    Err(TrainError::config("example", format!("did not reach: {what} (got {got})")))
}
