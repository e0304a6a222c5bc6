//! Crash consistency: the real `capsule` binary runs `wardrobe add`, `feedback` and
//! `update apply`, and is killed with SIGKILL at a random point of each run. After every
//! kill: the store opens; every write acknowledged (the command exited 0) is still there;
//! the active bundle verifies (signature, hashes) and reproduces its golden output.
//!
//! CI runs 20 iterations of each command; the full run is
//! `CAPSULE_CRASH_ITERATIONS=1000 cargo test --release -p capsule-device --test crash_consistency -- --nocapture`
//! (`CAPSULE_CRASH_SEED` picks the kill points; results in docs/reliability.md).

mod common;

use capsule_device::bundle::signature::parse_public_key;
use capsule_device::bundle::verify_signed;
use capsule_device::update::slots::Slots;
use capsule_device::wardrobe::{EdgeProvenance, GarmentId, WardrobeStore};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: kill points reproducible from a seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Add,
    Feedback,
    Update,
}

/// What the harness knows has been acknowledged, and what an unacknowledged (killed) run
/// may or may not have done.
#[derive(Default)]
struct Ledger {
    garments: BTreeSet<String>,
    /// Per pair: the provenances the stored edge may have (the last acknowledged verdict
    /// plus any verdict tried after it whose run was killed).
    edges: BTreeMap<(u64, u64), BTreeSet<&'static str>>,
    acked_version: u64,
}

#[derive(Default, Debug)]
struct Tally {
    runs: u64,
    killed_mid_run: u64,
    acknowledged: u64,
    failed: u64,
}

