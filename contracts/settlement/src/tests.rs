//! The contract's logic on the host (`cargo test`; `cargo test --features v2` for 2.0), through its entry points.

use cosmwasm_std::testing::{mock_dependencies, mock_env, mock_info, MockApi, MockQuerier, MockStorage};
use cosmwasm_std::{coins, from_binary, BankMsg, CosmosMsg, Env, IbcMsg, OwnedDeps, Timestamp, Uint128};
use cw2::{get_contract_version, set_contract_version};

use crate::contract::{execute, instantiate, query, reply, transfer_response_sequence};
use crate::error::ContractError;
use crate::migrate::migrate;
use crate::msg::{
    ConfigUpdate, ExecuteMsg, InflightSettlementsResponse, InstantiateMsg, MigrateMsg, MigrationConfig, QueryMsg,
    StuckSettlementAction,
};
use crate::state::{Config, Phase, Settlement, SETTLEMENTS_V1, SETTLEMENTS_V2};
use crate::version::{CONTRACT_NAME, CONTRACT_VERSION};

type Deps = OwnedDeps<MockStorage, MockApi, MockQuerier>;

const NOW: u64 = 1_700_000_000;

fn env_at(secs: u64) -> Env {
    let mut env = mock_env();
    env.block.time = Timestamp::from_seconds(secs);
    env
}

fn setup(ibc_channel: Option<&str>) -> Deps {
    let mut deps = mock_dependencies();
    let msg = InstantiateMsg { admin: None, ibc_channel: ibc_channel.map(String::from), ibc_timeout_secs: None };
    instantiate(deps.as_mut(), env_at(NOW), mock_info("admin", &[]), msg).unwrap();
    deps
}

fn create(deps: &mut Deps, sender: &str, id: &str, funds: &[cosmwasm_std::Coin]) -> Result<cosmwasm_std::Response, ContractError> {
    let msg = ExecuteMsg::CreateSettlement {
        id: id.into(),
        user: "user1".into(),
        amount: Uint128::new(100),
        denom: "ustake".into(),
        timeout: NOW + 60,
        solver: None,
        recipient: Some("recipient1".into()),
    };
    execute(deps.as_mut(), env_at(NOW), mock_info(sender, funds), msg)
}

fn settlement(deps: &Deps, id: &str) -> Settlement {
    from_binary(&query(deps.as_ref(), mock_env(), QueryMsg::Settlement { id: id.into() }).unwrap()).unwrap()
}

fn inflight(deps: &Deps) -> Vec<String> {
    let r: InflightSettlementsResponse =
        from_binary(&query(deps.as_ref(), mock_env(), QueryMsg::InflightSettlements {}).unwrap()).unwrap();
    r.settlements.into_iter().map(|s| s.id).collect()
}

fn migrate_msg(preserve: bool, action: StuckSettlementAction) -> MigrateMsg {
    MigrateMsg {
        new_version: "2.0".into(),
        config: Some(MigrationConfig { preserve_inflight: preserve, stuck_settlement_action: action, new_config: None }),
    }
}

fn attr<'a>(r: &'a cosmwasm_std::Response, key: &str) -> &'a str {
    &r.attributes.iter().find(|a| a.key == key).unwrap_or_else(|| panic!("no attribute {}", key)).value
}

#[test]
fn instantiate_sets_cw2_and_config() {
    let deps = setup(Some("channel-0"));
    let v = get_contract_version(&deps.storage).unwrap();
    assert_eq!((v.contract.as_str(), v.version.as_str()), (CONTRACT_NAME, CONTRACT_VERSION));
    let config: Config = from_binary(&query(deps.as_ref(), mock_env(), QueryMsg::Config {}).unwrap()).unwrap();
    assert_eq!(config.admin.as_str(), "admin");
    assert_eq!(config.ibc_channel.as_deref(), Some("channel-0"));
    assert_eq!(config.ibc_timeout_secs, 600);
}

