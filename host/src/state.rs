//! The state of one call's `Store`: WASI with the repo root as the only
//! preopen, wasi:http behind the egress hooks, the event sink, and limits.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::events;
use crate::egress::EgressHooks;
use crate::sink::EventSink;

/// Everything a call's guest can reach.
pub struct CallState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) http: WasiHttpCtx,
    pub(crate) hooks: EgressHooks,
    pub(crate) events: Arc<dyn EventSink>,
    pub(crate) limits: StoreLimits,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

impl events::Host for CallState {
    fn emit(&mut self, event: events::Event) -> Result<events::Delivery, events::EmitError> {
        self.events.emit(&event)
    }
}