/// Runs `args`, killing it after `delay` if it is still running; true when it exited 0.
fn run_and_kill(data: &Path, args: &[&str], delay: Duration, tally: &mut Tally) -> bool {
    let mut child = common::capsule(data, args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + delay;
    tally.runs += 1;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            if status.success() {
                tally.acknowledged += 1;
            } else {
                let mut err = String::new();
                use std::io::Read;
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                tally.failed += 1;
                eprintln!("capsule {args:?} failed (not killed): {err}");
            }
            return status.success();
        }
        if Instant::now() >= deadline {
            // SIGKILL: no destructor, no flush, no atexit.
            child.kill().unwrap();
            child.wait().unwrap();
            tally.killed_mid_run += 1;
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Everything that must hold after a kill.
fn check(data: &Path, ledger: &Ledger, iteration: u64) {
    let at = format!("after iteration {iteration}");
    let store = WardrobeStore::open(data).unwrap_or_else(|e| panic!("{at}: store: {e}"));
    let names: BTreeSet<String> = store
        .garments()
        .unwrap_or_else(|e| panic!("{at}: garments: {e}"))
        .into_iter()
        .map(|g| g.name)
        .collect();
    let lost: Vec<_> = ledger.garments.difference(&names).collect();
    assert!(
        lost.is_empty(),
        "{at}: acknowledged garments lost: {lost:?}"
    );
    let edges: BTreeMap<(u64, u64), EdgeProvenance> = store
        .edges()
        .unwrap_or_else(|e| panic!("{at}: edges: {e}"))
        .into_iter()
        .map(|e| ((e.a.0, e.b.0), e.provenance))
        .collect();
    for (pair, allowed) in &ledger.edges {
        let stored = edges.get(pair).map(|p| provenance_name(*p));
        assert!(
            stored.is_some_and(|p| allowed.contains(p)),
            "{at}: edge {pair:?} is {stored:?}, expected one of {allowed:?}"
        );
    }
    drop(store);

    let slots = Slots::new(data);
    match slots.active_bundle() {
        Ok(Some(bundle)) => {
            assert!(
                bundle.manifest.bundle_version >= ledger.acked_version,
                "{at}: active bundle {} is older than the acknowledged {}",
                bundle.manifest.bundle_version,
                ledger.acked_version
            );
            let trusted = [parse_public_key(&common::public_key(), "test key").unwrap()];
            let verified = verify_signed(&bundle.dir, &trusted)
                .unwrap_or_else(|e| panic!("{at}: active bundle does not verify: {e}"));
            capsule_device::engine::check_bundle(&verified, 1)
                .unwrap_or_else(|e| panic!("{at}: active bundle does not run: {e}"));
        }
        Ok(None) => assert_eq!(ledger.acked_version, 0, "{at}: acknowledged bundle gone"),
        Err(e) => panic!("{at}: active slot: {e}"),
    }
}

fn provenance_name(p: EdgeProvenance) -> &'static str {
    match p {
        EdgeProvenance::Imported => "imported",
        EdgeProvenance::Accepted => "accepted",
        EdgeProvenance::Rejected => "rejected",
        EdgeProvenance::Worn => "worn",
    }
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_write() {
    let iterations = env_or("CAPSULE_CRASH_ITERATIONS", 20);
    let mut rng = Rng(env_or("CAPSULE_CRASH_SEED", 0x9E37_79B9_7F4A_7C15) | 1);
    let tmp = tempfile::tempdir().unwrap();
    let (data, bundles) = (tmp.path().join("data"), tmp.path().join("bundles"));
    let model_dir = tmp.path().join("model");
    common::write_bundle(&model_dir, 1);
    let model = model_dir.join(common::EMBEDDER_FILE).display().to_string();
    let pictures: Vec<String> = (0..4)
        .map(|i| {
            let p = tmp.path().join(format!("pictures/{i}.png"));
            common::write_picture(&p, i);
            p.display().to_string()
        })
        .collect();
    let key = common::public_key();
    let mut ledger = Ledger::default();
    let mut tally: BTreeMap<Op, Tally> = BTreeMap::new();
    // How long each command takes unkilled, measured on its first run; kill points are
    // drawn from 0 to 120 % of that.
    let mut durations: BTreeMap<Op, Duration> = BTreeMap::new();
    let mut next_version = 1u64;

    for i in 0..iterations * 3 {
        let op = [Op::Add, Op::Feedback, Op::Update][(i % 3) as usize];
        let ids: Vec<GarmentId> = WardrobeStore::open(&data)
            .and_then(|s| s.garment_ids())
            .unwrap();
        let name = format!("garment-{i}");
        let bundle = bundles.join(format!("v{next_version}"));
        let verdict = if rng.below(2) == 0 {
            "accept"
        } else {
            "reject"
        };
        let outfit;
        let args: Vec<&str> = match op {
            Op::Add => vec![
                "wardrobe",
                "add",
                &pictures[(i as usize / 3) % pictures.len()],
                "--type",
                "top",
                "--name",
                &name,
                "--embedder",
                &model,
            ],
            Op::Feedback if ids.len() >= 2 => {
                let a = ids[rng.below(ids.len() as u64) as usize];
                let mut b = ids[rng.below(ids.len() as u64) as usize];
                if a == b {
                    b = ids[(ids.iter().position(|&x| x == a).unwrap() + 1) % ids.len()];
                }
                outfit = format!("{a}+{b}");
                vec!["feedback", verdict, &outfit]
            }
            Op::Feedback => continue,
            Op::Update => {
                if !bundle.exists() {
                    common::write_bundle(&bundle, next_version);
                }
                vec![
                    "update",
                    "apply",
                    bundle.to_str().unwrap(),
                    "--trusted-key",
                    &key,
                ]
            }
        };
        let delay = match durations.get(&op) {
            Some(d) => Duration::from_micros(rng.below(d.as_micros() as u64 * 6 / 5)),
            None => Duration::from_secs(600),
        };
        let started = Instant::now();
        let t = tally.entry(op).or_default();
        let acked = run_and_kill(&data, &args, delay, t);
        durations.entry(op).or_insert_with(|| started.elapsed());
        match op {
            Op::Add if acked => {
                ledger.garments.insert(name.clone());
            }
            Op::Feedback => {
                let pair = {
                    let ids: Vec<u64> = args[2]
                        .split('+')
                        .map(|g| g.trim_start_matches('g').parse().unwrap())
                        .collect();
                    (ids[0].min(ids[1]), ids[0].max(ids[1]))
                };
                let provenance = if verdict == "accept" {
                    "accepted"
                } else {
                    "rejected"
                };
                let allowed = ledger.edges.entry(pair).or_default();
                if acked {
                    allowed.clear();
                }
                allowed.insert(provenance);
                if !acked && allowed.len() == 1 {
                    // Never acknowledged: the pair may also have no edge at all.
                    ledger.edges.remove(&pair);
                }
            }
            Op::Update if acked => ledger.acked_version = next_version,
            _ => {}
        }
        check(&data, &ledger, i);
        if op == Op::Update {
            let active = Slots::new(&data)
                .active_bundle()
                .unwrap()
                .map_or(0, |b| b.manifest.bundle_version);
            next_version = active.max(ledger.acked_version) + 1;
        }
    }
    for (op, t) in &tally {
        eprintln!(
            "crash consistency {op:?}: {} runs, {} killed mid-run, {} acknowledged, {} failed; \
             0 acknowledged writes lost",
            t.runs, t.killed_mid_run, t.acknowledged, t.failed
        );
    }
    for t in tally.values() {
        assert_eq!(t.failed, 0, "a command failed without being killed");
        assert!(
            t.acknowledged >= 1,
            "no run of a command completed: {tally:?}"
        );
    }
    if iterations >= 10 {
        assert!(
            tally.values().map(|t| t.killed_mid_run).sum::<u64>() > 0,
            "no run was killed: the harness tested nothing"
        );
    }
}
