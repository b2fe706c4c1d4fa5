// A relayer outage on a real network (two wasmd chains, the Go relayer, the settlement contract on A) seen by a
// real gateway: N ICS-20 transfers sent while the relayer is stopped are pending N through the admin API and
// /metrics; an upgrade asked for waits in its drain; once the relayer is started they are acknowledged, pending
// is 0, and the upgrade goes on to migrate the real contract (1.0 -> 2.0, inflight settlements preserved) and swap,
// under signed traffic with no intent failed. Then the same with the gateway restarted while the relayer was down
// and transfers sent while the gateway was away (the restarted watcher reads the heights it missed).
// Last, an upgrade end to end on the real chain: the sample services settle every signed intent in the real
// contract while the coordinator migrates it under that traffic; each intent is accepted once and ends as one
// completed settlement.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { GatewayProcess, ServiceProcess } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { startService } from '../helpers/gateway.js'
import { startCoordinatedGateway, statusOf, steadyLoad, untilState, type World } from '../coordinator/helpers/e2e.js'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { QueryClient, setupIbcExtension } from '@cosmjs/stargate'
import { FINAL_STATES } from '../../src/coordinator/run.js'
import { startNetwork, type Network } from '../../sandbox/realchain/network.js'
import { DENOM, GAS_PRICE } from '../../sandbox/realchain/wasmd.js'

/** An upper bound only; the waits end on the state. Real blocks and a real relayer on a shared machine take seconds. */
const SLOW_MS = 300_000
const FINAL = [...FINAL_STATES]
/** How long a chain-settling service waits between creating a settlement and completing it. */
const SETTLE_MS = 1500
const CHECKS = '[health_checks]\npre_checks = ["settlement_store", "contract_state"]\ncheck_timeout_secs = 10'
const IBC = '\n[ibc]\nchannels = ["channel-0"]\nreconcile_interval_secs = 5\n'

/**
 * Redis, blue (1.0) and green (2.0) sample services and a directory for the gateways. `settleOnChain`: each
 * service settles every intent it accepts in the real contract on A (create_settlement, then complete_settlement
 * after `SETTLE_MS`), each signing with an account of its own so their sequences never race. Each settlement
 * holds the intent's amount in escrow, which its completion pays out as an ICS-20 transfer to chain B.
 */
async function world (t: Test, net: Network, settleOnChain = false): Promise<World> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-real-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const service = async (versions: string, colour: string): Promise<ServiceProcess> => await startService(t, settleOnChain
    ? { versions, settleMs: SETTLE_MS, chainRpc: net.a.rpc, env: { INTENT_GATE_SANDBOX_SETTLEMENT_CONTRACT: net.contract, INTENT_GATE_SANDBOX_SETTLER_MNEMONIC: net.a.account(`settler-${colour}`).mnemonic, INTENT_GATE_SANDBOX_SETTLER_ESCROW: '1' } }
    : { versions })
  const [redis, blue, green] = await Promise.all([startRedis(t), service('1.0', 'blue'), service('2.0', 'green')])
  // The coordinator's helpers read these fields of the chain's description.
  const info = {
    rpc: net.a.rpc,
    chain_id: net.a.chainId,
    settlement_contract: net.contract,
    gas_price: GAS_PRICE,
    admin_mnemonic: net.admin.mnemonic
  }
  return { redis, blue, green, dir, chain: { info } } as unknown as World
}

const gateway = async (t: Test, w: World, instance = 'a'): Promise<GatewayProcess> =>
  await startCoordinatedGateway(t, w, { instance, chain: 'tx_timeout_blocks = 100', extra: CHECKS + IBC })

