//! Typed bindings of the WIT world `spec-kitty:origin/origin-binding`.
//!
//! The records of `types` are the guest crate's own
//! ([`spec_kitty_origin::model`], with wasmtime's component traits derived
//! under its `host` feature), so host, guest and the JSON output share one
//! definition. The WASI interfaces map onto wasmtime-wasi's and
//! wasmtime-wasi-http's.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "spec-kitty:origin/origin-binding",
    // Async throughout: a call runs on a current-thread tokio runtime of its
    // own (see `runtime`), with no worker threads.
    imports: { default: async },
    exports: { default: async },
    with: {
        "spec-kitty:origin/types": crate::bindings::wit_types,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
        "wasi:cli": wasmtime_wasi::p2::bindings::cli,
        "wasi:filesystem": wasmtime_wasi::p2::bindings::filesystem,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
    },
});

pub use self::spec_kitty::origin::events;

/// The `types` interface as bindgen expects a remapped one: the records
/// from [`spec_kitty_origin::model`], plus the linker hooks bindgen generates
/// for an interface with types and no functions (there is nothing to link).
pub mod wit_types {
    use wasmtime::component::{HasData, Linker};

    pub use spec_kitty_origin::model::*;

    /// What the world's linker asks of a host of `types`: nothing.
    pub trait HostWithStore<T>: HasData {}
    impl<H: ?Sized, T> HostWithStore<T> for H where H: HasData {}

    /// The host side of `types`: it has no functions.
    pub trait Host {}
    impl<T: Host + ?Sized> Host for &mut T {}

    /// Registers the (empty) `types` instance.
    pub fn add_to_linker<T, D>(linker: &mut Linker<T>, _host_getter: fn(&mut T) -> D::Data<'_>) -> wasmtime::Result<()>
    where
        D: HostWithStore<T>,
        for<'a> D::Data<'a>: Host,
        T: 'static,
    {
        linker.instance("spec-kitty:origin/types@0.1.0")?;
        Ok(())
    }
}