#[test]
fn create_holds_exactly_the_amount_in_escrow_or_nothing() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &coins(100, "ustake")).unwrap();
    assert_eq!(settlement(&deps, "s1").escrow, Some(cosmwasm_std::coin(100, "ustake")));
    create(&mut deps, "alice", "s2", &[]).unwrap();
    assert_eq!(settlement(&deps, "s2").escrow, None);
    let wrong = create(&mut deps, "alice", "s3", &coins(99, "ustake")).unwrap_err();
    assert_eq!(wrong.to_string(), "Escrow must be exactly 100ustake, got 99ustake");
    assert_eq!(create(&mut deps, "alice", "s1", &[]).unwrap_err(), ContractError::SettlementExists("s1".into()));
}

#[test]
fn create_refuses_bad_fields_naming_them() {
    let mut deps = setup(None);
    let msg = ExecuteMsg::CreateSettlement {
        id: "late".into(),
        user: "u".into(),
        amount: Uint128::new(1),
        denom: "ustake".into(),
        timeout: NOW,
        solver: None,
        recipient: None,
    };
    let err = execute(deps.as_mut(), env_at(NOW), mock_info("alice", &[]), msg).unwrap_err();
    assert_eq!(err.to_string(), format!("Invalid timeout: {} is not after the block time {}", NOW, NOW));
}

#[test]
fn phases_go_forward_only_and_terminal_settlements_refuse_everything() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &[]).unwrap();
    let advance = |deps: &mut Deps, phase| {
        execute(deps.as_mut(), env_at(NOW + 1), mock_info("alice", &[]), ExecuteMsg::AdvanceSettlement { id: "s1".into(), phase })
    };
    advance(&mut deps, Phase::IbcInFlight).unwrap();
    assert!(matches!(advance(&mut deps, Phase::SolverFundsLocked), Err(ContractError::PhaseBackwards { .. })));
    execute(deps.as_mut(), env_at(NOW + 2), mock_info("alice", &[]), ExecuteMsg::CompleteSettlement { id: "s1".into() }).unwrap();
    assert_eq!(inflight(&deps), Vec::<String>::new());
    let again = execute(deps.as_mut(), env_at(NOW + 3), mock_info("alice", &[]), ExecuteMsg::RefundSettlement { id: "s1".into() });
    assert_eq!(again.unwrap_err().to_string(), "Settlement s1 is already completed");
}

#[test]
fn only_the_creator_or_the_admin_may_act() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &[]).unwrap();
    let extend = |deps: &mut Deps, who: &str| {
        execute(deps.as_mut(), env_at(NOW), mock_info(who, &[]), ExecuteMsg::ExtendTimeout { id: "s1".into(), additional_seconds: 30 })
    };
    assert!(matches!(extend(&mut deps, "mallory"), Err(ContractError::Unauthorized(_))));
    assert_eq!(attr(&extend(&mut deps, "alice").unwrap(), "timeout"), (NOW + 90).to_string());
    assert_eq!(settlement(&deps, "s1").timeout, NOW + 90);
    extend(&mut deps, "admin").unwrap();
    assert_eq!(settlement(&deps, "s1").timeout, NOW + 120);
}

#[test]
fn completion_releases_the_escrow_over_ibc_or_by_bank_send() {
    let mut deps = setup(Some("channel-0"));
    create(&mut deps, "alice", "s1", &coins(100, "ustake")).unwrap();
    let r = execute(deps.as_mut(), env_at(NOW), mock_info("alice", &[]), ExecuteMsg::CompleteSettlement { id: "s1".into() }).unwrap();
    match &r.messages[0].msg {
        CosmosMsg::Ibc(IbcMsg::Transfer { channel_id, to_address, amount, .. }) => {
            assert_eq!((channel_id.as_str(), to_address.as_str()), ("channel-0", "recipient1"));
            assert_eq!(amount, &cosmwasm_std::coin(100, "ustake"));
        }
        other => panic!("expected an ICS-20 transfer, got {:?}", other),
    }
    assert_eq!(settlement(&deps, "s1").ibc_packet.unwrap().channel, "channel-0");

    let mut deps = setup(None);
    create(&mut deps, "alice", "s2", &coins(100, "ustake")).unwrap();
    let r = execute(deps.as_mut(), env_at(NOW), mock_info("alice", &[]), ExecuteMsg::RefundSettlement { id: "s2".into() }).unwrap();
    assert_eq!(r.messages[0].msg, CosmosMsg::Bank(BankMsg::Send { to_address: "alice".into(), amount: coins(100, "ustake") }));
}

