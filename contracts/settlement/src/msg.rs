use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::Uint128;

use crate::state::{Config, Phase, Settlement};

#[cw_serde]
pub struct InstantiateMsg {
    /// Who may act on any settlement and change the config; default the instantiating sender.
    pub admin: Option<String>,
    /// The ICS-20 channel a completed settlement's escrow is sent over; none: a bank send on this chain.
    pub ibc_channel: Option<String>,
    /// The timeout of that transfer, seconds after the block time (default 600).
    pub ibc_timeout_secs: Option<u64>,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// Funds sent with the message (exactly `amount` of `denom`, or none) are held in escrow until the end.
    CreateSettlement {
        id: String,
        user: String,
        amount: Uint128,
        denom: String,
        /// Unix seconds, after the block time.
        timeout: u64,
        solver: Option<String>,
        /// Default `user`.
        recipient: Option<String>,
    },
    /// Forward only: user_funds_locked → solver_funds_locked → ibc_in_flight.
    AdvanceSettlement { id: String, phase: Phase },
    /// Releases the escrow to the recipient (over IBC when a channel is configured).
    CompleteSettlement { id: String },
    /// Returns the escrow to the settlement's creator.
    RefundSettlement { id: String },
    ExtendTimeout { id: String, additional_seconds: u64 },
    /// Version 2.0 only: stops (or resumes) the creation of settlements.
    #[cfg(feature = "v2")]
    SetPaused { paused: bool },
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// Every non-terminal settlement, oldest first.
    #[returns(InflightSettlementsResponse)]
    InflightSettlements {},
    #[returns(Settlement)]
    Settlement { id: String },
    #[returns(Config)]
    Config {},
}

#[cw_serde]
pub struct InflightSettlementsResponse {
    pub settlements: Vec<Settlement>,
}

/// The seed's MigrateMsg.
#[cw_serde]
pub struct MigrateMsg {
    /// The cw2 version the contract has after the migration.
    pub new_version: String,
    /// Absent: no inflight check and no action.
    pub config: Option<MigrationConfig>,
}

#[cw_serde]
pub struct MigrationConfig {
    /// Without it, a migration with inflight settlements is refused.
    pub preserve_inflight: bool,
    pub stuck_settlement_action: StuckSettlementAction,
    pub new_config: Option<ConfigUpdate>,
}

#[cw_serde]
pub enum StuckSettlementAction {
    /// Keep every inflight settlement as it is.
    Preserve,
    /// Return each inflight settlement's escrow and mark it cancelled.
    RefundAndCancel,
    /// Add the seconds to each inflight settlement's timeout.
    ExtendTimeout { additional_seconds: u64 },
}

#[cw_serde]
pub struct ConfigUpdate {
    pub admin: Option<String>,
    pub ibc_channel: Option<String>,
    pub ibc_timeout_secs: Option<u64>,
}
