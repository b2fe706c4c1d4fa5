//! The intent settlement contract: settlements with their escrow, the inflight query the gateway reads before an
//! upgrade, `extend_timeout`, and a migrate that refuses to drop inflight settlements unless told to keep them.
//! Built twice: version 1.0 (default) and 2.0 (feature `v2`, a storage change), so a real migration moves data.

pub mod contract;
pub mod error;
pub mod migrate;
pub mod msg;
pub mod state;
pub mod version;

#[cfg(test)]
mod tests;