#[test]
fn the_transfer_reply_records_the_sequence_from_the_event_or_from_msg_transfer_response() {
    use cosmwasm_std::{Binary, Event, Reply, SubMsgResponse, SubMsgResult};
    let complete = |deps: &mut Deps, id: &str| {
        create(deps, "alice", id, &coins(100, "ustake")).unwrap();
        let r = execute(deps.as_mut(), env_at(NOW), mock_info("alice", &[]), ExecuteMsg::CompleteSettlement { id: id.into() }).unwrap();
        r.messages[0].id
    };
    let mut deps = setup(Some("channel-0"));
    // What wasmd 0.54 gives: no events for a non-wasm submessage, the MsgTransferResponse {sequence: 300} as data.
    let reply_id = complete(&mut deps, "s1");
    let answer = SubMsgResponse { events: vec![], data: Some(Binary(vec![0x08, 0xac, 0x02])) };
    let r = reply(deps.as_mut(), env_at(NOW), Reply { id: reply_id, result: SubMsgResult::Ok(answer) }).unwrap();
    assert_eq!(attr(&r, "packet_sequence"), "300");
    assert_eq!(settlement(&deps, "s1").ibc_packet.unwrap().sequence, Some(300));
    // A chain that passes the events on: the send_packet event's attribute.
    let reply_id = complete(&mut deps, "s2");
    let answer = SubMsgResponse { events: vec![Event::new("send_packet").add_attribute("packet_sequence", "7")], data: None };
    reply(deps.as_mut(), env_at(NOW), Reply { id: reply_id, result: SubMsgResult::Ok(answer) }).unwrap();
    assert_eq!(settlement(&deps, "s2").ibc_packet.unwrap().sequence, Some(7));
}

#[test]
fn msg_transfer_response_decoding() {
    assert_eq!(transfer_response_sequence(&[0x08, 0x2a]), Some(42));
    assert_eq!(transfer_response_sequence(&[0x08, 0xac, 0x02]), Some(300));
    // an unknown length-delimited field first is skipped
    assert_eq!(transfer_response_sequence(&[0x12, 0x01, 0x00, 0x08, 0x05]), Some(5));
    assert_eq!(transfer_response_sequence(&[]), None);
    assert_eq!(transfer_response_sequence(&[0x08, 0x80]), None);
}

#[test]
fn migrate_refuses_inflight_settlements_unless_preserved() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &[]).unwrap();
    create(&mut deps, "alice", "s2", &[]).unwrap();
    let err = migrate(deps.as_mut(), env_at(NOW), migrate_msg(false, StuckSettlementAction::Preserve)).unwrap_err();
    assert_eq!(err.to_string(), "Cannot migrate: 2 inflight settlements exist");
}

#[test]
fn migrate_preserves_settlements_and_reports_the_seed_attributes() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &coins(100, "ustake")).unwrap();
    create(&mut deps, "alice", "s2", &[]).unwrap();
    let before = (settlement(&deps, "s1"), settlement(&deps, "s2"));
    let r = migrate(deps.as_mut(), env_at(NOW + 5), migrate_msg(true, StuckSettlementAction::Preserve)).unwrap();
    assert_eq!(attr(&r, "action"), "migrate");
    assert_eq!(attr(&r, "from_version"), CONTRACT_VERSION);
    assert_eq!(attr(&r, "to_version"), "2.0");
    assert_eq!(attr(&r, "preserved_inflight"), "2");
    assert_eq!(attr(&r, "stuck_settlement_action"), "preserve");
    assert_eq!((settlement(&deps, "s1"), settlement(&deps, "s2")), before);
    assert_eq!(get_contract_version(&deps.storage).unwrap().version, "2.0");
}

#[test]
fn migrate_refund_and_cancel_returns_every_escrow() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &coins(100, "ustake")).unwrap();
    create(&mut deps, "bob", "s2", &[]).unwrap();
    let r = migrate(deps.as_mut(), env_at(NOW), migrate_msg(true, StuckSettlementAction::RefundAndCancel)).unwrap();
    assert_eq!(attr(&r, "affected_settlements"), "2");
    assert_eq!(r.messages.len(), 1, "only the escrowed settlement pays back");
    assert_eq!(settlement(&deps, "s1").phase, Phase::Cancelled);
    assert_eq!(inflight(&deps), Vec::<String>::new());
}

