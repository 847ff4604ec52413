//! Typed bindings of the WIT world `spec-kitty:origin/origin-binding`.
//! WASI interfaces map onto wasmtime-wasi's and wasmtime-wasi-http's own.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "spec-kitty:origin/origin-binding",
    additional_derives: [PartialEq, Eq],
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
        "wasi:filesystem": wasmtime_wasi::p2::bindings::sync::filesystem,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
    },
});

pub use self::spec_kitty::origin::events;
pub use self::spec_kitty::origin::types;
