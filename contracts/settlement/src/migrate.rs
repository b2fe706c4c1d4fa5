//! The seed's migrate: check the stored cw2 identity, move storage to this build's layout, refuse to touch
//! inflight settlements unless asked to preserve them, apply the stuck-settlement action, set the new version.

use cosmwasm_std::{DepsMut, Env, Response};
use cw2::set_contract_version;

use crate::contract::end_with_refund;
use crate::error::ContractError;
use crate::msg::{ConfigUpdate, MigrateMsg, StuckSettlementAction};
use crate::state::{inflight_settlements, move_to_this_layout, save_settlement, Phase, CONFIG};
use crate::version::{ensure_from_older_version, CONTRACT_NAME};

pub fn migrate(deps: DepsMut, env: Env, msg: MigrateMsg) -> Result<Response, ContractError> {
    // 1. Only this contract, and (for 2.0) not a downgrade.
    let from = ensure_from_older_version(deps.storage)?;
    if msg.new_version.is_empty() {
        return Err(ContractError::InvalidInput { field: "new_version".into(), reason: "must not be empty".into() });
    }
    // 2. The storage change between 1.0 and 2.0.
    let moved = move_to_this_layout(deps.storage)?;

    // 3. Inflight settlements survive only when the caller says so.
    let inflight = inflight_settlements(deps.storage)?;
    let preserve = msg.config.as_ref().map_or(true, |c| c.preserve_inflight);
    if !inflight.is_empty() && !preserve {
        return Err(ContractError::InflightSettlementsExist { count: inflight.len() as u64 });
    }

    // 4. The action for stuck settlements.
    let now = env.block.time.seconds();
    let mut affected = 0u64;
    let mut refunds = vec![];
    let action_name = match msg.config.as_ref().map(|c| &c.stuck_settlement_action) {
        None => "none",
        Some(StuckSettlementAction::Preserve) => "preserve",
        Some(StuckSettlementAction::RefundAndCancel) => {
            for mut s in inflight.clone() {
                refunds.extend(end_with_refund(&mut s, Phase::Cancelled, now));
                save_settlement(deps.storage, &s)?;
                affected += 1;
            }
            "refund_and_cancel"
        }
        Some(StuckSettlementAction::ExtendTimeout { additional_seconds }) => {
            for mut s in inflight.clone() {
                s.timeout = s.timeout.saturating_add(*additional_seconds);
                s.updated_at = now;
                save_settlement(deps.storage, &s)?;
                affected += 1;
            }
            "extend_timeout"
        }
    };

    // 5. The new version, then the new config.
    set_contract_version(deps.storage, CONTRACT_NAME, &msg.new_version)?;
    if let Some(update) = msg.config.and_then(|c| c.new_config) {
        apply_config_update(deps, update)?;
    }

    Ok(Response::new()
        .add_messages(refunds)
        .add_attribute("action", "migrate")
        .add_attribute("from_version", from.version)
        .add_attribute("to_version", msg.new_version)
        .add_attribute("preserved_inflight", inflight.len().to_string())
        .add_attribute("stuck_settlement_action", action_name)
        .add_attribute("affected_settlements", affected.to_string())
        .add_attribute("moved_settlements", moved.to_string()))
}

fn apply_config_update(deps: DepsMut, update: ConfigUpdate) -> Result<(), ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    if let Some(admin) = update.admin {
        config.admin = deps.api.addr_validate(&admin)?;
    }
    if let Some(channel) = update.ibc_channel {
        config.ibc_channel = if channel.is_empty() { None } else { Some(channel) };
    }
    if let Some(secs) = update.ibc_timeout_secs {
        config.ibc_timeout_secs = secs;
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(())
}
