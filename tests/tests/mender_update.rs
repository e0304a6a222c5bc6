//! End to end through Mender: the shipped bundle `models/default`, re-signed with a test key
//! as versions 1 to 3, is wrapped into artifacts by `capsule-host flash --mender-artifact`,
//! checked by `mender-artifact validate` and `read`, and installed by the real Mender client
//! in standalone mode (`mender install`, then `commit` or `rollback`) through the update
//! module `boards/mender/capsule-bundle`, which hands each bundle to `capsule update apply`.
//! A tampered artifact, a tampered bundle in a well-formed artifact, a bundle signed with an
//! untrusted key and one failing its golden check are refused with the slots unchanged.
//!
//! Everything is written under a temp dir, so the test is safe as root. mender-client 3.4
//! looks for update modules only in /usr/share/mender/modules/v3 and reads
//! /etc/mender/artifact_info, so it runs in a private mount namespace (`unshare`) where temp
//! folders are bound over /usr/share/mender and /etc/mender; outside it nothing changes.

use capsule_device::bundle::NpyArray;
use capsule_e2e::{copy_dir, host, resign};
use capsule_host::bundle::{EMBEDDER_FILE, EMBEDDER_GOLDEN_OUT};
use capsule_host::flash::mender::{PAYLOAD_FILE, VERSION_PROVIDES, write_command};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEVICE_TYPE: &str = "capsule-test";
const CAPSULE: &str = env!("CARGO_BIN_EXE_capsule-cli");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `argv`, panicking with a hint when the program is missing: the Mender tools are a
/// requirement of this test, never a reason to skip it.
fn run(argv: &[&str]) -> Output {
    Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}. This test needs Debian's mender-artifact and \
                 mender-client (apt-get install mender-artifact mender-client; .ci/run \
                 installs them) and util-linux's unshare",
                argv[0]
            )
        })
}

/// `argv`'s standard output; it must succeed.
fn succeeds(argv: &[&str]) -> String {
    let out = run(argv);
    assert!(out.status.success(), "{argv:?} failed:\n{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn require_tools() {
    for tool in ["mender-artifact", "mender", "unshare"] {
        run(&[tool, "--version"]);
    }
}

/// The options of `unshare` that give a private mount namespace here: plain as root, in a
/// user namespace otherwise.
fn namespace() -> Vec<&'static str> {
    for flags in [
        vec!["--mount"],
        vec!["--user", "--map-root-user", "--mount"],
    ] {
        let mut argv = vec!["unshare"];
        argv.extend(&flags);
        argv.push("true");
        if run(&argv).status.success() {
            return flags;
        }
    }
    panic!(
        "`unshare --mount` and `unshare --user --map-root-user --mount` both failed: this test \
         runs mender-client in a private mount namespace (it finds update modules only under \
         /usr/share/mender); run it as root or where user namespaces are allowed"
    );
}

/// A board in temp folders: capsule's data dir and profile, the update module, and Mender's
/// data dir, configuration and device type.
struct Board {
    data: PathBuf,
    share: PathBuf,
    etc: PathBuf,
    mender_data: PathBuf,
    mender_conf: PathBuf,
    module_conf: PathBuf,
    namespace: Vec<&'static str>,
}

