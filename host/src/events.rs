//! The host side of the `events` import: where a guest's events go.

use std::sync::Mutex;

pub use spec_kitty_origin::model::{Delivery, EmitError, Event};

/// Receives the guest's events. The reference host's is the durable
/// [`crate::outbox::Outbox`]; implement it to route events elsewhere.
pub trait EventSink: Send + Sync {
    /// Accepts `event`: delivered now, queued durably, or refused.
    ///
    /// # Errors
    ///
    /// `invalid-event` for an incomplete envelope, `storage-failed` when the
    /// event could not be kept: the guest then reports `event_emitted = false`.
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError>;
}

/// Keeps events in memory (tests, and embedders without an outbox); fails
/// every emit with `fail` when set.
#[derive(Default)]
pub struct MemorySink {
    events: Mutex<Vec<Event>>,
    fail: Option<String>,
}

impl MemorySink {
    /// A sink whose every emit fails with `message`.
    pub fn failing(message: &str) -> Self {
        Self { events: Mutex::default(), fail: Some(message.to_string()) }
    }

    /// The events accepted so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl EventSink for MemorySink {
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        if let Some(message) = &self.fail {
            return Err(EmitError::StorageFailed(message.clone()));
        }
        self.events.lock().map_err(|_| EmitError::StorageFailed("sink poisoned".into()))?.push(event.clone());
        Ok(Delivery::Queued)
    }
}