#[test]
fn migrate_extend_timeout_adds_the_seconds() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &[]).unwrap();
    migrate(deps.as_mut(), env_at(NOW), migrate_msg(true, StuckSettlementAction::ExtendTimeout { additional_seconds: 3600 })).unwrap();
    assert_eq!(settlement(&deps, "s1").timeout, NOW + 60 + 3600);
}

#[test]
fn migrate_applies_a_new_config() {
    let mut deps = setup(None);
    let mut msg = migrate_msg(true, StuckSettlementAction::Preserve);
    msg.config.as_mut().unwrap().new_config =
        Some(ConfigUpdate { admin: None, ibc_channel: Some("channel-7".into()), ibc_timeout_secs: Some(30) });
    migrate(deps.as_mut(), env_at(NOW), msg).unwrap();
    let config: Config = from_binary(&query(deps.as_ref(), mock_env(), QueryMsg::Config {}).unwrap()).unwrap();
    assert_eq!((config.ibc_channel.as_deref(), config.ibc_timeout_secs), (Some("channel-7"), 30));
}

#[test]
fn migrate_refuses_another_contracts_storage() {
    let mut deps = setup(None);
    set_contract_version(&mut deps.storage, "crates.io:intent-escrow", "1.0").unwrap();
    let err = migrate(deps.as_mut(), env_at(NOW), migrate_msg(true, StuckSettlementAction::Preserve)).unwrap_err();
    assert_eq!(err.to_string(), "Generic error: Cannot migrate from crates.io:intent-escrow to crates.io:intent-settlement");
}

/// The storage change: settlements written in the other version's layout are moved into this build's.
#[test]
fn migrate_moves_settlements_from_the_other_layout() {
    let mut deps = setup(None);
    create(&mut deps, "alice", "s1", &[]).unwrap();
    let s1 = settlement(&deps, "s1");
    // Put s1 where the other version keeps it, as if the contract had been running the other code.
    if cfg!(feature = "v2") {
        SETTLEMENTS_V2.remove(&mut deps.storage, "s1");
        SETTLEMENTS_V1.save(&mut deps.storage, "s1", &s1).unwrap();
    } else {
        SETTLEMENTS_V1.remove(&mut deps.storage, "s1");
        SETTLEMENTS_V2.save(&mut deps.storage, "s1", &crate::state::StoredV2 { schema: 2, settlement: s1.clone() }).unwrap();
    }
    set_contract_version(&mut deps.storage, CONTRACT_NAME, "1.5").unwrap();
    let r = migrate(deps.as_mut(), env_at(NOW), migrate_msg(true, StuckSettlementAction::Preserve)).unwrap();
    assert_eq!(attr(&r, "moved_settlements"), "1");
    assert_eq!(settlement(&deps, "s1"), s1);
    assert_eq!(inflight(&deps), vec!["s1".to_string()]);
}

#[cfg(feature = "v2")]
#[test]
fn v2_refuses_a_downgrade_and_can_pause() {
    let mut deps = setup(None);
    set_contract_version(&mut deps.storage, CONTRACT_NAME, "3.0").unwrap();
    let err = migrate(deps.as_mut(), env_at(NOW), migrate_msg(true, StuckSettlementAction::Preserve)).unwrap_err();
    assert_eq!(err.to_string(), "Generic error: Cannot migrate from newer version (3.0) to older (2.0)");
    execute(deps.as_mut(), env_at(NOW), mock_info("admin", &[]), ExecuteMsg::SetPaused { paused: true }).unwrap();
    assert_eq!(create(&mut deps, "alice", "s1", &[]).unwrap_err(), ContractError::Paused {});
}

#[cfg(not(feature = "v2"))]
#[test]
fn v1_accepts_coming_back_from_2_0() {
    let mut deps = setup(None);
    set_contract_version(&mut deps.storage, CONTRACT_NAME, "2.0").unwrap();
    let mut msg = migrate_msg(true, StuckSettlementAction::Preserve);
    msg.new_version = "1.0".into();
    migrate(deps.as_mut(), env_at(NOW), msg).unwrap();
    assert_eq!(get_contract_version(&deps.storage).unwrap().version, "1.0");
}
