//! Storage. Version 1.0 keeps settlements under the namespace `settlements`; 2.0 under `settlements_v2`, each
//! wrapped with a schema marker. Both builds know both layouts so a migration can move them either way.

use cosmwasm_std::{Addr, Coin, Order, StdResult, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Config {
    pub admin: Addr,
    pub ibc_channel: Option<String>,
    pub ibc_timeout_secs: u64,
    /// 2.0's feature flag; a 1.0 config has none (false), and 1.0 ignores it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    UserFundsLocked,
    SolverFundsLocked,
    IbcInFlight,
    Completed,
    Refunded,
    Cancelled,
}

impl Phase {
    pub fn is_inflight(self) -> bool {
        matches!(self, Phase::UserFundsLocked | Phase::SolverFundsLocked | Phase::IbcInFlight)
    }

    pub fn name(self) -> &'static str {
        match self {
            Phase::UserFundsLocked => "user_funds_locked",
            Phase::SolverFundsLocked => "solver_funds_locked",
            Phase::IbcInFlight => "ibc_in_flight",
            Phase::Completed => "completed",
            Phase::Refunded => "refunded",
            Phase::Cancelled => "cancelled",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct IbcPacketRef {
    pub channel: String,
    /// The sequence the chain gave the transfer (its `send_packet` event, or the `MsgTransferResponse` in the
    /// reply's data); null if neither could be read.
    pub sequence: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Settlement {
    pub id: String,
    pub user: String,
    pub solver: Option<String>,
    pub amount: Uint128,
    pub denom: String,
    /// Unix seconds.
    pub timeout: u64,
    pub phase: Phase,
    pub creator: Addr,
    pub recipient: String,
    pub created_at: u64,
    pub updated_at: u64,
    /// The coins the contract holds for this settlement until it ends.
    pub escrow: Option<Coin>,
    /// The ICS-20 transfer that released the escrow, if any.
    pub ibc_packet: Option<IbcPacketRef>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StoredV2 {
    pub schema: u8,
    pub settlement: Settlement,
}

pub const CONFIG: Item<Config> = Item::new("config");
/// Ids of the non-terminal settlements, so the inflight query does not read every settlement ever made.
pub const INFLIGHT: Map<&str, ()> = Map::new("inflight");
/// The settlement whose transfer the pending submessage reply belongs to.
pub const REPLY_SETTLEMENT: Item<String> = Item::new("reply_settlement");

pub const SETTLEMENTS_V1: Map<&str, Settlement> = Map::new("settlements");
pub const SETTLEMENTS_V2: Map<&str, StoredV2> = Map::new("settlements_v2");

pub fn load_settlement(storage: &dyn Storage, id: &str) -> StdResult<Option<Settlement>> {
    if cfg!(feature = "v2") {
        Ok(SETTLEMENTS_V2.may_load(storage, id)?.map(|s| s.settlement))
    } else {
        SETTLEMENTS_V1.may_load(storage, id)
    }
}

pub fn save_settlement(storage: &mut dyn Storage, s: &Settlement) -> StdResult<()> {
    if s.phase.is_inflight() {
        INFLIGHT.save(storage, &s.id, &())?;
    } else {
        INFLIGHT.remove(storage, &s.id);
    }
    if cfg!(feature = "v2") {
        SETTLEMENTS_V2.save(storage, &s.id, &StoredV2 { schema: 2, settlement: s.clone() })
    } else {
        SETTLEMENTS_V1.save(storage, &s.id, s)
    }
}

/// Non-terminal settlements, oldest first (then by id).
pub fn inflight_settlements(storage: &dyn Storage) -> StdResult<Vec<Settlement>> {
    let ids: Vec<String> = INFLIGHT.keys(storage, None, None, Order::Ascending).collect::<StdResult<_>>()?;
    let mut list = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(s) = load_settlement(storage, &id)? {
            list.push(s);
        }
    }
    list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok(list)
}

/// Moves every settlement stored in the other version's layout into this build's; returns how many moved.
pub fn move_to_this_layout(storage: &mut dyn Storage) -> StdResult<u64> {
    let mut moved = 0;
    if cfg!(feature = "v2") {
        let old: Vec<(String, Settlement)> =
            SETTLEMENTS_V1.range(storage, None, None, Order::Ascending).collect::<StdResult<_>>()?;
        for (id, s) in old {
            SETTLEMENTS_V1.remove(storage, &id);
            SETTLEMENTS_V2.save(storage, &id, &StoredV2 { schema: 2, settlement: s })?;
            moved += 1;
        }
    } else {
        let old: Vec<(String, StoredV2)> =
            SETTLEMENTS_V2.range(storage, None, None, Order::Ascending).collect::<StdResult<_>>()?;
        for (id, s) in old {
            SETTLEMENTS_V2.remove(storage, &id);
            SETTLEMENTS_V1.save(storage, &id, &s.settlement)?;
            moved += 1;
        }
    }
    Ok(moved)
}
