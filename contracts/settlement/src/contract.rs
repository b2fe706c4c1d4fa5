use cosmwasm_std::{
    to_binary, Addr, BankMsg, Binary, Coin, CosmosMsg, Deps, DepsMut, Env, IbcMsg, IbcTimeout, MessageInfo,
    Reply, Response, StdResult, SubMsg, SubMsgResult, Uint128,
};
#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cw2::set_contract_version;

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InflightSettlementsResponse, InstantiateMsg, MigrateMsg, QueryMsg};
use crate::state::{
    inflight_settlements, load_settlement, save_settlement, Config, IbcPacketRef, Phase, Settlement, CONFIG,
    REPLY_SETTLEMENT,
};
use crate::version::{CONTRACT_NAME, CONTRACT_VERSION};

const DEFAULT_IBC_TIMEOUT_SECS: u64 = 600;
const TRANSFER_REPLY_ID: u64 = 1;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(deps: DepsMut, _env: Env, info: MessageInfo, msg: InstantiateMsg) -> Result<Response, ContractError> {
    set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    let admin = match msg.admin {
        Some(a) => deps.api.addr_validate(&a)?,
        None => info.sender,
    };
    let config = Config {
        admin,
        ibc_channel: msg.ibc_channel.filter(|c| !c.is_empty()),
        ibc_timeout_secs: msg.ibc_timeout_secs.unwrap_or(DEFAULT_IBC_TIMEOUT_SECS),
        paused: false,
    };
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("contract_version", CONTRACT_VERSION)
        .add_attribute("admin", config.admin.as_str()))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::CreateSettlement { id, user, amount, denom, timeout, solver, recipient } => {
            create(deps, env, info, id, user, amount, denom, timeout, solver, recipient)
        }
        ExecuteMsg::AdvanceSettlement { id, phase } => advance(deps, env, info, id, phase),
        ExecuteMsg::CompleteSettlement { id } => complete(deps, env, info, id),
        ExecuteMsg::RefundSettlement { id } => refund(deps, env, info, id),
        ExecuteMsg::ExtendTimeout { id, additional_seconds } => extend(deps, env, info, id, additional_seconds),
        #[cfg(feature = "v2")]
        ExecuteMsg::SetPaused { paused } => set_paused(deps, info, paused),
    }
}

#[allow(clippy::too_many_arguments)]
fn create(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: String,
    user: String,
    amount: Uint128,
    denom: String,
    timeout: u64,
    solver: Option<String>,
    recipient: Option<String>,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.paused {
        return Err(ContractError::Paused {});
    }
    let now = env.block.time.seconds();
    if id.is_empty() {
        return Err(invalid("id", "must not be empty"));
    }
    if amount.is_zero() {
        return Err(invalid("amount", "must be positive"));
    }
    if denom.is_empty() {
        return Err(invalid("denom", "must not be empty"));
    }
    if timeout <= now {
        return Err(invalid("timeout", &format!("{} is not after the block time {}", timeout, now)));
    }
    if load_settlement(deps.storage, &id)?.is_some() {
        return Err(ContractError::SettlementExists(id));
    }
    let escrow = take_escrow(&info.funds, amount, &denom)?;
    let settlement = Settlement {
        id: id.clone(),
        recipient: recipient.unwrap_or_else(|| user.clone()),
        user: user.clone(),
        solver,
        amount,
        denom: denom.clone(),
        timeout,
        phase: Phase::UserFundsLocked,
        creator: info.sender,
        created_at: now,
        updated_at: now,
        escrow,
        ibc_packet: None,
    };
    save_settlement(deps.storage, &settlement)?;
    Ok(Response::new()
        .add_attribute("action", "create_settlement")
        .add_attribute("settlement_id", id)
        .add_attribute("user", user)
        .add_attribute("amount", amount.to_string())
        .add_attribute("denom", denom)
        .add_attribute("phase", Phase::UserFundsLocked.name()))
}

