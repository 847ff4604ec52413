//! The adapter between the WIT world `origin-binding` and the guest logic:
//! the `service` export over the WASI capabilities of `wasi_caps`, and the
//! imported event sink.

use std::path::{Path, PathBuf};

// The records are defined once, in `crate::model`; the export and import
// glue reads and writes them there directly. WASI is bound once, in
// `crate::wasi_caps`.
crate::generate_over_wasi_caps!("wit", "origin-binding", {
    "spec-kitty:origin/types@0.1.0": spec_kitty_origin::model,
});

use exports::spec_kitty::origin::service::Guest;
use spec_kitty::origin::events as host_events;

use crate::capabilities::{Capabilities, EventSink};
use crate::error::{ErrorKind, OriginError};
use crate::model::{BindResult, Delivery, EmitError, Event, MissionFromTicketResult, OriginCandidate, SearchOriginResult};
use crate::wasi_caps::{WasiClock, WasiEntropy, WasiFiles, WasiTransport, preopen_holding};

/// The imported `events` interface.
struct HostEvents;

impl EventSink for HostEvents {
    fn emit(&self, event: &Event) -> Result<Delivery, EmitError> {
        host_events::emit(event)
    }
}

fn with_caps<T>(run: impl FnOnce(Capabilities<'_>) -> T) -> T {
    run(Capabilities { transport: &WasiTransport, clock: &WasiClock, entropy: &WasiEntropy, events: &HostEvents, files: &WasiFiles })
}

/// The repo root of `feature_dir`: the directory the host preopened that
/// holds it. The host alone decides what to grant; the guest only reads it.
fn granted_repo_root(feature_dir: &Path) -> Result<PathBuf, OriginError> {
    preopen_holding(feature_dir).map(|(_, root)| root).ok_or_else(|| {
        OriginError::new(
            ErrorKind::Io,
            format!("{} lies outside every directory this host granted. Pass a mission directory inside the repo.", feature_dir.display()),
        )
    })
}

/// The exported component.
struct Component;

impl Guest for Component {
    fn search_origin_candidates(
        repo_root: String,
        query_text: Option<String>,
        query_key: Option<String>,
        limit: u32,
    ) -> Result<SearchOriginResult, OriginError> {
        with_caps(|caps| {
            crate::search::search_origin_candidates(caps, Path::new(&repo_root), query_text.as_deref(), query_key.as_deref(), limit)
        })
    }

    fn bind_mission_origin(
        feature_dir: String,
        candidate: OriginCandidate,
        provider: String,
        resource_type: String,
        resource_id: String,
    ) -> Result<BindResult, OriginError> {
        let routing = crate::bind::validate_routing(&candidate, &provider, &resource_type, &resource_id)?;
        let feature_dir = Path::new(&feature_dir);
        let repo_root = granted_repo_root(feature_dir)?;
        with_caps(|caps| crate::bind::bind_mission_origin(caps, &repo_root, feature_dir, &candidate, &routing))
    }

    fn start_mission_from_ticket(
        repo_root: String,
        candidate: OriginCandidate,
        provider: String,
        resource_type: String,
        resource_id: String,
        mission_key: String,
    ) -> Result<MissionFromTicketResult, OriginError> {
        let routing = crate::bind::validate_routing(&candidate, &provider, &resource_type, &resource_id)?;
        with_caps(|caps| crate::start::start_mission_from_ticket(caps, Path::new(&repo_root), &candidate, &routing, &mission_key))
    }
}

export!(Component);
