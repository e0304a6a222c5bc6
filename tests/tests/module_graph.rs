//! The workspace's dependencies point one way: `scripts/module-graph` finds no cycle between
//! the modules of a crate or the files of a folder, and the contract crate names no other
//! capsule crate.

use std::process::Command;

#[test]
fn modules_depend_one_way() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("python3")
        .arg(root.join("scripts/module_graph.py"))
        .output()
        .expect("python3 runs scripts/module_graph.py (CI installs it)");
    assert!(
        out.status.success(),
        "module cycles:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
