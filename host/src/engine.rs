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
    ///
    /// # Errors
    ///
    /// The thread cannot be started: calls would have no deadline.
    pub fn start(engine: &Engine) -> Result<Self, Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        // It only sleeps and counts: a small stack is enough, and cheaper to map.
        let spawned = std::thread::Builder::new().name("epoch-ticker".into()).stack_size(64 * 1024).spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        match spawned {
            Ok(_) => Ok(Self { stop }),
            Err(e) => Err(Error::Component(format!("cannot start the thread that bounds each call's time ({e}). Retry."))),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
