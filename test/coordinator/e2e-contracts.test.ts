// The contracts an upgrade moves, end to end on real processes (Redis, the local chain with its settlement and
// escrow contracts, blue 1.0 and green 2.0 services, intent-gate serve): settlement and escrow migrated in one
// upgrade under signed traffic and both reverted (newest first) when a post-check fails; the escrow's migration
// failing in its block reverts the settlement contract migrated before it; a downgrade, and a revert the chain would
// refuse, refused before anything is sent; a leader killed right after broadcasting a migration, and the next
// leader waiting past that transaction's timeout height before it decides what to revert.
import t, { type Test } from 'tap'
import { CosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { fromUtf8, toUtf8 } from '@cosmjs/encoding'
import type { GatewayProcess } from '../helpers/gateway.js'
import { FEE, signingClient } from '../sandbox/chain-harness.js'
import { contractView, createSettlement, startCoordinatedGateway, startWorld, statusOf, steadyLoad, untilState, type World } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]
/** An upper bound only (the waits end on the state): on a machine shared with other test runs a phase takes seconds. */
const SLOW_MS = 240_000

interface EscrowInfo { escrow_contract: string, escrow_code_ids: Record<string, number>, escrow_checksums: Record<string, string> }
const escrowOf = (w: World): EscrowInfo => w.chain.info as unknown as EscrowInfo

/** `[chain.contracts]` naming the chain's escrow contract, after the given `[health_checks]`. */
const withEscrow = (w: World, healthChecks: string): string =>
  `${healthChecks}\n\n[chain.contracts]\nescrow = "${escrowOf(w).escrow_contract}"\n`

async function reader (t: Test, w: World): Promise<CosmWasmClient> {
  const client = await CosmWasmClient.connect(w.chain.info.rpc)
  t.teardown(() => client.disconnect())
  return client
}

async function escrowView (client: CosmWasmClient, w: World): Promise<{ codeId: number, version: string }> {
  const address = escrowOf(w).escrow_contract
  const raw = await client.queryContractRaw(address, toUtf8('contract_info'))
  const { codeId } = await client.getContract(address)
  return { codeId, version: (JSON.parse(fromUtf8(raw as Uint8Array)) as { version: string }).version }
}

/**
 * The pre-checks without ibc_relayer: on a busy machine the watcher of a freshly started gateway can trail the
 * 200 ms blocks by more than its 5-height allowance, which says nothing about the contracts these tests are about.
 */
/**
 * 100 blocks of 200 ms: a gateway transaction's timeout height leaves 20 s between the coordinator journaling it and
 * the chain receiving the tx, which a loaded test machine needs (a real chain's 20 blocks are minutes).
 */
const CHAIN = 'tx_timeout_blocks = 100'

const CONTRACT_CHECKS = '[health_checks]\npre_checks = ["settlement_store", "contract_state"]\ncheck_timeout_secs = 5'

const settlementTarget = (w: World): Record<string, unknown> => ({ code_id: w.chain.info.code_ids['2.0'], checksum: w.chain.info.checksums['2.0'] })
const escrowTarget = (w: World, rollback = true): Record<string, unknown> => {
  const e = escrowOf(w)
  return {
    name: 'escrow',
    code_id: e.escrow_code_ids['2.0'],
    checksum: e.escrow_checksums['2.0'],
    ...(rollback ? { rollback: { code_id: e.escrow_code_ids['1.0-rollback'], checksum: e.escrow_checksums['1.0-rollback'] } } : {})
  }
}

