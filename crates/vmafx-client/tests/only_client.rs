//! vmafx-client is the only place that builds authenticated gRPC requests: no other crate's
//! library or binary code constructs a generated service client or sets an `authorization`
//! header (their tests and examples may).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_other_crate_builds_authenticated_grpc_requests() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut offenders = Vec::new();
    let mut scanned = 0;
    for krate in std::fs::read_dir(crates).unwrap().flatten() {
        if krate.file_name() == "vmafx-client" {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&krate.path().join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            // Unit tests at the end of a file may build requests to test the server.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            scanned += 1;
            for needle in ["_service_client::", ".insert(\"authorization\""] {
                if code.contains(needle) {
                    offenders.push(format!("{} uses `{needle}`", file.display()));
                }
            }
        }
    }
    assert!(scanned > 50, "scanned only {scanned} files: wrong directory?");
    assert!(offenders.is_empty(), "use vmafx-client instead:\n{}", offenders.join("\n"));
}
