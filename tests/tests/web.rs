//! The web app `capsule run --serve` serves, end to end: the real `capsule` program on a
//! loopback port with a slideshow camera, the shipped bundle and the demo wardrobe. The API
//! is driven over plain HTTP (tokens, limits, bad bodies, a burst of concurrent calls while
//! the frame loop runs) and the pages in headless Chromium (tests/web/browser.py).

use capsule_device::web::api::MAX_UPLOAD;
use capsule_device::web::routes::ROUTES;
use capsule_e2e::{capsule, install_demo};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CAPSULE: &str = env!("CARGO_BIN_EXE_capsule-cli");

fn photo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo-wardrobe/camera.jpg")
}

/// A running `capsule run --serve 127.0.0.1:0` over a demo data directory; stopped when
/// dropped.
struct Served {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    data: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Served {
    fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let data = install_demo(tmp.path());
        let frames = tmp.path().join("frames");
        std::fs::create_dir_all(&frames).unwrap();
        std::fs::copy(photo(), frames.join("camera.jpg")).unwrap();
        let log = tmp.path().join("capsule.log");
        let child = Command::new(CAPSULE)
            .arg("--data-dir")
            .arg(&data)
            .args(["run", "--repeat", "--serve", "127.0.0.1:0", "--source"])
            .arg(&frames)
            .arg("--screen")
            .arg(tmp.path().join("screen.png"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = text.split("web app on http://").nth(1) {
                break rest.split('/').next().unwrap().parse().unwrap();
            }
            assert!(Instant::now() < deadline, "capsule did not serve: {text}");
            std::thread::sleep(Duration::from_millis(100));
        };
        Self {
            child,
            addr,
            log,
            data,
            _tmp: tmp,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Pairs as a phone would, with the code the mirror printed; returns the token.
    fn pair(&self) -> String {
        assert_eq!(call(self.addr, "POST", "/api/pair/start", None, b"").0, 200);
        // The code shown now is the last one printed (a code lasts a few minutes).
        let code = self.codes().pop().expect("a code is printed");
        // Tries are at least a second apart, from anyone.
        std::thread::sleep(Duration::from_millis(1100));
        let body = serde_json::json!({ "code": code, "name": "test" }).to_string();
        let (status, reply) = call(self.addr, "POST", "/api/pair", None, body.as_bytes());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        json(&reply)["token"].as_str().unwrap().to_string()
    }

    fn codes(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("pairing code for the web app: "))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection; returns the status and body.
fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, Vec<u8>) {
    request(addr, method, path, token, body, body.len())
}

/// [`call`] that declares `length` bytes of body (which may be more than it sends).
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
    length: usize,
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (and close) before it reads a body it refuses.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer to {method} {path}: {answer:?}"));
    let head = String::from_utf8_lossy(&answer[..text_end]);
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut rest = answer[text_end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        rest = unchunk(&rest);
    }
    (status, rest)
}

fn unchunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = bytes.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&bytes[..end]).unwrap(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&bytes[end + 2..end + 2 + size]);
        bytes = &bytes[end + 4 + size..];
    }
    out
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn garments(served: &Served, token: &str) -> Vec<Value> {
    let (status, body) = call(served.addr, "GET", "/api/garments", Some(token), b"");
    assert_eq!(status, 200);
    json(&body)["garments"].as_array().unwrap().clone()
}

