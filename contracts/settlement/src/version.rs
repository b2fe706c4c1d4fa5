//! The cw2 identity of this build and the version check of a migration.
//!
//! cw2's own `ensure_from_older_version` parses versions as strict semver, and this contract's versions are
//! "1.0" and "2.0" (what the gateway's version names use), so the same check is done here on dotted numbers:
//! the stored contract must be this one, and not newer than this code.

use cosmwasm_std::{StdError, StdResult, Storage};
use cw2::{get_contract_version, ContractVersion};
use std::cmp::Ordering;

pub const CONTRACT_NAME: &str = "crates.io:intent-settlement";

#[cfg(not(feature = "v2"))]
pub const CONTRACT_VERSION: &str = "1.0";
#[cfg(feature = "v2")]
pub const CONTRACT_VERSION: &str = "2.0";

/// Version 1.0 predates the downgrade check, so a rollback from 2.0 to 1.0 is accepted by 1.0's code.
#[cfg(not(feature = "v2"))]
pub const ACCEPTS_DOWNGRADE: bool = true;
#[cfg(feature = "v2")]
pub const ACCEPTS_DOWNGRADE: bool = false;

/// Part by part ("1.10" > "1.9"); a missing part is 0; a non-numeric part compares as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let pa: Vec<&str> = a.split(|c| c == '.' || c == '-' || c == '+').collect();
    let pb: Vec<&str> = b.split(|c| c == '.' || c == '-' || c == '+').collect();
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).copied().unwrap_or("0");
        let y = pb.get(i).copied().unwrap_or("0");
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(nx), Ok(ny)) => nx.cmp(&ny),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The stored cw2 version, refused when it names another contract or (unless this build accepts a downgrade)
/// a version newer than this code's. The messages are cw2's own.
pub fn ensure_from_older_version(storage: &dyn Storage) -> StdResult<ContractVersion> {
    let stored = get_contract_version(storage)?;
    if stored.contract != CONTRACT_NAME {
        return Err(StdError::generic_err(format!(
            "Cannot migrate from {} to {}",
            stored.contract, CONTRACT_NAME
        )));
    }
    if !ACCEPTS_DOWNGRADE && compare_versions(&stored.version, CONTRACT_VERSION) == Ordering::Greater {
        return Err(StdError::generic_err(format!(
            "Cannot migrate from newer version ({}) to older ({})",
            stored.version, CONTRACT_VERSION
        )));
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_dotted_versions_part_by_part() {
        assert_eq!(compare_versions("1.0", "2.0"), Ordering::Less);
        assert_eq!(compare_versions("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_versions("2.0", "2.0.0"), Ordering::Equal);
    }
}
