//! End to end: a bundle with f32, int8 and f16-weight embedders is signed, flashed into a
//! directory (as onto a mounted SD card) and installed from there with `capsule update
//! apply`, which checks every variant's golden output in tract. A board whose profile asks
//! for int8 identifies pictures with the bundle's int8 embedder; an unsigned bundle is not
//! flashed.

use capsule_device::bundle::{MANIFEST_FILE, Manifest, ModelRole, Precision};
use std::path::Path;

fn host(args: &[&str]) -> anyhow::Result<()> {
    let mut all = vec!["capsule-host"];
    all.extend_from_slice(args);
    capsule_host::cli::run(all)
}

fn capsule(data: &Path, args: &[&str]) -> anyhow::Result<()> {
    let mut all = vec!["capsule", "--data-dir", s(data)];
    all.extend_from_slice(args);
    capsule_device::cli::run(all)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(tree(&path).into_iter().map(|(name, bytes)| {
                (
                    format!("{}/{name}", path.file_name().unwrap().to_string_lossy()),
                    bytes,
                )
            }));
        } else {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn variant_bundle_is_flashed_installed_and_run_at_the_boards_precision() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (data, run) = capsule_e2e::synth_and_train_embedder(root, &["--seed", "8"]);
    let bundle = root.join("bundle-v1");
    host(&[
        "bundle",
        "--embedder-run",
        s(&run),
        "--out",
        s(&bundle),
        "--version",
        "1",
        "--precisions",
        "int8,f16",
    ])
    .unwrap();
    let manifest =
        Manifest::from_bytes(&std::fs::read(bundle.join(MANIFEST_FILE)).unwrap()).unwrap();
    for precision in [Precision::F32, Precision::Int8, Precision::F16] {
        let m = manifest.model(ModelRole::Embedder, precision).unwrap();
        assert!(bundle.join(&m.file).is_file(), "{}", m.file);
    }
    let int8 = manifest
        .model(ModelRole::Embedder, Precision::Int8)
        .unwrap();
    assert!(
        int8.golden.tolerance > 1e-4 && int8.golden.tolerance < 0.05,
        "{int8:?}"
    );

    let sd = root.join("sdcard");
    let refused = host(&["flash", "--bundle", s(&bundle), "--to", s(&sd)]).unwrap_err();
    assert!(
        format!("{refused:#}").contains("not a signed bundle"),
        "{refused:#}"
    );
    let key = root.join("bundle.key");
    host(&["keygen", "--out", s(&key)]).unwrap();
    host(&["sign", "--bundle", s(&bundle), "--key", s(&key)]).unwrap();
    host(&["flash", "--bundle", s(&bundle), "--to", s(&sd)]).unwrap();
    let flashed = sd.join("bundle-v1");
    assert_eq!(tree(&flashed), tree(&bundle));
    // Flashing again replaces the copy whole, leaving no staging folders behind.
    host(&["flash", "--bundle", s(&bundle), "--to", s(&sd)]).unwrap();
    let names: Vec<_> = std::fs::read_dir(&sd)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["bundle-v1"]);

    let public = std::fs::read_to_string(capsule_host::bundle::public_path(&key)).unwrap();
    let device = root.join("device");
    capsule(
        &device,
        &[
            "update",
            "apply",
            s(&flashed),
            "--trusted-key",
            public.trim(),
        ],
    )
    .unwrap();

    // A board asking for int8 runs the int8 file; one asking for f16 gets the f16 file;
    // a bundle without the board's precision falls back to f32.
    let desktop = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards/desktop.toml"),
    )
    .unwrap();
    let picture = data.join("img/SYNTH");
    let picture = std::fs::read_dir(&picture)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let picture = std::fs::read_dir(&picture)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let picture = std::fs::read_dir(&picture)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for precision in ["int8", "f16", "f32"] {
        let board = root.join(format!("board-{precision}.toml"));
        std::fs::write(
            &board,
            desktop.replace(
                "precision = \"f32\"",
                &format!("precision = \"{precision}\""),
            ),
        )
        .unwrap();
        capsule(
            &device,
            &[
                "--board",
                s(&board),
                "identify",
                s(&picture),
                "--embedder",
                s(&flashed),
            ],
        )
        .unwrap_or_else(|e| panic!("{precision}: {e:#}"));
    }
    let not_a_bundle = root.join("empty");
    std::fs::create_dir_all(&not_a_bundle).unwrap();
    let err = capsule(
        &device,
        &["identify", s(&picture), "--embedder", s(&not_a_bundle)],
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("not a bundle"), "{err:#}");
}
