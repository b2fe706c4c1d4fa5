/**
 * The settlement contract model on its own (pure functions over its storage): phases only move forward,
 * only the creator or the admin may act on a settlement, terminal settlements refuse changes, messages are
 * parsed the way cw_serde would and bad ones are refused naming the field, the raw keys follow
 * cw-storage-plus, and IBC outcomes update the settlement. Plus the event query language the chain matches.
 */
import t from 'tap'
import { execute, instantiate, migrate, onPacketOutcome, query, rawGet, recordPacket, type ContractStorage } from '../../sandbox/chain/contract.js'
import { matches, parseQuery } from '../../sandbox/chain/querylang.js'

const ADMIN = 'wasm1admin'
const SERVICE = 'wasm1service'
const now = 1_800_000_000
const env = (sender: string): { sender: string, now: number } => ({ sender, now })

function fresh (): ContractStorage {
  const storage = instantiate(ADMIN, '1.0', 'channel-0', 600)
  execute(storage, env(SERVICE), { create_settlement: { id: 'a', user: 'cosmos1user', amount: '10', denom: 'uatom', timeout: now + 100 } })
  return storage
}

t.test('create, advance, complete', async (t) => {
  const storage = instantiate(ADMIN, '1.0', 'channel-0', 600)
  const created = execute(storage, env(SERVICE), { create_settlement: { id: 'a', user: 'cosmos1user', amount: '10', denom: 'uatom', timeout: now + 100, recipient: 'osmo1dest' } })
  t.same(created.transfers, [{ settlementId: 'a', channel: 'channel-0', amount: '10', denom: 'uatom', receiver: 'osmo1dest', memo: 'settlement:a', timeoutSecs: 600 }], 'the funds leave over the configured channel')
  t.throws(() => execute(storage, env(SERVICE), { create_settlement: { id: 'a', user: 'u', amount: '1', denom: 'd', timeout: now + 1 } }), /Settlement a already exists/)
  t.throws(() => execute(storage, env(SERVICE), { create_settlement: { id: 'b', user: 'u', amount: '0', denom: 'd', timeout: now + 1 } }), /amount must be a positive integer/)
  t.throws(() => execute(storage, env(SERVICE), { create_settlement: { id: 'b', user: 'u', amount: '1', denom: 'd', timeout: now } }), /timeout .* is not after the block time/)
  t.throws(() => execute(storage, env(SERVICE), { create_settlement: { id: 'b', user: 'u', denom: 'd', timeout: now + 1 } }), /missing field `amount`/)

  execute(storage, env(SERVICE), { advance_settlement: { id: 'a', phase: 'ibc_in_flight' } })
  t.throws(() => execute(storage, env(SERVICE), { advance_settlement: { id: 'a', phase: 'solver_funds_locked' } }), /Invalid phase transition .* ibc_in_flight -> solver_funds_locked/, 'phases only move forward')
  t.throws(() => execute(storage, env(SERVICE), { advance_settlement: { id: 'a', phase: 'completed' } }), /unknown variant `completed`/, 'terminal phases come only from complete/refund')
  t.throws(() => execute(storage, env('wasm1stranger'), { complete_settlement: { id: 'a' } }), /^Unauthorized$/)
  execute(storage, env(ADMIN), { extend_timeout: { id: 'a', additional_seconds: 50 } })
  t.match(query(storage, { settlement: { id: 'a' } }), { timeout: now + 150 }, 'the admin may extend')
  execute(storage, env(SERVICE), { complete_settlement: { id: 'a' } })
  t.throws(() => execute(storage, env(SERVICE), { refund_settlement: { id: 'a' } }), /Settlement a is already completed/)
  t.same(query(storage, { inflight_settlements: {} }), { settlements: [] })
  t.throws(() => execute(storage, env(SERVICE), { delete_everything: {} }), /unknown variant `delete_everything`, expected one of `create_settlement`/)
  t.throws(() => query(storage, { settlement: { id: 'zzz' } }), /Settlement not found: zzz/)
  t.match(query(storage, { config: {} }), { admin: ADMIN, ibc_channel: 'channel-0' })
})

t.test('raw keys as cw-storage-plus lays them out', async (t) => {
  const storage = fresh()
  const text = (key: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(rawGet(storage, key)!))
  t.same(text(new TextEncoder().encode('contract_info')), { contract: 'crates.io:intent-settlement', version: '1.0' })
  t.match(text(Uint8Array.from([0, 11, ...new TextEncoder().encode('settlementsa')])), { id: 'a' })
  t.equal(rawGet(storage, new TextEncoder().encode('nothing')), undefined)
})

t.test('migrate: the design MigrateMsg, refused and applied', async (t) => {
  const storage = fresh()
  t.throws(() => migrate(storage, env(ADMIN), { new_version: '2.0', config: { preserve_inflight: false, stuck_settlement_action: 'preserve' } }), /Cannot migrate: 1 inflight settlements exist/)
  t.throws(() => migrate(storage, env(ADMIN), { new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'shred' } }), /unknown variant "shred", expected one of `preserve`, `refund_and_cancel`, `extend_timeout`/)
  t.throws(() => migrate(storage, env(ADMIN), { new_version: '2.0', config: { stuck_settlement_action: 'preserve' } }), /`preserve_inflight`/)
  t.throws(() => migrate(storage, env(ADMIN), { config: null }), /missing field `new_version`/)
  t.equal(storage.cw2.version, '1.0', 'refusals change nothing')
  const response = migrate(storage, env(ADMIN), { new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: { extend_timeout: { additional_seconds: 7 } }, new_config: { ibc_timeout_secs: 900 } } })
  t.same(response.attributes.slice(0, 4), [['action', 'migrate'], ['from_version', '1.0'], ['to_version', '2.0'], ['preserved_inflight', '1']])
  t.match(query(storage, { settlement: { id: 'a' } }), { timeout: now + 107, phase: 'user_funds_locked' })
  t.match(query(storage, { config: {} }), { ibc_timeout_secs: 900 }, 'new_config applied')
})

t.test('IBC outcomes', async (t) => {
  const storage = fresh()
  recordPacket(storage, 'a', 'channel-0', 4)
  onPacketOutcome(storage, env('wasm1contract'), 'a', 'acknowledged')
  t.match(query(storage, { settlement: { id: 'a' } }), { phase: 'user_funds_locked', ibc_packet: { sequence: 4, status: 'acknowledged' } })
  const other = fresh()
  recordPacket(other, 'a', 'channel-0', 5)
  onPacketOutcome(other, env('wasm1contract'), 'a', 'timed_out')
  t.match(query(other, { settlement: { id: 'a' } }), { phase: 'refunded', ibc_packet: { status: 'timed_out' } }, 'a timeout refunds')
})

t.test('the event query language', async (t) => {
  const events = { 'tm.event': ['Tx'], 'tx.height': ['12'], 'send_packet.packet_sequence': ['3', '4'], 'wasm.action': ['create_settlement'] }
  t.ok(matches(parseQuery("tm.event='Tx' AND send_packet.packet_sequence='4'"), events), 'any value of a key may match')
  t.ok(matches(parseQuery('tx.height>=12 AND tx.height<13'), events))
  t.notOk(matches(parseQuery('tx.height>12'), events))
  t.ok(matches(parseQuery("wasm.action CONTAINS 'settle'"), events))
  t.ok(matches(parseQuery('wasm.action EXISTS'), events))
  t.notOk(matches(parseQuery("acknowledge_packet.packet_sequence='3'"), events))
  t.throws(() => parseQuery("tm.event='Tx' AND"), /failed to parse query/)
  t.throws(() => parseQuery(''), /empty query/)
})
