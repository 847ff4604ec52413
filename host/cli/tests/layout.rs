//! The `kitty-origin` binary lays its start-up code out together: the
//! functions `host/cli/symbol-order.txt` names (what a search ran, from a
//! profile) are in the binary and sit in a few 64 KiB windows, so a start
//! faults in few pages of code (docs/PERFORMANCE.md). When the names stop
//! matching (a dependency or compiler upgrade), `make symbol-order` renews them.
#![cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

#[test]
fn the_start_up_code_is_laid_out_together() {
    let order = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/symbol-order.txt")).unwrap();
    let wanted: Vec<&str> = order.lines().map(str::trim).filter(|name| !name.is_empty()).collect();
    let nm = Command::new("nm").args(["--defined-only", env!("CARGO_BIN_EXE_kitty-origin")]).output().expect("nm runs (binutils)");
    assert!(nm.status.success(), "{}", String::from_utf8_lossy(&nm.stderr));
    let listing = String::from_utf8(nm.stdout).unwrap();
    let mut code: HashMap<&str, u64> = HashMap::new();
    for line in listing.lines() {
        if let [address, kind, name] = line.split_whitespace().collect::<Vec<_>>()[..]
            && matches!(kind, "t" | "T" | "w" | "W")
        {
            code.entry(name).or_insert(u64::from_str_radix(address, 16).unwrap());
        }
    }
    let found: Vec<u64> = wanted.iter().filter_map(|name| code.get(name).copied()).collect();
    assert!(
        found.len() * 10 >= wanted.len() * 9,
        "only {} of the {} functions of symbol-order.txt are in the binary: run `make symbol-order`",
        found.len(),
        wanted.len()
    );
    let windows: BTreeSet<u64> = found.iter().map(|address| address >> 16).collect();
    // Laid out by the linker's own order, they spread over about 120 windows.
    assert!(windows.len() <= 40, "the start-up code spreads over {} windows of 64 KiB: was it linked with the ordering?", windows.len());
}