/// No funds (a settlement recorded, nothing held), or exactly the settlement's amount.
fn take_escrow(funds: &[Coin], amount: Uint128, denom: &str) -> Result<Option<Coin>, ContractError> {
    match funds {
        [] => Ok(None),
        [c] if c.amount == amount && c.denom == denom => Ok(Some(c.clone())),
        _ => Err(ContractError::EscrowMismatch {
            expected: format!("{}{}", amount, denom),
            got: funds.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(","),
        }),
    }
}

fn advance(deps: DepsMut, env: Env, info: MessageInfo, id: String, phase: Phase) -> Result<Response, ContractError> {
    let mut s = authorized_inflight(deps.as_ref(), &info.sender, &id)?;
    if !phase.is_inflight() || phase <= s.phase {
        return Err(ContractError::PhaseBackwards { id, from: s.phase.name().into(), to: phase.name().into() });
    }
    s.phase = phase;
    s.updated_at = env.block.time.seconds();
    save_settlement(deps.storage, &s)?;
    Ok(Response::new()
        .add_attribute("action", "advance_settlement")
        .add_attribute("settlement_id", id)
        .add_attribute("phase", phase.name()))
}

fn complete(deps: DepsMut, env: Env, info: MessageInfo, id: String) -> Result<Response, ContractError> {
    let mut s = authorized_inflight(deps.as_ref(), &info.sender, &id)?;
    let config = CONFIG.load(deps.storage)?;
    s.phase = Phase::Completed;
    s.updated_at = env.block.time.seconds();
    let mut response = Response::new();
    if let Some(coin) = s.escrow.clone() {
        match &config.ibc_channel {
            Some(channel) => {
                // The sequence comes back in the reply; the settlement remembers the packet.
                s.ibc_packet = Some(IbcPacketRef { channel: channel.clone(), sequence: None });
                REPLY_SETTLEMENT.save(deps.storage, &id)?;
                let transfer = IbcMsg::Transfer {
                    channel_id: channel.clone(),
                    to_address: s.recipient.clone(),
                    amount: coin,
                    timeout: IbcTimeout::with_timestamp(env.block.time.plus_seconds(config.ibc_timeout_secs)),
                };
                response = response.add_submessage(SubMsg::reply_on_success(CosmosMsg::Ibc(transfer), TRANSFER_REPLY_ID));
            }
            None => {
                let to = deps.api.addr_validate(&s.recipient)?;
                response = response.add_message(BankMsg::Send { to_address: to.into_string(), amount: vec![coin] });
            }
        }
    }
    save_settlement(deps.storage, &s)?;
    Ok(response
        .add_attribute("action", "complete_settlement")
        .add_attribute("settlement_id", id)
        .add_attribute("phase", Phase::Completed.name()))
}

fn refund(deps: DepsMut, env: Env, info: MessageInfo, id: String) -> Result<Response, ContractError> {
    let mut s = authorized_inflight(deps.as_ref(), &info.sender, &id)?;
    let messages = end_with_refund(&mut s, Phase::Refunded, env.block.time.seconds());
    save_settlement(deps.storage, &s)?;
    Ok(Response::new()
        .add_messages(messages)
        .add_attribute("action", "refund_settlement")
        .add_attribute("settlement_id", id)
        .add_attribute("phase", Phase::Refunded.name()))
}

/// Ends a settlement in `phase`, returning its escrow (if any) to its creator.
pub fn end_with_refund(s: &mut Settlement, phase: Phase, now: u64) -> Vec<BankMsg> {
    s.phase = phase;
    s.updated_at = now;
    match s.escrow.clone() {
        Some(coin) => vec![BankMsg::Send { to_address: s.creator.to_string(), amount: vec![coin] }],
        None => vec![],
    }
}

fn extend(deps: DepsMut, env: Env, info: MessageInfo, id: String, additional: u64) -> Result<Response, ContractError> {
    let mut s = authorized_inflight(deps.as_ref(), &info.sender, &id)?;
    s.timeout = s.timeout.checked_add(additional).ok_or_else(|| invalid("additional_seconds", "overflows the timeout"))?;
    s.updated_at = env.block.time.seconds();
    save_settlement(deps.storage, &s)?;
    Ok(Response::new()
        .add_attribute("action", "extend_timeout")
        .add_attribute("settlement_id", id)
        .add_attribute("timeout", s.timeout.to_string()))
}