impl Board {
    fn new(root: &Path, trusted_key: &str) -> Self {
        let data = root.join("capsule-data");
        let board = root.join("board.toml");
        let desktop = std::fs::read_to_string(repo().join("boards/desktop.toml")).unwrap();
        let profile = desktop
            .replace(
                "data_dir = \"capsule-data\"",
                &format!("data_dir = {:?}", s(&data)),
            )
            .replace(
                "trusted_keys = []",
                &format!("trusted_keys = [{trusted_key:?}]"),
            );
        assert_ne!(profile, desktop);
        std::fs::write(&board, profile).unwrap();

        let share = root.join("usr-share-mender");
        let modules = share.join("modules/v3");
        std::fs::create_dir_all(&modules).unwrap();
        let module = modules.join("capsule-bundle");
        std::fs::copy(repo().join("boards/mender/capsule-bundle"), &module).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&module, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let module_conf = root.join("mender-module.conf");
        std::fs::write(
            &module_conf,
            format!(
                "CAPSULE='{CAPSULE}'\nCAPSULE_BOARD='{}'\nCAPSULE_DATA_DIR='{}'\n\
                 # No service to restart here, whatever the machine runs.\nCAPSULE_SERVICE=\n",
                s(&board),
                s(&data)
            ),
        )
        .unwrap();

        let etc = root.join("etc-mender");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("artifact_info"), "artifact_name=factory\n").unwrap();
        let mender_data = root.join("var-lib-mender");
        std::fs::create_dir_all(&mender_data).unwrap();
        let device_type = root.join("device_type");
        std::fs::write(&device_type, format!("device_type={DEVICE_TYPE}\n")).unwrap();
        let mender_conf = root.join("mender.conf");
        let conf = serde_json::json!({
            "DeviceTypeFile": s(&device_type),
            "DBus": { "Enabled": false },
        });
        std::fs::write(&mender_conf, conf.to_string()).unwrap();
        Board {
            data,
            share,
            etc,
            mender_data,
            mender_conf,
            module_conf,
            namespace: namespace(),
        }
    }

    /// `mender ARGS` with this board's folders bound over Mender's fixed paths.
    fn mender(&self, args: &[&str]) -> Output {
        let script = r#"mount --bind "$1" /usr/share/mender && mount --bind "$2" /etc/mender && shift 2 && exec mender "$@""#;
        let none = self.mender_conf.with_extension("fallback");
        let mut argv = vec!["unshare"];
        argv.extend(&self.namespace);
        argv.extend(["sh", "-c", script, "sh", s(&self.share), s(&self.etc)]);
        argv.extend([
            "--config",
            s(&self.mender_conf),
            "--fallback-config",
            s(&none),
            "--data",
            s(&self.mender_data),
            "--no-syslog",
        ]);
        argv.extend(args);
        Command::new(argv[0])
            .args(&argv[1..])
            .env("CAPSULE_MODULE_CONF", &self.module_conf)
            .output()
            .unwrap()
    }

    fn mender_ok(&self, args: &[&str]) -> String {
        let out = self.mender(args);
        assert!(out.status.success(), "mender {args:?}:\n{}", text(&out));
        text(&out)
    }

    fn mender_refuses(&self, artifact: &Path, expect: &str) {
        let out = self.mender(&["install", s(artifact)]);
        let log = text(&out);
        println!("{}: {log}", artifact.display());
        assert!(
            !out.status.success(),
            "{} was installed:\n{log}",
            artifact.display()
        );
        assert!(
            log.contains(expect),
            "{}: no {expect:?} in\n{log}",
            artifact.display()
        );
    }

    /// The slots of `capsule update status --json`, as the board's capsule prints it.
    fn status(&self) -> Vec<Value> {
        let out = succeeds(&[
            CAPSULE,
            "--data-dir",
            s(&self.data),
            "update",
            "status",
            "--json",
        ]);
        let status: Value = serde_json::from_str(&out).unwrap();
        status["slots"].as_array().unwrap().clone()
    }

    /// The active slot and what each slot holds, from [`Board::status`].
    fn slots(&self) -> (String, Option<u64>, Option<u64>) {
        let status = self.status();
        let active = status
            .iter()
            .find(|s| s["active"] == true)
            .map_or("none".into(), |s| s["slot"].as_str().unwrap().to_string());
        let version = |slot: &str| {
            status
                .iter()
                .find(|s| s["slot"] == slot)
                .and_then(|s| s["bundle_version"].as_u64())
        };
        (active, version("a"), version("b"))
    }

    /// The bundle version Mender's database says the board has.
    fn provided_version(&self) -> Option<String> {
        self.mender_ok(&["show-provides"])
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{VERSION_PROVIDES}=")))
            .map(str::to_string)
    }
}

/// The shipped bundle, re-signed by `key` as `version`.
fn shipped_bundle(root: &Path, name: &str, version: u64, key: &Path) -> PathBuf {
    let dir = root.join(name);
    copy_dir(&repo().join("models/default"), &dir);
    resign(&dir, key, |m| m["bundle_version"] = version.into());
    dir
}

fn artifact(root: &Path, bundle: &Path) -> PathBuf {
    let out = root.join(format!(
        "artifacts/{}.mender",
        bundle.file_name().unwrap().to_string_lossy()
    ));
    host(&[
        "flash",
        "--bundle",
        s(bundle),
        "--mender-artifact",
        s(&out),
        "--device-type",
        DEVICE_TYPE,
    ]);
    out
}

