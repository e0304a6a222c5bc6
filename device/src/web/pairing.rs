//! Pairing a phone, as TVs do it: the mirror shows a 6-digit code, the phone sends it once
//! and gets a long random token back. Only the token's sha256 is kept on the board (in
//! `DATA_DIR/web-tokens.json`, written durably), so reading that file does not let anyone
//! in; deleting an entry (`capsule pairing revoke`, or the system page) locks that phone
//! out at its next request.
//!
//! Guessing is bounded: a code lives [`CODE_LIFETIME`], takes [`TRIES_PER_CODE`] wrong
//! tries before it is thrown away (the owner must ask for a new one), and tries are at least
//! [`MIN_GAP`] apart whoever sends them.

use crate::contract::now_unix;
use crate::fsutil::{AtomicWriteError, write_atomic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The paired phones' file inside the data directory.
pub const TOKENS_FILE: &str = "web-tokens.json";
/// How long a pairing code shown on the mirror can be used.
pub const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// Wrong codes accepted before the code is thrown away.
pub const TRIES_PER_CODE: u32 = 5;
/// Shortest time between two pairing tries, from anyone.
pub const MIN_GAP: Duration = Duration::from_secs(1);
/// Longest device name a phone may give itself.
const MAX_DEVICE_NAME: usize = 60;

/// A paired phone as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedDevice {
    /// Short handle for revoking (the first hex digits of the token's hash).
    pub id: String,
    pub name: String,
    pub paired_unix: u64,
    /// Lower-case hex sha256 of the token.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub token_sha256: String,
}

impl PairedDevice {
    /// The device as shown to a client: its hash left out.
    pub fn public(&self) -> PairedDevice {
        PairedDevice {
            token_sha256: String::new(),
            ..self.clone()
        }
    }
}

/// The token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("reading the paired phones in {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a list of paired phones (delete it to unpair every phone)")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("writing the paired phones")]
    Write(#[from] AtomicWriteError),
    #[error("setting the mode of {path}")]
    Mode {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the operating system gave no random bytes")]
    Random(#[source] getrandom::Error),
}

/// The paired phones of one data directory.
#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(TOKENS_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The paired phones; none when the file does not exist.
    pub fn load(&self) -> Result<Vec<PairedDevice>, TokenStoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(TokenStoreError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes).map_err(|source| TokenStoreError::Parse {
            path: self.path.clone(),
            source,
        })
    }

    fn save(&self, devices: &[PairedDevice]) -> Result<(), TokenStoreError> {
        // Serialising plain strings and numbers cannot fail.
        let mut bytes = serde_json::to_vec_pretty(devices).unwrap_or_default();
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes)?;
        // The hashes do not let anyone in, but who is paired is the owner's business.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| TokenStoreError::Mode {
                path: self.path.clone(),
                source,
            },
        )
    }

    /// Pairs a phone called `name`: returns it and its token, which is not kept.
    pub fn add(&self, name: &str) -> Result<(PairedDevice, String), TokenStoreError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(TokenStoreError::Random)?;
        let token = hex::encode(secret);
        let hash = token_hash(&token);
        let device = PairedDevice {
            id: hash[..12].to_string(),
            name: device_name(name),
            paired_unix: now_unix(),
            token_sha256: hash,
        };
        let mut devices = self.load()?;
        devices.push(device.clone());
        self.save(&devices)?;
        Ok((device, token))
    }

    /// Unpairs the phone `id` (or every phone, for `None`); returns how many went.
    pub fn revoke(&self, id: Option<&str>) -> Result<usize, TokenStoreError> {
        let mut devices = self.load()?;
        let before = devices.len();
        devices.retain(|d| id.is_some_and(|id| d.id != id));
        let gone = before - devices.len();
        if gone > 0 {
            self.save(&devices)?;
        }
        Ok(gone)
    }
}

/// A phone's name as stored: printable, trimmed, short; "phone" when it gave none.
fn device_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DEVICE_NAME)
        .collect();
    match clean.trim() {
        "" => "phone".into(),
        t => t.to_string(),
    }
}

/// Lower-case hex sha256 of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal without an early exit, so timing does not tell how much of a hash matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A pairing try that did not pair.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error("no pairing code is shown on the mirror: ask for one first")]
    NoCode,
    #[error("wrong code; {tries_left} tries left before the mirror shows a new one")]
    Wrong { tries_left: u32 },
    #[error("wrong code too often: ask the mirror for a new one")]
    Exhausted,
    #[error("too many pairing tries: wait a second")]
    TooSoon,
    #[error(transparent)]
    Store(#[from] TokenStoreError),
}

#[derive(Debug)]
struct ActiveCode {
    digits: String,
    until: Instant,
    tries_left: u32,
}

/// What a token file held when last read, to notice a revoke from another process.
#[derive(Debug, Default)]
struct Cached {
    /// (inode, modification time, length) of the file read; `None` when it did not exist.
    stamp: Option<(u64, i64, i64, u64)>,
    hashes: Vec<String>,
    read: bool,
}

#[derive(Debug, Default)]
struct State {
    code: Option<ActiveCode>,
    last_try: Option<Instant>,
    cached: Cached,
}

/// Pairing codes and token checks for the web app; shared between its handlers and the
/// frame loop (which shows the code).
#[derive(Debug)]
pub struct Pairing {
    store: TokenStore,
    state: Mutex<State>,
}

