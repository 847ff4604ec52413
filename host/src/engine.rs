//! The wasmtime `Engine`: its two compile tiers, and the fuel that lets a
//! call's deadline stop even a guest that never calls the host.

use wasmtime::{Config, Engine, OptLevel, RegallocAlgorithm, Store};

use crate::error::Error;

/// Fuel (about one unit per wasm instruction) between two yields of a
/// running guest to the call's event loop, where its deadline can fire:
/// some tens of microseconds of guest code.
pub const YIELD_INTERVAL_FUEL: u64 = 100_000;

/// How an engine compiles: the two tiers of the compile cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Cranelift's optimisations and register allocator: the build's
    /// precompiled copy (`make build`, `kitty-origin precompile`).
    Optimizing,
    /// No optimisation passes and the single-pass register allocator:
    /// about half the compile time, for a component no build precompiled.
    /// Its calls are I/O-bound, so they take as long (docs/PERFORMANCE.md).
    Quick,
}

/// An engine of `tier` that meters fuel, so a running guest yields to the
/// call's event loop now and then and a runaway one can be stopped there
/// (no watchdog thread).
pub fn new_engine(tier: Tier) -> Result<Engine, Error> {
    let mut config = Config::new();
    config.consume_fuel(true);
    if tier == Tier::Quick {
        config.cranelift_opt_level(OptLevel::None);
        config.cranelift_regalloc_algorithm(RegallocAlgorithm::SinglePass);
    }
    Engine::new(&config).map_err(Error::component("create the wasmtime engine"))
}

/// Fuels `store` without limit and has its guest yield every
/// [`YIELD_INTERVAL_FUEL`]: the deadline is a timeout around the call, which
/// can fire at any of those yields.
///
/// # Errors
///
/// The engine does not meter fuel (not one of [`new_engine`]'s).
pub fn pace_guest<T>(store: &mut Store<T>) -> wasmtime::Result<()> {
    store.set_fuel(u64::MAX)?;
    store.fuel_async_yield_interval(Some(YIELD_INTERVAL_FUEL))
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use wasmtime::{Instance, Module};

    use super::*;

    /// `(module (func (export "spin") (loop (br 0))))`: a guest that never
    /// returns and never calls the host.
    const SPIN: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
        0x03, 0x02, 0x01, 0x00, // one function of type 0
        0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x00, // export "spin"
        0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop { br 0 }
    ];

    #[test]
    fn a_guest_that_never_returns_is_stopped_by_the_call_timeout() {
        for tier in [Tier::Optimizing, Tier::Quick] {
            let (sent, received) = mpsc::channel();
            std::thread::spawn(move || {
                let stopped = (|| -> wasmtime::Result<bool> {
                    let engine = new_engine(tier).map_err(|e| wasmtime::format_err!("{e:?}"))?;
                    let module = Module::new(&engine, SPIN)?;
                    let mut store = Store::new(&engine, ());
                    pace_guest(&mut store)?;
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
                    runtime.block_on(async {
                        let instance = Instance::new_async(&mut store, &module, &[]).await?;
                        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
                        Ok(tokio::time::timeout(Duration::from_millis(100), spin.call_async(&mut store, ())).await.is_err())
                    })
                })();
                let _ = sent.send(stopped.map_err(|e| e.to_string()));
            });
            // Bounded: a guest the timeout could not stop would hold the thread forever.
            let outcome = received.recv_timeout(Duration::from_secs(60)).expect("the spinning guest was never stopped");
            assert_eq!(outcome, Ok(true), "{tier:?}");
        }
    }
}
