//! The JSON API's handlers. Each checks the caller's token first ([`Paired`]), turns the
//! call into an [`app::Request`](crate::app::Request) for the frame loop
//! ([`AppState::ask`]) and answers its reply as JSON. Bodies are read by hand so every
//! limit and every error message is ours: JSON bodies up to [`MAX_JSON`] (400 with serde's
//! message when malformed), pictures up to [`MAX_UPLOAD`] (413 beyond, before anything is
//! decoded or written), decoded off the request thread with the camera's pixel limit.

use super::live::Jpeg;
use super::pairing::{PairError, Pairing};
use super::{Failure, Job, Picture};
use crate::app::requests::Fault;
use crate::app::{Reply, Request};
use crate::camera::decode::{DecodeError, decode_picture};
use crate::garment::GarmentType;
use crate::suggest::{Verdict, parse_outfit_key};
use crate::wardrobe::{GarmentId, GarmentStatus};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

/// Largest JSON body.
pub const MAX_JSON: usize = 64 << 10;
/// Largest uploaded picture file (a phone photo is 2 to 8 MB).
pub const MAX_UPLOAD: usize = 16 << 20;
/// Uploads read and decoded at once; more wait, so memory stays bounded however many
/// phones upload.
pub const UPLOADS_AT_ONCE: usize = 2;
/// Longest a call waits for the frame loop.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a still frame waits for the camera.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);
/// The MJPEG part boundary.
const BOUNDARY: &str = "capsule-frame";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    jobs: mpsc::Sender<Job>,
    pairing: Arc<Pairing>,
    live: watch::Receiver<Option<Jpeg>>,
    uploads: Arc<Semaphore>,
}

impl AppState {
    pub fn new(
        jobs: mpsc::Sender<Job>,
        pairing: Arc<Pairing>,
        live: watch::Receiver<Option<Jpeg>>,
    ) -> Self {
        Self {
            jobs,
            pairing,
            live,
            uploads: Arc::new(Semaphore::new(UPLOADS_AT_ONCE)),
        }
    }

    /// Hands `request` to the frame loop and waits for its reply.
    async fn ask(&self, request: Request, picture: Picture) -> Result<Reply, ApiError> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            request,
            picture,
            answer,
        };
        let stopped = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the mirror is stopping");
        self.jobs.send(job).await.map_err(|_| stopped())?;
        match tokio::time::timeout(ANSWER_TIMEOUT, answered).await {
            Err(_) => Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "the mirror did not answer in time",
            )),
            Ok(Err(_)) => Err(stopped()),
            Ok(Ok(result)) => result.map_err(ApiError::from),
        }
    }

    /// `request`'s reply as the response body.
    async fn json(&self, request: Request, picture: Picture) -> Result<Json<Value>, ApiError> {
        Ok(Json(self.ask(request, picture).await?.json))
    }

    /// An uploaded picture: at most [`MAX_UPLOAD`] bytes, decoded with the camera's limits.
    async fn upload(&self, headers: &HeaderMap, body: Body) -> Result<Picture, ApiError> {
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a picture may have at most {MAX_UPLOAD} bytes"),
            )
        };
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_UPLOAD as u64) {
            return Err(too_large());
        }
        let _permit = self.uploads.acquire().await.map_err(|_| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the mirror is stopping")
        })?;
        let bytes = axum::body::to_bytes(body, MAX_UPLOAD).await.map_err(|e| {
            match e
                .into_inner()
                .downcast::<http_body_util::LengthLimitError>()
            {
                Ok(_) => too_large(),
                Err(e) => {
                    ApiError::new(StatusCode::BAD_REQUEST, format!("reading the picture: {e}"))
                }
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "the request body must be the picture file (PNG or JPEG)",
            ));
        }
        let decoded = tokio::task::spawn_blocking(move || decode_picture(&bytes))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        match decoded {
            Ok(picture) => Ok(Picture::Upload(picture)),
            Err(e @ DecodeError::TooLarge { .. }) => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the picture: {e}"),
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the picture: {e}"),
            )),
        }
    }
}

/// A failed call: its status and a message saying what was wrong, sent as
/// `{"error": message}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        let status = match failure.fault {
            Fault::Request => StatusCode::BAD_REQUEST,
            Fault::NotFound => StatusCode::NOT_FOUND,
            Fault::Mirror => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, failure.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"capsule\""),
            );
        }
        response
    }
}

/// Proof that the caller sent a paired phone's token (`Authorization: Bearer TOKEN`). A
/// header, not a cookie, so another site's page cannot make a browser call the API with it.
pub struct Paired;