#[test]
fn the_api_needs_a_token_limits_uploads_explains_bad_bodies_and_takes_a_burst() {
    let served = Served::start();
    let addr = served.addr;

    // Every route that needs a token refuses a missing or unknown one, before any work.
    for route in ROUTES.iter().filter(|r| r.paired) {
        let path = route.path.replace("{id}", "g1");
        for token in [None, Some("0123456789abcdef")] {
            let (status, body) = call(addr, route.method, &path, token, b"{}");
            assert_eq!(status, 401, "{} {path} with {token:?}", route.method);
            assert!(json(&body)["error"].as_str().unwrap().contains("pair"));
        }
    }
    // A wrong pairing code is refused and counted.
    assert_eq!(call(addr, "POST", "/api/pair/start", None, b"").0, 200);
    std::thread::sleep(Duration::from_millis(1100));
    let (status, body) = call(addr, "POST", "/api/pair", None, br#"{"code": "abcdef"}"#);
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .contains("4 tries left")
    );
    let (status, _) = call(addr, "POST", "/api/pair", None, br#"{"code": "abcdef"}"#);
    assert_eq!(status, 429, "tries are rate-limited");
    let token = served.pair();
    let before = garments(&served, &token);
    assert_eq!(before.len(), 40, "the demo wardrobe");

    // Over the size limit: 413 before the body is read; nothing written.
    let (status, body) = request(
        addr,
        "POST",
        "/api/garments?type=top&name=huge",
        Some(&token),
        &[0; 4096],
        MAX_UPLOAD + 1,
    );
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    // Under the byte limit but over the camera's pixel limit: 413 too.
    let mut png = Vec::new();
    image::RgbImage::new(4000, 2200)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert!(png.len() < MAX_UPLOAD);
    let (status, body) = call(
        addr,
        "POST",
        "/api/garments?type=top&name=wide",
        Some(&token),
        &png,
    );
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert!(json(&body)["error"].as_str().unwrap().contains("pixel"));
    // Not a picture at all: 400 saying so.
    let (status, body) = call(
        addr,
        "POST",
        "/api/garments?type=top&name=text",
        Some(&token),
        b"hello",
    );
    assert_eq!(status, 400);
    assert!(json(&body)["error"].as_str().unwrap().contains("picture"));
    assert_eq!(garments(&served, &token).len(), 40, "nothing was written");

    // Malformed JSON: 400 with serde's message; a bad value says which field.
    let (status, body) = call(
        addr,
        "PUT",
        "/api/garments/g1/status",
        Some(&token),
        b"{\"status\": ",
    );
    assert_eq!(status, 400);
    assert!(json(&body)["error"].as_str().unwrap().contains("JSON"));
    let (status, body) = call(
        addr,
        "PUT",
        "/api/garments/g1/status",
        Some(&token),
        br#"{"status": "lost"}"#,
    );
    assert_eq!(status, 400);
    assert!(json(&body)["error"].as_str().unwrap().contains("lost"));
    let (status, _) = call(addr, "GET", "/api/garments/g999", Some(&token), b"");
    assert_eq!(status, 404);
    // A path never reaches the file system: ids are numbers, and other paths are 404s.
    let (status, _) = call(
        addr,
        "GET",
        "/api/garments/..%2F..%2Fetc/thumbnail",
        Some(&token),
        b"",
    );
    assert_eq!(status, 400);
    let (status, _) = call(addr, "GET", "/../../etc/passwd", None, b"");
    assert_eq!(status, 404);

    // 200 calls at once while the frame loop runs: every one answered, every write kept.
    let ids: Vec<String> = before
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    let renames = ids.len();
    let started = Instant::now();
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let (token, id) = (token.clone(), ids[i % ids.len()].clone());
            std::thread::spawn(move || {
                if i < renames {
                    let body = serde_json::json!({ "name": format!("renamed {id}") }).to_string();
                    let path = format!("/api/garments/{id}/name");
                    call(addr, "PUT", &path, Some(&token), body.as_bytes())
                } else {
                    call(addr, "GET", "/api/garments", Some(&token), b"")
                }
            })
        })
        .collect();
    for (i, c) in calls.into_iter().enumerate() {
        let (status, body) = c.join().unwrap();
        assert_eq!(status, 200, "call {i}: {}", String::from_utf8_lossy(&body));
    }
    eprintln!("200 concurrent calls answered in {:?}", started.elapsed());
    for g in garments(&served, &token) {
        let id = g["id"].as_str().unwrap();
        assert_eq!(g["name"], format!("renamed {id}"), "{g}");
    }
    // The frame loop kept running meanwhile and served the live view.
    let (status, jpeg) = call(addr, "GET", "/api/live.jpg", Some(&token), b"");
    assert_eq!(status, 200);
    assert!(image::load_from_memory(&jpeg).is_ok());

    // Revoked from the mirror's command line: locked out at the next call.
    let listed = capsule(&served.data, &["pairing", "list", "--json"]);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let id = listed["devices"][0]["id"].as_str().unwrap().to_string();
    capsule(&served.data, &["pairing", "revoke", &id]);
    assert_eq!(call(addr, "GET", "/api/garments", Some(&token), b"").0, 401);
}

/// Whether `program` runs here.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn in_a_browser_a_phone_pairs_adds_a_garment_and_a_rejected_outfit_is_replaced() {
    let python = "/usr/bin/python3";
    let have = runs("/usr/bin/chromium", &["--version"])
        && runs("/usr/bin/chromedriver", &["--version"])
        && runs(python, &["-c", "import selenium"]);
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: .ci/run installs chromium, chromium-driver and \
             python3-selenium"
        );
        eprintln!(
            "SKIPPED: the browser test needs Debian's chromium, chromium-driver and \
             python3-selenium (apt-get install chromium chromium-driver python3-selenium)"
        );
        return;
    }
    let served = Served::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/browser.py");
    // Screenshots go to docs/web/ when asked (to refresh the committed ones), else beside
    // the test's data.
    let out = match std::env::var_os("CAPSULE_UPDATE_SCREENSHOTS") {
        Some(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/web"),
        None => served.data.with_file_name("screenshots"),
    };
    let run = Command::new(python)
        .arg(&script)
        .arg(served.url())
        .arg(&served.log)
        .arg(photo())
        .arg(&out)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the browser run failed: {said}\n{}\ncapsule's log:\n{}",
        String::from_utf8_lossy(&run.stderr),
        std::fs::read_to_string(&served.log).unwrap_or_default()
    );
    let report: Value = serde_json::from_str(said.trim()).unwrap();
    assert_eq!(report["garments_shown"], 40, "{report}");
    let rejected = report["rejected"].as_str().unwrap();
    assert!(
        !report["after"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == rejected),
        "{report}"
    );
    for page in [
        "pair",
        "wardrobe",
        "add",
        "garment",
        "suggestions",
        "live",
        "system",
    ] {
        for size in ["phone", "desktop"] {
            let shot = image::open(out.join(format!("{page}-{size}.png"))).unwrap();
            let expected = if size == "phone" {
                (390, 844)
            } else {
                (1280, 800)
            };
            assert_eq!((shot.width(), shot.height()), expected, "{page}-{size}");
        }
    }
    // The new garment is in the wardrobe, as the browser added it.
    let token = served.pair();
    let names: Vec<String> = garments(&served, &token)
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "Test top"), "{names:?}");
}