impl Pairing {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            store: TokenStore::new(data_dir),
            state: Mutex::new(State::default()),
        }
    }

    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data behind; carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shows a code on the mirror (the one already shown, while it lasts); returns how long
    /// it lasts.
    pub fn start(&self) -> Result<Duration, TokenStoreError> {
        let mut state = self.state();
        let now = Instant::now();
        if let Some(code) = &state.code
            && code.until > now
        {
            return Ok(code.until - now);
        }
        let digits = random_code()?;
        eprintln!("pairing code for the web app: {digits}");
        state.code = Some(ActiveCode {
            digits,
            until: now + CODE_LIFETIME,
            tries_left: TRIES_PER_CODE,
        });
        Ok(CODE_LIFETIME)
    }

    /// The code the mirror should show now, if any.
    pub fn shown_code(&self) -> Option<String> {
        let mut state = self.state();
        match &state.code {
            Some(code) if code.until > Instant::now() => Some(code.digits.clone()),
            Some(_) => {
                state.code = None;
                None
            }
            None => None,
        }
    }

    /// Pairs the phone that sent `code`, calling it `name`.
    pub fn pair(&self, code: &str, name: &str) -> Result<(PairedDevice, String), PairError> {
        let mut state = self.state();
        let now = Instant::now();
        if state
            .last_try
            .is_some_and(|t| now.duration_since(t) < MIN_GAP)
        {
            return Err(PairError::TooSoon);
        }
        state.last_try = Some(now);
        let Some(active) = state.code.as_mut().filter(|c| c.until > now) else {
            state.code = None;
            return Err(PairError::NoCode);
        };
        if !same(active.digits.as_bytes(), code.trim().as_bytes()) {
            active.tries_left -= 1;
            let tries_left = active.tries_left;
            if tries_left == 0 {
                state.code = None;
                return Err(PairError::Exhausted);
            }
            return Err(PairError::Wrong { tries_left });
        }
        state.code = None;
        Ok(self.store.add(name)?)
    }

    /// Whether `token` belongs to a paired phone. The file is read again when it changed,
    /// so a revoke from the command line counts at once.
    pub fn check(&self, token: &str) -> Result<bool, TokenStoreError> {
        let mut state = self.state();
        let stamp = std::fs::metadata(self.store.path())
            .ok()
            .map(|m| (m.ino(), m.mtime(), m.mtime_nsec(), m.len()));
        if !state.cached.read || state.cached.stamp != stamp {
            let devices = self.store.load()?;
            state.cached = Cached {
                stamp,
                hashes: devices.into_iter().map(|d| d.token_sha256).collect(),
                read: true,
            };
        }
        let hash = token_hash(token);
        Ok(state
            .cached
            .hashes
            .iter()
            .any(|h| same(h.as_bytes(), hash.as_bytes())))
    }
}

/// Six random digits from the OS, uniformly drawn.
fn random_code() -> Result<String, TokenStoreError> {
    // The largest multiple of a million below 2^32: values above it would favour low codes.
    const LIMIT: u32 = u32::MAX - u32::MAX % 1_000_000;
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(TokenStoreError::Random)?;
        let value = u32::from_le_bytes(bytes);
        if value < LIMIT {
            return Ok(format!("{:06}", value % 1_000_000));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrong(code: &str) -> String {
        let n: u32 = code.parse().unwrap();
        format!("{:06}", (n + 1) % 1_000_000)
    }

    #[test]
    fn a_shown_code_pairs_once_and_only_the_hash_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let pairing = Pairing::new(dir.path());
        assert!(matches!(
            pairing.pair("123456", "x"),
            Err(PairError::NoCode)
        ));
        std::thread::sleep(MIN_GAP);
        pairing.start().unwrap();
        let code = pairing.shown_code().unwrap();
        assert_eq!(code.len(), 6);
        let (device, token) = pairing.pair(&code, "Ann's phone\u{7}").unwrap();
        assert_eq!(device.name, "Ann's phone");
        assert_eq!(token.len(), 64);
        assert!(pairing.shown_code().is_none(), "a code pairs one phone");
        assert!(pairing.check(&token).unwrap());
        let mut other = token.clone();
        other.replace_range(63.., if token.ends_with('0') { "1" } else { "0" });
        assert!(
            !pairing.check(&other).unwrap(),
            "one digit off is another token"
        );
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&token), "the token itself is never stored");
        assert!(stored.contains(&token_hash(&token)));
        let mode = std::fs::metadata(dir.path().join(TOKENS_FILE))
            .unwrap()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        // Revoked from another process (a new store over the same file): locked out at once.
        assert_eq!(
            TokenStore::new(dir.path())
                .revoke(Some(&device.id))
                .unwrap(),
            1
        );
        assert!(!pairing.check(&token).unwrap());
    }

    #[test]
    fn wrong_codes_are_slowed_down_and_use_the_code_up() {
        let dir = tempfile::tempdir().unwrap();
        let pairing = Pairing::new(dir.path());
        pairing.start().unwrap();
        let code = pairing.shown_code().unwrap();
        assert!(matches!(
            pairing.pair(&wrong(&code), ""),
            Err(PairError::Wrong { tries_left: 4 })
        ));
        assert!(
            matches!(pairing.pair(&code, ""), Err(PairError::TooSoon)),
            "even the right code waits its turn"
        );
        for left in (1..4).rev() {
            std::thread::sleep(MIN_GAP);
            assert!(matches!(
                pairing.pair(&wrong(&code), ""),
                Err(PairError::Wrong { tries_left }) if tries_left == left
            ));
        }
        std::thread::sleep(MIN_GAP);
        assert!(matches!(
            pairing.pair(&wrong(&code), ""),
            Err(PairError::Exhausted)
        ));
        std::thread::sleep(MIN_GAP);
        assert!(
            matches!(pairing.pair(&code, ""), Err(PairError::NoCode)),
            "the used-up code no longer pairs"
        );
        assert!(TokenStore::new(dir.path()).load().unwrap().is_empty());
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> =
            (0..20).map(|_| random_code().unwrap()).collect();
        assert!(codes.len() > 15);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
    }
}