impl FromRequestParts<AppState> for Paired {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, why);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("pair this phone first: no Authorization: Bearer token"))?;
        match state.pairing.check(token.trim()) {
            Ok(true) => Ok(Paired),
            Ok(false) => Err(unauthorized(
                "this token is not paired (it may have been revoked): pair again",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::report::error_chain(&e),
            )),
        }
    }
}

/// A JSON body of type `T`, or 400 with what is wrong with it.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.len() > MAX_JSON {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a JSON body may have at most {MAX_JSON} bytes"),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("the JSON body: {e}")))
}

fn garment_id(text: &str) -> Result<GarmentId, ApiError> {
    text.parse().map_err(|e| ApiError::bad(format!("{e}")))
}

#[derive(Deserialize)]
pub struct PairBody {
    code: String,
    #[serde(default)]
    name: String,
}

/// `POST /api/pair/start`: the mirror shows a code.
pub async fn pair_start(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let lasts = state.pairing.start().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::report::error_chain(&e),
        )
    })?;
    Ok(Json(json!({ "expires_in_s": lasts.as_secs() })))
}

/// `POST /api/pair`: the code shown on the mirror for a token.
pub async fn pair(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let body: PairBody = parse(&body)?;
    match state.pairing.pair(&body.code, &body.name) {
        Ok((device, token)) => Ok(Json(json!({ "token": token, "device": device.public() }))),
        Err(e) => {
            let status = match &e {
                PairError::TooSoon => StatusCode::TOO_MANY_REQUESTS,
                PairError::NoCode => StatusCode::CONFLICT,
                PairError::Wrong { .. } | PairError::Exhausted => StatusCode::FORBIDDEN,
                PairError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Err(ApiError::new(status, crate::report::error_chain(&e)))
        }
    }
}

/// `GET /api/tokens`: the paired phones.
pub async fn tokens(State(state): State<AppState>, _: Paired) -> Result<Json<Value>, ApiError> {
    let devices = state.pairing.store().load().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::report::error_chain(&e),
        )
    })?;
    let public: Vec<_> = devices.iter().map(|d| d.public()).collect();
    Ok(Json(json!({ "devices": public })))
}

/// `DELETE /api/tokens/{id}`: unpairs a phone (this one too, if it names itself).
pub async fn revoke(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.pairing.store().revoke(Some(&id)) {
        Ok(0) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no paired phone {id}"),
        )),
        Ok(_) => Ok(Json(json!({ "revoked": id }))),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::report::error_chain(&e),
        )),
    }
}

/// `GET /api/garments`.
pub async fn list(State(state): State<AppState>, _: Paired) -> Result<Json<Value>, ApiError> {
    state.json(Request::List, Picture::None).await
}

#[derive(Deserialize)]
pub struct NewGarmentQuery {
    #[serde(rename = "type")]
    garment_type: GarmentType,
    name: String,
}

/// `POST /api/garments?type=T&name=N`, the body a picture file: a new garment.
pub async fn add_garment(
    State(state): State<AppState>,
    _: Paired,
    Query(query): Query<NewGarmentQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let picture = state.upload(&headers, body).await?;
    let request = Request::AddGarment {
        garment_type: query.garment_type,
        name: query.name,
    };
    Ok((StatusCode::CREATED, state.json(request, picture).await?))
}

#[derive(Deserialize)]
pub struct CaptureBody {
    #[serde(rename = "type")]
    garment_type: GarmentType,
    name: String,
}

/// `POST /api/garments/capture`: a new garment from what the mirror's camera sees now.
pub async fn capture(
    State(state): State<AppState>,
    _: Paired,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: CaptureBody = parse(&body)?;
    let request = Request::AddGarment {
        garment_type: body.garment_type,
        name: body.name,
    };
    Ok((
        StatusCode::CREATED,
        state.json(request, Picture::Camera).await?,
    ))
}

#[derive(Deserialize)]
pub struct OutfitsQuery {
    #[serde(default = "three")]
    outfits: usize,
}

fn three() -> usize {
    3
}

/// `GET /api/garments/{id}`: the garment page's data.
pub async fn garment(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
    Query(query): Query<OutfitsQuery>,
) -> Result<Json<Value>, ApiError> {
    let request = Request::Garment {
        id: garment_id(&id)?,
        outfits: query.outfits,
    };
    state.json(request, Picture::None).await
}

/// `DELETE /api/garments/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let request = Request::Remove {
        id: garment_id(&id)?,
    };
    state.json(request, Picture::None).await
}

#[derive(Deserialize)]
pub struct NameBody {
    name: String,
}