#[cfg(feature = "v2")]
fn set_paused(deps: DepsMut, info: MessageInfo, paused: bool) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    if info.sender != config.admin {
        return Err(ContractError::Unauthorized("only the admin may pause".into()));
    }
    config.paused = paused;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_attribute("action", "set_paused").add_attribute("paused", paused.to_string()))
}

fn authorized_inflight(deps: Deps, sender: &Addr, id: &str) -> Result<Settlement, ContractError> {
    let s = load_settlement(deps.storage, id)?.ok_or_else(|| ContractError::SettlementNotFound(id.to_string()))?;
    let config = CONFIG.load(deps.storage)?;
    if *sender != s.creator && *sender != config.admin {
        return Err(ContractError::Unauthorized(format!("{} is neither the creator nor the admin", sender)));
    }
    if !s.phase.is_inflight() {
        return Err(ContractError::SettlementTerminal { id: id.to_string(), phase: s.phase.name().into() });
    }
    Ok(s)
}

fn invalid(field: &str, reason: &str) -> ContractError {
    ContractError::InvalidInput { field: field.into(), reason: reason.into() }
}

/// The reply of a settlement's ICS-20 transfer: records the packet sequence, from the `send_packet` event where
/// the chain passes the submessage's events on, else from its `data`, the encoded `MsgTransferResponse`. wasmd
/// (0.54) gives a reply no events of a message that is not a wasm message, only the data.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn reply(deps: DepsMut, _env: Env, msg: Reply) -> Result<Response, ContractError> {
    let id = REPLY_SETTLEMENT.load(deps.storage)?;
    REPLY_SETTLEMENT.remove(deps.storage);
    let sequence = match &msg.result {
        SubMsgResult::Ok(r) => r
            .events
            .iter()
            .filter(|e| e.ty == "send_packet")
            .flat_map(|e| e.attributes.iter())
            .find(|a| a.key == "packet_sequence")
            .and_then(|a| a.value.parse::<u64>().ok())
            .or_else(|| r.data.as_ref().and_then(|d| transfer_response_sequence(d.as_slice()))),
        SubMsgResult::Err(_) => None,
    };
    let mut s = load_settlement(deps.storage, &id)?.ok_or_else(|| ContractError::SettlementNotFound(id.clone()))?;
    if let Some(p) = s.ibc_packet.as_mut() {
        p.sequence = sequence;
    }
    save_settlement(deps.storage, &s)?;
    let mut response = Response::new().add_attribute("action", "ibc_transfer_sent").add_attribute("settlement_id", id);
    if let Some(seq) = sequence {
        response = response.add_attribute("packet_sequence", seq.to_string());
    }
    Ok(response)
}

/// `sequence` (field 1, a varint) of a protobuf-encoded `ibc.applications.transfer.v1.MsgTransferResponse`;
/// None when the bytes are not one (other fields are skipped, as protobuf readers do).
pub fn transfer_response_sequence(bytes: &[u8]) -> Option<u64> {
    let mut at = 0;
    while at < bytes.len() {
        let key = read_varint(bytes, &mut at)?;
        match (key >> 3, key & 7) {
            (1, 0) => return read_varint(bytes, &mut at),
            (_, 0) => {
                read_varint(bytes, &mut at)?;
            }
            (_, 1) => at += 8,
            (_, 2) => {
                let len = usize::try_from(read_varint(bytes, &mut at)?).ok()?;
                at = at.checked_add(len)?;
            }
            (_, 5) => at += 4,
            _ => return None,
        }
    }
    None
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::InflightSettlements {} => {
            to_binary(&InflightSettlementsResponse { settlements: inflight_settlements(deps.storage)? })
        }
        QueryMsg::Settlement { id } => match load_settlement(deps.storage, &id)? {
            Some(s) => to_binary(&s),
            None => Err(cosmwasm_std::StdError::not_found(format!("intent_settlement::state::Settlement {}", id))),
        },
        QueryMsg::Config {} => to_binary(&CONFIG.load(deps.storage)?),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, env: Env, msg: MigrateMsg) -> Result<Response, ContractError> {
    crate::migrate::migrate(deps, env, msg)
}
