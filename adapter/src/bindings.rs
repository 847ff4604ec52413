//! The adapter on WASI: the WIT world `events-adapter` over the capabilities
//! of the guest crate's `wasi_caps`.

use std::path::PathBuf;

use spec_kitty_origin::model;
use spec_kitty_origin::templates::TEMPLATE_DIRS_VAR;
use spec_kitty_origin::wasi_caps::{WasiClock, WasiFiles, WasiTransport};

spec_kitty_origin::generate_over_wasi_caps!("../wit", "events-adapter", {});

use exports::spec_kitty::origin::events::Guest;
use exports::spec_kitty::origin::types::{Delivery, EmitError, Event};

/// The repo: the first preopened directory that is not one of the
/// read-only template directories the host lists in `KITTY_ORIGIN_TEMPLATE_DIRS`.
fn repo_root() -> Option<PathBuf> {
    let templates = std::env::var(TEMPLATE_DIRS_VAR).unwrap_or_default();
    spec_kitty_origin::wasi_caps::wasi::filesystem::preopens::get_directories()
        .into_iter()
        .map(|(_, path)| path)
        .find(|path| !templates.split(':').any(|t| t == path))
        .map(PathBuf::from)
}

/// The exported component.
struct Component;

impl Guest for Component {
    fn emit(event: Event) -> Result<Delivery, EmitError> {
        let event = model::Event {
            event_id: event.event_id,
            event_type: event.event_type,
            aggregate_id: event.aggregate_id,
            aggregate_type: event.aggregate_type,
            schema_version: event.schema_version,
            payload_json: event.payload_json,
            timestamp: event.timestamp,
            project_slug: event.project_slug,
            correlation_id: event.correlation_id,
        };
        let adapter = crate::Adapter { transport: &WasiTransport, clock: &WasiClock, files: &WasiFiles, repo_root: repo_root() };
        match adapter.emit(&event) {
            Ok(model::Delivery::Delivered) => Ok(Delivery::Delivered),
            Ok(model::Delivery::Queued) => Ok(Delivery::Queued),
            Err(model::EmitError::InvalidEvent(why)) => Err(EmitError::InvalidEvent(why)),
            Err(model::EmitError::StorageFailed(why)) => Err(EmitError::StorageFailed(why)),
        }
    }
}

export!(Component);
