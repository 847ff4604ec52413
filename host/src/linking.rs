//! The linker of the component's world: exactly the interfaces it imports.
//! wasi:sockets is not linked at all (the guest's only network is wasi:http
//! through the egress hooks), and nothing else is there to be looked up.

use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{cli, filesystem, random};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

use crate::bindings::events;
use crate::error::Error;
use crate::instance::CallState;

/// A linker with WASI (without sockets), wasi:http and the event sink.
///
/// # Errors
///
/// An interface cannot be added (a wasmtime bug, not the component's).
pub fn world_linker(engine: &wasmtime::Engine) -> Result<Linker<CallState>, Error> {
    let mut linker = Linker::<CallState>::new(engine);
    link(&mut linker).map_err(Error::component("link WASI, wasi:http and the events import"))?;
    Ok(linker)
}

fn link(l: &mut Linker<CallState>) -> wasmtime::Result<()> {
    type T = CallState;
    // wasi:io, wasi:clocks, wasi:random/random and the standard streams.
    wasmtime_wasi::p2::add_to_linker_proxy_interfaces_async(l)?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)?;
    filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;
    filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(l)?;
    events::add_to_linker::<T, HasSelf<T>>(l, |s| s)?;
    Ok(())
}
