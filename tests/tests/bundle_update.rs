//! End to end: train a tiny embedder, bundle and sign it on the host (twice, versions 1 and
//! 2), then install it on the device with `capsule update apply`. Every kind of bad bundle
//! (tampered manifest, tampered model, unsigned, wrong key, downgrade, escaping path, link
//! out of the bundle, golden mismatch) is refused with a clear error and leaves the active
//! bundle in place; a good update switches slots and rollback switches back.

use capsule_device::bundle::{MANIFEST_FILE, Manifest, NpyArray, SIGNATURE_FILE};
use capsule_device::update::slots::{Slot, Slots};
use capsule_e2e::{copy_dir, host, resign};
use capsule_host::bundle::{EMBEDDER_FILE, EMBEDDER_GOLDEN_OUT};
use std::path::{Path, PathBuf};

fn capsule(data: &Path, args: &[&str]) -> Result<(), String> {
    let mut all = vec![
        "capsule".to_string(),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    capsule_device::cli::run(all).map_err(|e| format!("{e:#}"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    key: PathBuf,
    public: String,
    v1: PathBuf,
    v2: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let (data, run) = capsule_e2e::synth_and_train_embedder(&root, &["--preset", "tiny"]);
    let key = root.join("keys/bundle.key");
    host(&["keygen", "--out", s(&key)]);
    let public = std::fs::read_to_string(capsule_host::bundle::public_path(&key))
        .unwrap()
        .trim()
        .to_string();
    let (v1, v2) = (root.join("bundle-v1"), root.join("bundle-v2"));
    host(&[
        "bundle",
        "--embedder-run",
        s(&run),
        "--out",
        s(&v1),
        "--version",
        "1",
        "--threshold-from",
        s(&data),
    ]);
    host(&["sign", "--bundle", s(&v1), "--key", s(&key)]);
    host(&[
        "bundle",
        "--embedder-run",
        s(&run),
        "--out",
        s(&v2),
        "--version",
        "2",
    ]);
    host(&["sign", "--bundle", s(&v2), "--key", s(&key)]);
    Fixture {
        _tmp: tmp,
        root,
        key,
        public,
        v1,
        v2,
    }
}

fn active_version(data: &Path) -> Option<u64> {
    Slots::new(data)
        .active_bundle()
        .unwrap()
        .map(|b| b.manifest.bundle_version)
}

#[test]
fn updates_are_verified_switched_atomically_and_rolled_back() {
    let f = fixture();
    let data = f.root.join("device");
    let apply = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["update", "apply", s(dir), "--trusted-key", &f.public];
        args.extend_from_slice(extra);
        capsule(&data, &args)
    };

    // The manifest says what the host measured and how it was made.
    let manifest = Manifest::from_bytes(&std::fs::read(f.v1.join(MANIFEST_FILE)).unwrap()).unwrap();
    assert!(
        manifest.metrics.contains_key("identify_threshold"),
        "{:?}",
        manifest.metrics
    );
    assert_eq!(manifest.models[0].file, EMBEDDER_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret key must be private");
    }

    // Nothing installed: rollback has nothing to go back to.
    assert!(
        capsule(&data, &["update", "rollback"])
            .unwrap_err()
            .contains("no bundle")
    );
    apply(&f.v1, &[]).unwrap();
    assert_eq!(Slots::new(&data).active().unwrap(), Some(Slot::A));
    assert_eq!(active_version(&data), Some(1));

    let bad = |name: &str| {
        let dir = f.root.join(name);
        copy_dir(&f.v2, &dir);
        dir
    };
    let mut cases: Vec<(&str, PathBuf, Vec<&str>, &str)> = Vec::new();

    let dir = bad("tampered-manifest");
    let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap();
    std::fs::write(
        dir.join(MANIFEST_FILE),
        text.replace("\"bundle_version\": 2", "\"bundle_version\": 9"),
    )
    .unwrap();
    cases.push(("tampered manifest", dir, vec![], "does not verify"));

    let dir = bad("tampered-model");
    let mut onnx = std::fs::read(dir.join(EMBEDDER_FILE)).unwrap();
    let last = onnx.len() - 1;
    onnx[last] ^= 0x55;
    std::fs::write(dir.join(EMBEDDER_FILE), onnx).unwrap();
    cases.push(("tampered model", dir, vec![], "sha256"));

    let dir = bad("unsigned");
    std::fs::remove_file(dir.join(SIGNATURE_FILE)).unwrap();
    cases.push(("unsigned", dir, vec![], "unsigned"));

    let dir = bad("wrong-key");
    let other = f.root.join("keys/other.key");
    host(&["keygen", "--out", s(&other)]);
    host(&["sign", "--bundle", s(&dir), "--key", s(&other)]);
    cases.push(("wrong key", dir, vec![], "does not verify"));

    cases.push(("downgrade", f.v1.clone(), vec![], "not newer"));

    let dir = bad("path-escape");
    resign(&dir, &f.key, |v| {
        v["models"][0]["golden"]["output"] = "../outside.npy".into();
    });
    cases.push(("path escape", dir, vec![], "inside the bundle"));

    #[cfg(unix)]
    {
        let dir = bad("link-escape");
        let outside = f.root.join("outside.npy");
        std::fs::copy(dir.join(EMBEDDER_GOLDEN_OUT), &outside).unwrap();
        std::fs::remove_file(dir.join(EMBEDDER_GOLDEN_OUT)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join(EMBEDDER_GOLDEN_OUT)).unwrap();
        cases.push(("link out of the bundle", dir, vec![], "not a regular file"));
    }

    let dir = bad("golden-mismatch");
    let golden = dir.join(EMBEDDER_GOLDEN_OUT);
    let mut out = NpyArray::read(&golden).unwrap();
    out.data[0] += 0.01;
    std::fs::write(&golden, out.to_bytes()).unwrap();
    cases.push(("golden mismatch", dir, vec![], "golden check failed"));

    for (what, dir, extra, expect) in &cases {
        let err = apply(dir, extra).expect_err(what);
        println!("{what}: {err}");
        assert!(err.contains(expect), "{what}: {err}");
        assert_eq!(
            active_version(&data),
            Some(1),
            "{what} changed the active bundle"
        );
        assert_eq!(Slots::new(&data).active().unwrap(), Some(Slot::A), "{what}");
    }

    // A good update switches to the other slot; rollback switches back and forth.
    apply(&f.v2, &[]).unwrap();
    assert_eq!(Slots::new(&data).active().unwrap(), Some(Slot::B));
    assert_eq!(active_version(&data), Some(2));
    capsule(&data, &["update", "status", "--json"]).unwrap();
    let status = Slots::new(&data).status().unwrap();
    assert!(status.iter().all(|s| s.problem.is_none()), "{status:?}");
    capsule(&data, &["update", "rollback"]).unwrap();
    assert_eq!(active_version(&data), Some(1));
    assert_eq!(Slots::new(&data).active().unwrap(), Some(Slot::A));
    capsule(&data, &["update", "rollback"]).unwrap();
    assert_eq!(active_version(&data), Some(2));

    // A downgrade goes through only when asked for.
    apply(&f.v1, &["--allow-downgrade"]).unwrap();
    assert_eq!(active_version(&data), Some(1));
    assert_eq!(Slots::new(&data).active().unwrap(), Some(Slot::A));
}
