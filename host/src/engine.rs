//! The wasmtime `Engine`, and the ticker that gives calls their deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Config, Engine};

use crate::error::Error;

/// How often the epoch advances: the resolution of every call's deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(50);

/// An engine with epoch interruption, so a runaway guest can be stopped.
pub fn new_engine() -> Result<Engine, Error> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    Engine::new(&config).map_err(Error::component("create the wasmtime engine"))
}

/// The epoch ticks a call of `deadline` may last.
pub fn deadline_ticks(deadline: Duration) -> u64 {
    u64::try_from(deadline.as_millis() / EPOCH_TICK.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Starts ticking `engine` on a thread of its own.
    pub fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
