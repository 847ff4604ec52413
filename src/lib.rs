//! The Spec Kitty origin-binding component: the spec's three service methods
//! (`search_origin_candidates`, `bind_mission_origin`,
//! `start_mission_from_ticket`) over small capability traits ([`caps`]).
//! On wasm32 the `bindings` module adapts them to the WIT world
//! `spec-kitty:origin/origin-binding`; natively they unit-test with doubles.
//! Nothing here holds global state (NFR-002).

// The WIT bindings name this crate by its path (`generate_over_wasi_caps`).
#[cfg(target_arch = "wasm32")]
extern crate self as spec_kitty_origin;

pub mod bind;
pub mod capabilities;
pub mod config;
pub mod error;
pub mod events;
pub mod files;
pub mod journal;
pub mod layout;
pub mod meta;
pub mod mission_dir;
pub mod model;
pub mod python_json;
pub mod search;
pub mod slug;
pub mod start;
pub mod status_events;
pub mod templates;
pub mod timestamps;
pub mod tracker;
pub mod translit;
pub mod wire;
pub mod yaml;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod wasi_caps;

#[cfg(test)]
mod testing;

#[cfg(test)]
mod properties;

#[cfg(test)]
mod service_tests;

#[cfg(test)]
mod start_tests;
