//! The controller's logic speaks domain types only: the wire (generated protobuf types, tonic,
//! axum) is known to the adapters and the server that wires them, nowhere else. A wire change
//! then touches adapters, never the scheduling rules or the store.

use std::path::Path;

/// Files allowed to know the wire: they translate between it and the logic (`ui.rs`: the
/// dashboard's HTTP face, sessions and page).
const ADAPTERS: &[&str] =
    &["grpc_adapter.rs", "http_adapter.rs", "ui.rs", "server.rs", "tls.rs", "fuzzing.rs", "main.rs"];

#[test]
fn logic_modules_import_no_wire_types() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut logic = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || ADAPTERS.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for needle in ["vmafx_proto", "tonic", "prost", "axum", "v1::"] {
            if text.contains(needle) {
                offenders.push(format!("src/{name} mentions `{needle}`"));
            }
        }
        logic.push(name);
    }
    logic.sort();
    for expected in ["dispatch.rs", "lib.rs", "scheduling.rs", "submit.rs", "result_check.rs"] {
        assert!(logic.iter().any(|n| n == expected), "{expected} not scanned: {logic:?}");
    }
    assert!(offenders.is_empty(), "convert in an adapter instead:\n{}", offenders.join("\n"));
}

/// The store crate does not know the wire either: results are stored in its own encoding.
#[test]
fn the_store_does_not_depend_on_the_wire() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vmafx-store/Cargo.toml");
    let text = std::fs::read_to_string(manifest).unwrap();
    assert!(!text.contains("vmafx-proto"), "vmafx-store must not depend on vmafx-proto");
}
