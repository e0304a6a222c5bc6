//! The application layer on the board: what the owner can do with the mirror, independent
//! of how they ask (the command line, the frame loop, tests).
//!
//! - [`models`]: which bundle, embedder file, precision, preprocessing and threshold a
//!   command runs, chosen once ([`Models::open`]);
//! - [`enrol`]: picture → garment, the one path to a wardrobe garment's embedding,
//!   thumbnail and style statistics;
//! - [`import`]: garments in bulk (Polyvore-format sets, folders of pictures);
//! - [`mirror`]: the mirror service — recognise, suggest, feedback, adopt, reload after an
//!   update;
//! - [`reembed`]: a wardrobe embedded by another embedder, embedded again;
//! - [`updates`]: installing a bundle or rolling back, and a running mirror's reload;
//! - [`requests`]: what the owner can ask of a running mirror, as data, and its one handler;
//! - [`reports`]: what commands report, for `report::print`.

pub mod enrol;
pub mod import;
pub mod mirror;
pub mod models;
pub mod reembed;
pub mod reports;
pub mod requests;
pub mod updates;

pub use enrol::{EnrolError, SeenGarment};
pub use import::{
    AddedGarment, ImportError, ImportSummary, add_picture, add_view_picture, import_folder,
    import_polyvore, is_polyvore_set,
};
pub use mirror::{
    AnchorGarment, Announcement, Mirror, MirrorError, Outfits, Recognition, record_feedback,
};
pub use models::{ModelSource, Models, ModelsError};
pub use requests::{Reply, Request, RequestError};
pub use updates::{UpdateFailure, UpdateOptions};