#[test]
fn bundles_go_through_mender_and_capsule_stays_the_judge() {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let key = root.join("keys/test.key");
    let untrusted = root.join("keys/untrusted.key");
    host(&["keygen", "--out", s(&key)]);
    host(&["keygen", "--out", s(&untrusted)]);
    let public = std::fs::read_to_string(capsule_host::bundle::public_path(&key)).unwrap();

    let v1 = artifact(root, &shipped_bundle(root, "bundle-v1", 1, &key));
    let v2 = artifact(root, &shipped_bundle(root, "bundle-v2", 2, &key));
    let v3 = artifact(root, &shipped_bundle(root, "bundle-v3", 3, &key));

    // What Mender's own tool makes of the artifact.
    succeeds(&["mender-artifact", "validate", s(&v1)]);
    let read = succeeds(&["mender-artifact", "read", s(&v1)]);
    let has_line = |words: &[&str]| {
        read.lines()
            .any(|l| l.split_whitespace().eq(words.iter().copied()))
    };
    assert!(has_line(&["Name:", "capsule-bundle-v1"]), "{read}");
    assert!(has_line(&["Type:", "capsule-bundle"]), "{read}");
    assert!(has_line(&[&format!("{VERSION_PROVIDES}:"), "1"]), "{read}");
    assert!(has_line(&["name:", PAYLOAD_FILE]), "{read}");
    assert!(read.contains(DEVICE_TYPE), "{read}");

    let board = Board::new(root, public.trim());
    assert_eq!(board.slots(), ("none".into(), None, None));

    // The first bundle: nothing to roll back to, so Mender commits it at once.
    board.mender_ok(&["install", s(&v1)]);
    assert_eq!(board.slots(), ("a".into(), Some(1), None));
    assert_eq!(board.provided_version().as_deref(), Some("1"));

    // An update is installed into the other slot, then committed.
    let log = board.mender_ok(&["install", s(&v2)]);
    assert!(log.contains("commit"), "{log}");
    assert_eq!(board.slots(), ("b".into(), Some(1), Some(2)));
    board.mender_ok(&["commit"]);
    assert_eq!(board.slots(), ("b".into(), Some(1), Some(2)));
    assert_eq!(board.provided_version().as_deref(), Some("2"));

    // The next one is installed, then rolled back: the board runs bundle 2 again.
    board.mender_ok(&["install", s(&v3)]);
    assert_eq!(board.slots(), ("a".into(), Some(3), Some(2)));
    board.mender_ok(&["rollback"]);
    assert_eq!(board.slots(), ("b".into(), Some(3), Some(2)));
    assert_eq!(board.provided_version().as_deref(), Some("2"));
    let before = board.status();

    // Bytes changed in the artifact: Mender's checksums catch it.
    let tampered = root.join("artifacts/tampered.mender");
    let mut bytes = std::fs::read(&v3).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&tampered, bytes).unwrap();
    assert!(
        !run(&["mender-artifact", "validate", s(&tampered)])
            .status
            .success()
    );
    board.mender_refuses(&tampered, "invalid checksum");
    assert_eq!(
        board.status(),
        before,
        "a tampered artifact changed the slots"
    );

    // A model changed after signing, in an artifact whose own checksums are right (as
    // anyone can write one): capsule's hashes catch it.
    let bundle = shipped_bundle(root, "bundle-v4-tampered", 4, &key);
    let mut onnx = std::fs::read(bundle.join(EMBEDDER_FILE)).unwrap();
    let last = onnx.len() - 1;
    onnx[last] ^= 0x55;
    std::fs::write(bundle.join(EMBEDDER_FILE), onnx).unwrap();
    let staging = root.join("raw-artifact");
    std::fs::create_dir_all(&staging).unwrap();
    let tar = staging.join(PAYLOAD_FILE);
    succeeds(&["tar", "-C", s(&bundle), "-cf", s(&tar), "."]);
    let raw = root.join("artifacts/tampered-bundle.mender");
    let argv = write_command(
        "mender-artifact",
        &tar,
        &raw,
        "capsule-bundle-v4",
        4,
        &[DEVICE_TYPE.into()],
    );
    succeeds(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    succeeds(&["mender-artifact", "validate", s(&raw)]);
    board.mender_refuses(&raw, "sha256");
    assert_eq!(
        board.status(),
        before,
        "a tampered bundle changed the slots"
    );

    // Signed, but not with a key the board trusts.
    let foreign = artifact(
        root,
        &shipped_bundle(root, "bundle-v4-untrusted", 4, &untrusted),
    );
    board.mender_refuses(&foreign, "does not verify");
    assert_eq!(
        board.status(),
        before,
        "an untrusted bundle changed the slots"
    );

    // Signed by the trusted key, but its models do not reproduce their golden outputs: the
    // deployment fails with capsule's reason, and the board keeps running bundle 2.
    let bundle = shipped_bundle(root, "bundle-v4-golden", 4, &key);
    let golden = bundle.join(EMBEDDER_GOLDEN_OUT);
    let mut out = NpyArray::read(&golden).unwrap();
    out.data[0] += 0.01;
    std::fs::write(&golden, out.to_bytes()).unwrap();
    board.mender_refuses(&artifact(root, &bundle), "golden check failed");
    let (active, _, b) = board.slots();
    assert_eq!((active.as_str(), b), ("b", Some(2)));
    assert_eq!(board.provided_version().as_deref(), Some("2"));
    let name = board.mender(&["show-artifact"]).stdout;
    assert_eq!(String::from_utf8_lossy(&name).trim(), "capsule-bundle-v2");
}
