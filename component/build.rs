//! On wasm32, link a core module and leave the component to `make build`:
//! `wasm-opt` works on core modules only.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32") {
        println!("cargo:rustc-link-arg=--skip-wit-component");
    }
}
