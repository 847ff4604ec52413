//! Name lookups in a static-pie build: glibc's built-in `files` and `dns`
//! services only. A statically linked glibc still `dlopen`s every other NSS
//! module `/etc/nsswitch.conf` names (`mdns4_minimal`, `resolve`, `sss`,
//! ...), and such a module only works with the exact glibc the binary was
//! linked against: after a glibc upgrade it may fail or crash the process.
//! Host names then come from `/etc/hosts` and the nameservers of
//! `/etc/resolv.conf` (systemd-resolved's stub among them), users from
//! `/etc/passwd`.

/// Pins the `hosts`, `passwd` and `group` databases to glibc's built-in
/// services. Call it first in `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
pub fn pin_builtin() {
    use std::ffi::{c_char, c_int};
    unsafe extern "C" {
        /// glibc's `<nss.h>`: the service line `db` uses instead of `/etc/nsswitch.conf`'s.
        fn __nss_configure_lookup(db: *const c_char, service_line: *const c_char) -> c_int;
    }
    for (db, services) in [(c"hosts", c"files dns"), (c"passwd", c"files"), (c"group", c"files")] {
        // SAFETY: two NUL-terminated static strings; called before any thread
        // exists, so no lookup runs concurrently with the change. A failure
        // (-1) leaves nsswitch.conf's line in force, as in a dynamic build.
        unsafe { __nss_configure_lookup(db.as_ptr(), services.as_ptr()) };
    }
}

/// A dynamically linked glibc loads NSS modules as the system expects.
#[cfg(not(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static")))]
pub fn pin_builtin() {}