t.test('settlement and escrow migrated in one upgrade under signed traffic, both reverted newest first when a post-check fails', async (t) => {
  const w = await startWorld(t, { settleMs: 800 })
  await createSettlement(w, 'pre-existing-e')
  const gw = await startCoordinatedGateway(t, w, { chain: CHAIN, extra: withEscrow(w, CONTRACT_CHECKS) })
  const chain = await reader(t, w)
  const load = steadyLoad(() => [gw.proxyUrl])
  await untilState(async () => ({ state: (await w.blue.stats()).accepted > 3 ? 'serving' : 'starting' }), ['serving'], SLOW_MS)
  const start = await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: settlementTarget(w), contracts: [escrowTarget(w)] })
  t.equal(start.status, 202)
  await untilState(statusOf(gw), ['draining'], SLOW_MS)
  // Green turning unhealthy now fails the post-checks, after both contracts have migrated.
  await fetch(`${w.green.url}/sandbox/health`, { method: 'POST', body: JSON.stringify({ healthy: false }) })
  const done = await untilState(statusOf(gw), FINAL, SLOW_MS)
  t.equal(done.state, 'rolled_back', done.error ?? '')
  t.match(done.error, /post-checks failed/)
  t.same(done.steps.map((s) => [s.name, s.status]).filter(([name]) => String(name).startsWith('contract')), [['contract_migration', 'reverted'], ['contract_migration:escrow', 'reverted']])
  const [settlementStep, escrowStep] = [done.steps.find((s) => s.name === 'contract_migration'), done.steps.find((s) => s.name === 'contract_migration:escrow')]
  t.match(escrowStep?.detail, { contract: 'escrow', old_code_id: escrowOf(w).escrow_code_ids['1.0'], revert_via: 'rollback_code', revert_code_id: escrowOf(w).escrow_code_ids['1.0-rollback'], tx_hash: /^[0-9A-F]{64}$/, timeout_height: Number })
  t.match(settlementStep?.detail, { contract: 'settlement', revert_via: 'old_code', tx_hash: /^[0-9A-F]{64}$/ })
  t.ok((escrowStep?.updated_at ?? Infinity) <= (settlementStep?.updated_at ?? 0), 'the escrow (migrated last) was reverted first')
  const settlement = await contractView(w)
  t.same([settlement.codeId, settlement.version], [w.chain.info.code_ids['1.0'], '1.0'], 'the settlement contract is back on its old code')
  t.ok(settlement.inflight.includes('pre-existing-e'), 'its inflight settlement survived both migrations')
  t.same(await escrowView(chain, w), { codeId: escrowOf(w).escrow_code_ids['1.0-rollback'], version: '1.0' }, 'the escrow is back on 1.0 through the rollback build')
  const e = escrowOf(w)
  t.same((await chain.getContractCodeHistory(e.escrow_contract)).map((h) => h.codeId), [e.escrow_code_ids['1.0'], e.escrow_code_ids['2.0'], e.escrow_code_ids['1.0-rollback']], 'the escrow went to 2.0 and back')
  const checkpoint = await gw.admin<{ contracts: Array<{ name: string, version: string, code_id: number }> }>('GET', `/admin/checkpoints/${done.checkpoint_id ?? ''}`)
  t.match(checkpoint.body.contracts, [{ name: 'escrow', contract: 'crates.io:intent-escrow', version: '1.0', code_id: escrowOf(w).escrow_code_ids['1.0'] }], 'the checkpoint holds the escrow\'s cw2 info')
  const result = await load.stop()
  t.same(result.failed, [], 'no intent failed')
})

t.test('the escrow\'s migration fails in its block: the settlement contract migrated before it is reverted', async (t) => {
  const w = await startWorld(t)
  const gw = await startCoordinatedGateway(t, w, { chain: CHAIN, extra: withEscrow(w, CONTRACT_CHECKS) })
  const chain = await reader(t, w)
  await w.chain.control('/sandbox/faults', { migrate_fails: { [escrowOf(w).escrow_contract]: 1 } })
  const load = steadyLoad(() => [gw.proxyUrl])
  const start = await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: settlementTarget(w), contracts: [escrowTarget(w)] })
  t.equal(start.status, 202)
  const done = await untilState(statusOf(gw), FINAL, SLOW_MS)
  t.equal(done.state, 'rolled_back', done.error ?? '')
  t.match(done.error, /step contract_migration:escrow failed: .*injected fault/)
  t.same(done.steps.map((s) => [s.name, s.status]).filter(([name]) => String(name).startsWith('contract')), [['contract_migration', 'reverted'], ['contract_migration:escrow', 'reverted']])
  t.same((await chain.getContractCodeHistory(w.chain.info.settlement_contract)).map((h) => h.codeId), [1, 2, 1], 'the settlement contract went to 2.0 and back')
  t.same(await escrowView(chain, w), { codeId: escrowOf(w).escrow_code_ids['1.0'], version: '1.0' }, 'the escrow never moved')
  t.same((await contractView(w)).version, '1.0')
  const result = await load.stop()
  t.same(result.failed, [], 'no intent failed')
})

