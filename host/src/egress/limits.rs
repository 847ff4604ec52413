//! Time and size bounds on every request the guest makes.

use std::time::Duration;

use spec_kitty_origin::wire::MAX_RESPONSE_BYTES;
use wasmtime_wasi_http::RequestOptions;

/// Time and size bounds the host puts on every guest request.
///
/// The guest may ask for shorter timeouts (a search asks for what is left of
/// its 10 s), never longer ones: [`EgressLimits::clamp`] takes the smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressLimits {
    /// Longest connect: 10 s is far beyond any healthy TCP/TLS handshake.
    pub connect: Duration,
    /// Longest wait for the first response byte: the deployed client's 30 s.
    pub first_byte: Duration,
    /// Longest gap between response bytes.
    pub between_bytes: Duration,
    /// Longest whole exchange (connect, headers and every body byte): a
    /// server that drips its answer a byte at a time stays within the gap
    /// bounds forever, so the exchange has a bound of its own. The guest's
    /// shorter first-byte timeout (what is left of its call) bounds it too.
    pub exchange: Duration,
    /// Largest response body ([`MAX_RESPONSE_BYTES`]); it also bounds what
    /// the hooks buffer in host memory.
    pub max_response_bytes: usize,
}

impl Default for EgressLimits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            between_bytes: Duration::from_secs(30),
            exchange: Duration::from_secs(30),
            max_response_bytes: MAX_RESPONSE_BYTES,
        }
    }
}

impl EgressLimits {
    /// The guest's options, each no longer than the host's bound.
    pub fn clamp(&self, options: Option<RequestOptions>) -> RequestOptions {
        let options = options.unwrap_or_default();
        let min = |asked: Option<Duration>, cap: Duration| Some(asked.map_or(cap, |a| a.min(cap)));
        RequestOptions {
            connect_timeout: min(options.connect_timeout, self.connect),
            first_byte_timeout: min(options.first_byte_timeout, self.first_byte),
            between_bytes_timeout: min(options.between_bytes_timeout, self.between_bytes),
        }
    }

    /// The bound of one whole exchange with the guest's `options`: the
    /// host's [`EgressLimits::exchange`], or the guest's first-byte timeout
    /// when shorter (the guest asks for what is left of its overall bound).
    pub fn exchange_bound(&self, options: &RequestOptions) -> Duration {
        options.first_byte_timeout.map_or(self.exchange, |asked| asked.min(self.exchange))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_timeouts_are_clamped_to_the_hosts() {
        let limits = EgressLimits::default();
        let asked = RequestOptions {
            connect_timeout: Some(Duration::from_secs(60)),
            first_byte_timeout: Some(Duration::from_secs(2)),
            between_bytes_timeout: None,
        };
        let got = limits.clamp(Some(asked));
        assert_eq!(got.connect_timeout, Some(Duration::from_secs(10)));
        assert_eq!(got.first_byte_timeout, Some(Duration::from_secs(2)));
        assert_eq!(got.between_bytes_timeout, Some(Duration::from_secs(30)));
    }
}