async function pendingEverywhere (gw: GatewayProcess): Promise<{ admin: number, metric: number | null, drain: number | null }> {
  const pending = await gw.admin<unknown[]>('GET', '/admin/ibc/pending')
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`, { headers: { authorization: 'Bearer test-admin-token-0123456789' } })).text()
  const metric = /^intent_gate_ibc_pending_packets(?:\{[^}]*\})? (\d+)$/m.exec(metrics)
  const drain = await gw.admin<{ pending_ibc_packets: number | null }>('GET', '/admin/drain/status')
  return { admin: pending.body.length, metric: metric === null ? null : Number(metric[1]), drain: drain.body.pending_ibc_packets }
}

async function untilPending (gw: GatewayProcess, n: number): Promise<void> {
  await untilState(async () => {
    const p = await pendingEverywhere(gw)
    return { state: p.admin === n && p.metric === n && p.drain === n ? 'seen' : JSON.stringify(p) }
  }, ['seen'], SLOW_MS)
}

async function openSettlements (net: Network, ids: string[]): Promise<void> {
  const alice = await net.signer('alice')
  const timeout = Math.floor(Date.now() / 1000) + 3600
  await alice.client.executeMultiple(alice.address, ids.map((id) => ({ contractAddress: net.contract, msg: { create_settlement: { id, user: alice.address, amount: '5', denom: DENOM, timeout } } })), 'auto')
}

async function settlementsOf (net: Network, ids: string[]): Promise<unknown[]> {
  const reader = await net.signer('admin')
  return await Promise.all(ids.map(async (id) => await reader.client.queryContractSmart(net.contract, { settlement: { id } })))
}

async function upgradeAcrossAnOutage (t: Test, restartGateway: boolean): Promise<void> {
  const net = await startNetwork(t)
  const w = await world(t, net)
  const ids = ['kept-1', 'kept-2']
  await openSettlements(net, ids)
  const before = await settlementsOf(net, ids)
  let gw = await gateway(t, w)
  let current = gw
  const load = steadyLoad(() => [current.proxyUrl])

  // The relayer is linked but stopped: the transfers stay pending.
  const sent = await net.transfer(3)
  t.equal(sent.length, 3, `three packets sent: ${sent.join(', ')}`)
  await untilPending(gw, 3)
  t.pass('pending 3 through /admin/ibc/pending, /metrics and /admin/drain/status')
  const listed = (await gw.admin<Array<{ channel: string, port: string, sequence: number }>>('GET', '/admin/ibc/pending')).body
  t.same(listed.map((p) => `${p.port}/${p.channel}/${p.sequence}`), sent.map((s) => `transfer/channel-0/${s}`), 'the packets the chain sent')

  if (restartGateway) {
    await gw.stop('SIGTERM')
    // Two more while the gateway is away: only reading the heights it missed (or the commitments) finds them.
    const more = await net.transfer(2)
    await net.a.height().then(async (h) => {
      while (await net.a.height() < h + 3) await new Promise((resolve) => setTimeout(resolve, 100))
    })
    gw = await gateway(t, w)
    current = gw
    await untilPending(gw, 5)
    t.pass(`the restarted gateway counts 5 pending (2 sent while it was down: ${more.join(', ')})`)
  }

  const start = await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: net.codes['2.0'] })
  t.equal(start.status, 202, JSON.stringify(start.body))
  await untilState(statusOf(gw), ['draining'], SLOW_MS)
  // Draining with nothing inflight through the gateway but packets pending: the upgrade waits.
  const waiting = await untilState(async () => {
    const s = await statusOf(gw)()
    const drain = await gw.admin<{ inflight_settlements: number | null, pending_ibc_packets: number | null }>('GET', '/admin/drain/status')
    return { ...s, state: s.state === 'draining' && drain.body.pending_ibc_packets === (restartGateway ? 5 : 3) && drain.body.inflight_settlements === 0 ? 'waiting on IBC' : s.state }
  }, ['waiting on IBC'], SLOW_MS)
  t.equal(waiting.state, 'waiting on IBC', 'drained of intents, still waiting on the pending packets')
  t.equal((await statusOf(gw)()).state, 'draining', 'the upgrade has not gone past its drain')

  const relayStarted = Date.now()
  await net.relayer.start()
  const done = await untilState(statusOf(gw), FINAL, SLOW_MS)
  t.equal(done.state, 'completed', done.error ?? '')
  t.comment(`relayer started -> upgrade completed in ${Date.now() - relayStarted} ms`)
  t.same(await pendingEverywhere(gw), { admin: 0, metric: 0, drain: 0 }, 'nothing pending once the relayer ran')
  const step = done.steps.find((s) => s.name === 'contract_migration')
  t.match(step, { status: 'applied' }, 'the contract step ran')
  const reader = await net.signer('admin')
  t.equal((await reader.client.getContract(net.contract)).codeId, net.codes['2.0'].code_id, 'the real contract runs 2.0')
  t.same(await settlementsOf(net, ids), before, 'each preserved settlement\'s state is equal before and after')
  const result = await load.stop()
  t.same(result.failed, [], `no intent failed (${result.accepted} accepted)`)
}

t.test('relayer stopped: pending N, an upgrade waits; relayer started: pending 0 and the upgrade migrates the contract', async (t) => {
  await upgradeAcrossAnOutage(t, false)
})

t.test('the same with the gateway restarted while the relayer was down', async (t) => {
  await upgradeAcrossAnOutage(t, true)
})

/** How many packets chain B has acknowledged (written an acknowledgement for) on transfer/channel-0. */
async function acknowledgedOn (rpc: string): Promise<number> {
  const comet = await Comet38Client.connect(rpc)
  try {
    const ibc = QueryClient.withExtensions(comet, setupIbcExtension).ibc.channel
    let count = 0
    let key: Uint8Array | undefined
    do {
      const page = await ibc.packetAcknowledgements('transfer', 'channel-0', key)
      count += page.acknowledgements.length
      key = page.pagination?.nextKey
    } while (key !== undefined && key.length > 0)
    return count
  } finally {
    comet.disconnect()
  }
}

interface SettlementView { phase: string, ibc_packet: { channel: string, sequence: number | null } | null }

/** Each id's settlement on the real contract (null where the chain has none), 20 queries at a time. */
async function settlementViews (net: Network, ids: string[]): Promise<Map<string, SettlementView | null>> {
  const reader = await net.signer('admin')
  const views = new Map<string, SettlementView | null>()
  for (let i = 0; i < ids.length; i += 20) {
    await Promise.all(ids.slice(i, i + 20).map(async (id) => {
      try {
        views.set(id, await reader.client.queryContractSmart(net.contract, { settlement: { id } }) as SettlementView)
      } catch {
        views.set(id, null)
      }
    }))
  }
  return views
}

t.test('signed intents settled in the real contract while the coordinator migrates it 1.0 -> 2.0: each exactly once', async (t) => {
  const net = await startNetwork(t)
  const w = await world(t, net, true)
  const ids = ['kept-1', 'kept-2']
  await openSettlements(net, ids)
  const before = await settlementsOf(net, ids)
  await net.relayer.start()
  const gw = await gateway(t, w)
  // 4 intents a second: each becomes a packet, which the relayer on these two shared cores keeps up with.
  const load = steadyLoad(() => [gw.proxyUrl], 250)
  // Real ICS-20 packets relayed while the traffic runs; the upgrade's drain waits for their acknowledgements.
  const sent = await net.transfer(3)
  const sentBy = await net.a.height()
  // Past the transfers' block (so their send_packet events were read) and none of them pending: acknowledged.
  // (The settlements' own packets come and go meanwhile.)
  const relayed = await untilState(async () => {
    const status = await gw.admin<{ last_height: number | null }>('GET', '/admin/ibc/status')
    const pending = (await gw.admin<Array<{ channel: string, sequence: number }>>('GET', '/admin/ibc/pending')).body
    const left = sent.filter((seq) => pending.some((p) => p.channel === 'channel-0' && p.sequence === seq))
    return { state: (status.body.last_height ?? 0) >= sentBy && left.length === 0 ? 'relayed' : JSON.stringify({ left, last_height: status.body.last_height }) }
  }, ['relayed'], SLOW_MS)
  t.equal(relayed.state, 'relayed', `3 transfers (${sent.join(', ')}) relayed and acknowledged, seen by the watcher`)

  const upgradeStarted = Date.now()
  const start = await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: net.codes['2.0'] })
  t.equal(start.status, 202, JSON.stringify(start.body))
  const done = await untilState(statusOf(gw), FINAL, SLOW_MS)
  t.equal(done.state, 'completed', done.error ?? '')
  const upgradeMs = Date.now() - upgradeStarted
  t.comment(`upgrade asked -> completed in ${upgradeMs} ms`)
  t.match(done.steps.find((s) => s.name === 'contract_migration'), { status: 'applied' }, 'the contract step ran')
  // Some traffic after the swap too, to green against the migrated contract.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const result = await load.stop()
  t.same(result.failed, [], `no intent failed (${result.accepted} accepted, ${result.retried} retries)`)
  t.equal(new Set(result.ids).size, result.ids.length, 'each accepted intent has an id of its own')

  const reader = await net.signer('admin')
  t.equal((await reader.client.getContract(net.contract)).codeId, net.codes['2.0'].code_id, 'the real contract runs 2.0')
  t.same(await settlementsOf(net, ids), before, 'each preserved settlement\'s state is equal before and after')
  const [blue, green] = await Promise.all([w.blue.stats(), w.green.stats()])
  t.equal(blue.accepted + green.accepted, result.accepted, `the services accepted each intent once (blue ${blue.accepted}, green ${green.accepted})`)
  t.equal(blue.duplicates + green.duplicates, 0, 'no duplicate reached a service')
  t.ok(blue.accepted > 0 && green.accepted > 0, 'both colours took traffic')
  // Every intent becomes one settlement on the real contract, and every one completes (the settlers keep
  // completing what they created before the migration, against 2.0), paying its escrow out in a packet of its own.
  let views = new Map<string, SettlementView | null>()
  const settled = await untilState(async () => {
    views = await settlementViews(net, result.ids)
    const open = [...views].filter(([, view]) => view?.phase !== 'completed')
    return { state: open.length === 0 ? 'all completed' : `${open.length} not completed, e.g. ${JSON.stringify(open.slice(0, 3))}` }
  }, ['all completed'], SLOW_MS)
  t.equal(settled.state, 'all completed', `each of the ${result.ids.length} intents is one completed settlement on the real contract`)
  const paying = [...views.values()].filter((view) => view?.ibc_packet?.channel === 'channel-0').length
  t.equal(paying, result.ids.length, 'each completion sent an ICS-20 packet on channel-0')
  // The contract reads each packet's sequence from the transfer's MsgTransferResponse (wasmd passes a reply no
  // events of a non-wasm message): each a positive number, none twice.
  const sequences = [...views.values()].map((view) => view?.ibc_packet?.sequence)
  const bad = sequences.filter((seq) => typeof seq !== 'number' || !Number.isInteger(seq) || seq <= 0)
  t.same(bad, [], `each settlement recorded its packet's sequence, a positive number (e.g. ${sequences.slice(0, 3).join(', ')})`)
  t.equal(new Set(sequences).size, sequences.length, 'no sequence recorded twice')
  // And where they land: chain B writes one acknowledgement per packet it receives.
  await untilPending(gw, 0)
  const received = await acknowledgedOn(net.b.rpc)
  t.equal(received, result.ids.length + sent.length, `chain B received every packet: ${result.ids.length} settlements + ${sent.length} transfers`)
  t.comment(`figures: ${result.ids.length} intents, ${received} packets relayed, upgrade asked -> completed ${upgradeMs} ms`)
})
