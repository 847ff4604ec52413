//! Outgoing HTTP, with the least authority. The guest's requests pass the
//! [`EgressPolicy`] (only the control plane's origin, the host's own
//! credentials added here, forbidden headers refused) inside [`EgressHooks`],
//! then go to an [`Upstream`] (the network, or a stub in tests) within the
//! [`EgressLimits`]. The host's own requests (event delivery) use [`client`].

pub mod client;
mod hooks;
mod limits;
mod policy;
mod upstream;

pub use hooks::EgressHooks;
pub use limits::EgressLimits;
pub use policy::{EgressPolicy, add_credentials, is_forbidden};
pub use upstream::{NetworkUpstream, SendFuture, Upstream, UpstreamResponse, full_body};
