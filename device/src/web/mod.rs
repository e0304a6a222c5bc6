//! The companion web app `capsule run --serve ADDR` serves: pages at `/`, a JSON API under
//! `/api/` (described in `docs/openapi.json`). It runs on its own thread (a one-thread tokio
//! runtime, so its memory stays small), and the mirror keeps one owner: every API call
//! becomes an [`app::Request`](crate::app::Request) sent over a bounded channel to the
//! frame loop, which serves it between frames with the same handler as the Unix socket
//! ([`Web::serve_pending`]) and answers through a oneshot.
//!
//! - [`routes`]: the route table (checked against the OpenAPI file by a test) and router;
//! - [`api`]: the handlers: authentication, body limits, picture decoding, status codes;
//! - [`pairing`]: pairing codes, hashed tokens, rate limits;
//! - [`live`]: the live view's single frame slot;
//! - [`pages`]: the static pages, built into the binary.
//!
//! Nothing listens unless asked (`--serve`, or the board profile's `[web]`).

pub mod api;
pub mod live;
pub mod pages;
pub mod pairing;
pub mod routes;

use crate::app::requests::{self, Fault};
use crate::app::{Reply, Request};
use crate::preprocess::crop::crop_fraction;
use crate::report::error_chain;
use crate::runtime::{Between, Notice};
use image::RgbImage;
use live::LiveView;
use pairing::Pairing;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Calls waiting for the frame loop; more wait in their handlers (back-pressure, not errors).
const QUEUE: usize = 32;
/// Calls served per gap between frames, so a flood cannot starve the camera.
const PER_POLL: usize = 16;

/// Where a request's picture comes from.
pub enum Picture {
    None,
    /// Uploaded and already decoded (on the web thread, with the camera's limits).
    Upload(RgbImage),
    /// The camera's current view inside the region of interest.
    Camera,
}

/// How a failed call is answered.
#[derive(Debug)]
pub struct Failure {
    pub fault: Fault,
    pub message: String,
}

/// One API call for the frame loop.
pub struct Job {
    pub request: Request,
    pub picture: Picture,
    pub answer: oneshot::Sender<Result<Reply, Failure>>,
}

/// The web app could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("listening on {addr} for the web app")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the web app's thread")]
    Thread(#[source] std::io::Error),
}

/// The running web app, seen from the frame loop. Dropping it stops the server.
pub struct Web {
    jobs: mpsc::Receiver<Job>,
    pairing: Arc<Pairing>,
    live: LiveView,
    addr: SocketAddr,
    // Dropped with `Web`: the server stops taking connections.
    _stop: oneshot::Sender<()>,
}

impl Web {
    /// Listens on `addr` (port 0: any free port) for the mirror over `data_dir`.
    pub fn start(addr: SocketAddr, data_dir: &Path) -> Result<Self, WebError> {
        let listener = std::net::TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| WebError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| WebError::Bind { addr, source })?;
        let (sender, jobs) = mpsc::channel(QUEUE);
        let pairing = Arc::new(Pairing::new(data_dir));
        let live = LiveView::default();
        let (stop, stopped) = oneshot::channel();
        let state = api::AppState::new(sender, pairing.clone(), live.subscriber());
        std::thread::Builder::new()
            .name("capsule-web".into())
            .spawn(move || serve(listener, state, stopped))
            .map_err(WebError::Thread)?;
        Ok(Self {
            jobs,
            pairing,
            live,
            addr: bound,
            _stop: stop,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Between two frames: shows the pairing code while one is open, publishes the live
    /// frame, and serves the calls waiting (up to a few). Returns how many were served.
    pub fn serve_pending(&mut self, between: &mut Between<'_>) -> usize {
        *between.notice = self.pairing.shown_code().map(|code| Notice {
            title: "pair a phone".into(),
            detail: format!("enter {} {} on the phone", &code[..3], &code[3..]),
        });
        self.live.publish(between.frame, between.roi);
        let mut served = 0;
        while served < PER_POLL {
            let Ok(job) = self.jobs.try_recv() else {
                break;
            };
            served += 1;
            let camera;
            let picture = match &job.picture {
                Picture::None => None,
                Picture::Upload(p) => Some(p),
                Picture::Camera => {
                    camera = between.frame.map(|f| crop_fraction(f, between.roi));
                    camera.as_ref()
                }
            };
            let result =
                requests::handle(between.mirror, &job.request, picture).map_err(|e| Failure {
                    fault: e.fault(),
                    message: error_chain(&e),
                });
            // The caller may have given up (timed out, disconnected): no one to tell.
            let _ = job.answer.send(result);
        }
        served
    }
}

/// The web thread: a one-thread runtime serving until `stopped`.
fn serve(listener: std::net::TcpListener, state: api::AppState, stopped: oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        // Picture decoding runs here, off the request thread; uploads are limited to this many
        // at once anyway (`api::UPLOADS_AT_ONCE`).
        .max_blocking_threads(2)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("warning: the web app could not start its runtime: {e}");
            return;
        }
    };
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, routes::router(state))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    if let Err(e) = result {
        eprintln!("warning: the web app stopped: {e}");
    }
}