/// `PUT /api/garments/{id}/name`.
pub async fn rename(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = garment_id(&id)?;
    let body: NameBody = parse(&body)?;
    let request = Request::Rename {
        id,
        name: body.name,
    };
    state.json(request, Picture::None).await
}

#[derive(Deserialize)]
pub struct StatusBody {
    status: GarmentStatus,
}

/// `PUT /api/garments/{id}/status`.
pub async fn set_status(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = garment_id(&id)?;
    let body: StatusBody = parse(&body)?;
    let request = Request::SetStatus {
        id,
        status: body.status,
    };
    state.json(request, Picture::None).await
}

/// `POST /api/garments/{id}/views`, the body a picture file: another view of the garment.
pub async fn add_view(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = garment_id(&id)?;
    let picture = state.upload(&headers, body).await?;
    let reply = state.json(Request::AddView { id }, picture).await?;
    Ok((StatusCode::CREATED, reply))
}

#[derive(Deserialize)]
pub struct ViewQuery {
    #[serde(default)]
    view: u32,
}

/// `GET /api/garments/{id}/thumbnail?view=N`: the stored picture, as a PNG.
pub async fn thumbnail(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
    Query(query): Query<ViewQuery>,
) -> Result<Response, ApiError> {
    let request = Request::Thumbnail {
        id: garment_id(&id)?,
        view: query.view,
    };
    let reply = state.ask(request, Picture::None).await?;
    let png = reply
        .json
        .get("png_base64")
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the mirror's thumbnail reply had no picture",
            )
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        png,
    )
        .into_response())
}

/// `GET /api/garments/{id}/outfits?outfits=K`: suggestions around the garment.
pub async fn outfits(
    State(state): State<AppState>,
    _: Paired,
    Path(id): Path<String>,
    Query(query): Query<OutfitsQuery>,
) -> Result<Json<Value>, ApiError> {
    let request = Request::Suggest {
        id: garment_id(&id)?,
        outfits: query.outfits,
    };
    state.json(request, Picture::None).await
}

#[derive(Deserialize)]
pub struct FeedbackBody {
    /// The outfit's key, as suggestions give it (`g3+g7+g9`).
    outfit: String,
    verdict: Verdict,
}

/// `POST /api/feedback`: accept, reject or "wore it" for a suggested outfit.
pub async fn feedback(
    State(state): State<AppState>,
    _: Paired,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: FeedbackBody = parse(&body)?;
    let outfit = parse_outfit_key(&body.outfit).ok_or_else(|| {
        ApiError::bad(format!(
            "{:?} is not an outfit key (garment ids joined by +, like g3+g7)",
            body.outfit
        ))
    })?;
    let request = Request::Feedback {
        outfit,
        verdict: body.verdict,
    };
    state.json(request, Picture::None).await
}

/// `GET /api/system`.
pub async fn system(State(state): State<AppState>, _: Paired) -> Result<Json<Value>, ApiError> {
    state.json(Request::System, Picture::None).await
}

/// `POST /api/system/rollback`.
pub async fn rollback(State(state): State<AppState>, _: Paired) -> Result<Json<Value>, ApiError> {
    state.json(Request::Rollback, Picture::None).await
}

/// `GET /api/live.jpg`: the camera's latest frame with the region of interest drawn.
pub async fn live_still(State(state): State<AppState>, _: Paired) -> Result<Response, ApiError> {
    // Subscribing is what makes the frame loop publish.
    let mut frames = state.live.clone();
    let wait = frames.wait_for(Option::is_some);
    let jpeg = match tokio::time::timeout(FRAME_TIMEOUT, wait).await {
        Ok(Ok(frame)) => frame.clone(),
        _ => None,
    };
    let jpeg = jpeg.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the camera has given no frame yet",
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg.to_vec(),
    )
        .into_response())
}

/// `GET /api/live.mjpeg`: the live view as an MJPEG stream (one part per frame, each with
/// its `Content-Length`), until the client goes or the mirror stops.
pub async fn live_stream(State(state): State<AppState>, _: Paired) -> Response {
    let mut frames = state.live.clone();
    // The frame already there is sent first.
    frames.mark_changed();
    let parts = futures_util::stream::unfold(frames, |mut frames| async move {
        loop {
            frames.changed().await.ok()?;
            let Some(jpeg) = frames.borrow_and_update().clone() else {
                continue;
            };
            let mut part = format!(
                "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                jpeg.len()
            )
            .into_bytes();
            part.extend_from_slice(&jpeg);
            part.extend_from_slice(b"\r\n");
            return Some((Ok::<_, Infallible>(Bytes::from(part)), frames));
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(parts),
    )
        .into_response()
}