t.test('refused before anything is sent: a revert the chain would refuse, a downgrade, a contract not configured', async (t) => {
  const w = await startWorld(t)
  const gw = await startCoordinatedGateway(t, w, { chain: CHAIN, extra: withEscrow(w, CONTRACT_CHECKS) })
  const chain = await reader(t, w)
  const e = escrowOf(w)
  const sequence = async (): Promise<number> => (await chain.getSequence(w.chain.info.admin_address)).sequence
  const before = await sequence()

  // Escrow 1.0 (code 3) calls ensure_from_older_version: an upgrade to 2.0 without a rollback code could not be
  // reverted; the dry run shows it.
  await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: settlementTarget(w), contracts: [escrowTarget(w, false)] })
  const noWayBack = await untilState(statusOf(gw), FINAL, SLOW_MS)
  t.equal(noWayBack.state, 'rolled_back')
  t.match(noWayBack.error, /contract escrow: the chain would refuse its revert \(back to its old code 3, from 2\.0 to 1\.0\): .*Cannot migrate from newer version \(2\.0\) to older \(1\.0\).*rollback code/)
  t.same(noWayBack.phases.map((p) => p.phase), ['pre_checks', 'rolled_back'], 'it never drained')
  t.equal(await sequence(), before, 'nothing was sent: the admin\'s sequence did not move')
  t.equal((await contractView(w)).codeId, w.chain.info.code_ids['1.0'], 'the settlement contract, checked first, was not migrated either')

  // The escrow on 2.0 (migrated by hand): an upgrade that would take it to 1.0 is a downgrade.
  const admin = await signingClient(w.chain, w.chain.info.admin_mnemonic)
  await admin.client.migrate(admin.address, e.escrow_contract, e.escrow_code_ids['2.0'] as number, { new_version: '2.0' }, FEE)
  const afterSetup = await sequence()
  const downgrade = await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contracts: [{ name: 'escrow', code_id: e.escrow_code_ids['1.0-rollback'], checksum: e.escrow_checksums['1.0-rollback'], migrate_msg: { new_version: '1.0' } }] })
  t.equal(downgrade.status, 202)
  const refused = await untilState(async () => { const s = await statusOf(gw)(); return s.upgrade_id === noWayBack.upgrade_id ? { ...s, state: 'previous' } : s }, FINAL, SLOW_MS)
  t.equal(refused.state, 'rolled_back')
  t.match(refused.error, /contract escrow: the target version 1\.0 is not newer than its cw2 version 2\.0 \(crates\.io:intent-escrow\).*nothing was sent/)
  t.same(refused.phases.map((p) => p.phase), ['pre_checks', 'rolled_back'], 'it never drained')
  t.equal(await sequence(), afterSetup, 'nothing was sent')
  t.same(await escrowView(chain, w), { codeId: e.escrow_code_ids['2.0'], version: '2.0' })

  const unknown = await gw.admin<{ detail: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contracts: [{ name: 'vault', code_id: 4, checksum: e.escrow_checksums['2.0'] }] })
  t.equal(unknown.status, 400)
  t.match(unknown.body.detail, /contracts\[0\]\.name: vault is not a contract this gateway knows/)
})

t.test('a leader killed right after broadcasting a migration: the next leader waits past its timeout height, then reverts what landed', async (t) => {
  const w = await startWorld(t)
  // Halted blocks make the IBC watcher unhealthy too.
  const extra = CONTRACT_CHECKS
  const a = await startCoordinatedGateway(t, w, { chain: CHAIN, instance: 'a', extra })
  const b = await startCoordinatedGateway(t, w, { chain: CHAIN, instance: 'b', extra })
  const chain = await reader(t, w)
  await w.chain.control('/sandbox/blocks/halt')
  const start = await a.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: settlementTarget(w) })
  t.equal(start.status, 202)
  // The migration is in the mempool (broadcast, accepted by CheckTx) and the step journaled with its timeout height.
  const pending = async (): Promise<number> => Number(((await (await fetch(`${w.chain.info.rpc}/num_unconfirmed_txs`)).json()) as { result: { n_txs: string } }).result.n_txs)
  await untilState(async () => ({ state: (await pending()) > 0 ? 'broadcast' : 'not yet' }), ['broadcast'], SLOW_MS)
  const status = await statusOf(a)()
  const step = status.steps.find((s) => s.name === 'contract_migration')
  t.equal(step?.status, 'applying')
  const timeoutHeight = Number(step?.detail?.timeout_height)
  t.ok(timeoutHeight > await chain.getHeight(), `journaled timeout height ${timeoutHeight}`)
  const leader: GatewayProcess = status.leader.is_leader ? a : b
  const next = leader === a ? b : a
  await leader.stop('SIGKILL')

  // The next leader takes over and must not decide while the broadcast migration can still land.
  await untilState(async () => ({ state: next.stderr().includes('waiting until the chain passes its timeout height') ? 'waiting' : 'not yet' }), ['waiting'], SLOW_MS)
  t.equal((await statusOf(next)()).state, 'rolling_back', 'still rolling back: nothing decided')
  t.equal((await contractView(w)).codeId, w.chain.info.code_ids['1.0'], 'the dead leader\'s migration has not landed yet')
  await w.chain.control('/sandbox/blocks/resume')
  const done = await untilState(statusOf(next), FINAL, SLOW_MS)
  t.equal(done.state, 'rolled_back', done.error ?? '')
  t.ok(await chain.getHeight() >= timeoutHeight, 'decided only once the chain passed the timeout height')
  t.same((await chain.getContractCodeHistory(w.chain.info.settlement_contract)).map((h) => h.codeId), [1, 2, 1], 'the late migration landed, and was reverted')
  const contract = await contractView(w)
  t.same([contract.codeId, contract.version], [w.chain.info.code_ids['1.0'], '1.0'])
})
