//! The running mirror as the one owner of the wardrobe: `capsule run` listens on a Unix
//! socket in its data directory, and the commands that read or change the wardrobe send
//! their [`Request`](crate::app::Request) there while it runs, so the running service sees
//! the change at once (and redb's one-process rule never bites). With no daemon, a command
//! handles the request itself.
//!
//! - [`protocol`]: one request per connection, a JSON line (and a picture's bytes), one
//!   JSON line back; every size bounded;
//! - [`server`]: the listening side, polled by the frame loop between frames;
//! - [`client`]: the asking side.
//!
//! Only the owner and the `capsule` group may connect (the socket is mode 0660 in the
//! data directory); nothing listens on the network.

pub mod client;
pub mod protocol;
pub mod server;

pub use client::{Client, connect};
pub use protocol::DaemonError;
pub use server::Server;

/// The socket's file name inside the data directory.
pub const SOCKET_FILE: &str = "capsule.sock";
