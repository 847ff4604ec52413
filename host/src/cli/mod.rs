//! The `kitty-origin` command line.

pub mod args;
pub mod commands;
pub mod confirm;
pub mod failure;
pub mod output;
