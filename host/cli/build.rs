//! Links `kitty-origin` with its start-up code laid out together: lld's
//! `--symbol-ordering-file` with `symbol-order.txt` (the functions a search
//! runs, from a profile: `make symbol-order` writes it), so a start faults in
//! fewer pages of code. Names the file no longer matches are ignored.

fn main() {
    let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("symbol-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    // rustc links this target with its own lld, which takes an ordering file.
    if std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu") && order.is_file() {
        println!("cargo:rustc-link-arg-bin=kitty-origin=-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo:rustc-link-arg-bin=kitty-origin=-Wl,--no-warn-symbol-ordering");
    }
}
