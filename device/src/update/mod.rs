//! Model updates on the board: a verified bundle (signature, hashes; `bundle`) whose models
//! reproduce their golden outputs in tract (`engine::golden`) is copied into the inactive
//! A/B slot and switched to atomically; rollback switches back.

pub mod slots;

pub use slots::{Applied, ApplyOptions, Slot, SlotStatus, Slots, UpdateError};
