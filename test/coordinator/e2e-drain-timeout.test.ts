// The drain timeout with real processes: intents that do not settle before drain_timeout_secs abort the upgrade
// (nothing changed, clients served again); with force_after_timeout and extend_timeout the timeouts of what is
// left are extended on chain and in the store, and the upgrade completes.
import t from 'tap'
import { CosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { contractView, createSettlement, startCoordinatedGateway, startWorld, statusOf, steadyLoad, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]

t.test('drain timeout without force: aborted and resumed, nothing changed', async (t) => {
  const w = await startWorld(t, { settleMs: 120_000 })
  const gw = await startCoordinatedGateway(t, w)
  const load = steadyLoad(() => [gw.proxyUrl], 200)
  await new Promise((resolve) => setTimeout(resolve, 600))
  const info = w.chain.info
  await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', drain_timeout_secs: 2, contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] } })
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'rolled_back')
  t.match(done.error, /drain timed out: \d+ inflight intent\(s\) and 0 pending IBC packet\(s\) left after drain_timeout_secs=2/)
  t.same(done.steps, [])
  t.equal((await contractView(w)).codeId, info.code_ids['1.0'])
  const result = await load.stop()
  t.same(result.failed, [])
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue')
  const inflight = await gw.admin<unknown[]>('GET', '/admin/inflight')
  t.equal(inflight.body.length, result.accepted, 'every intent is still inflight, untouched')
})

t.test('drain timeout with force_after_timeout and extend_timeout: extended on chain and in the store, completed', async (t) => {
  const w = await startWorld(t, { settleMs: 120_000 })
  await createSettlement(w, 'stuck-1')
  const gw = await startCoordinatedGateway(t, w, { upgrade: 'extend_timeout_secs = 7200' })
  const load = steadyLoad(() => [gw.proxyUrl], 200)
  await new Promise((resolve) => setTimeout(resolve, 600))
  const before = await gw.admin<Array<{ key: string, deadline: number }>>('GET', '/admin/inflight')
  const client = await CosmWasmClient.connect(w.chain.info.rpc)
  t.teardown(() => client.disconnect())
  const settlementBefore = await client.queryContractSmart(w.chain.info.settlement_contract, { settlement: { id: 'stuck-1' } }) as { timeout: number }
  const info = w.chain.info
  await gw.admin('POST', '/admin/upgrade/start', {
    target_version: '2.0', swap_to: 'green', drain_timeout_secs: 1, force_after_timeout: true, contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] }
  })
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  t.equal(done.drain?.stuck_settlement_action, 'extend_timeout')
  t.equal(done.drain?.forced, true)
  const settlementAfter = await client.queryContractSmart(w.chain.info.settlement_contract, { settlement: { id: 'stuck-1' } }) as { timeout: number, phase: string }
  t.equal(settlementAfter.timeout, settlementBefore.timeout + 7200, 'the settlement\'s timeout moved by extend_timeout_secs, once')
  t.equal(settlementAfter.phase, 'user_funds_locked', 'still inflight')
  const after = new Map((await gw.admin<Array<{ key: string, deadline: number }>>('GET', '/admin/inflight')).body.map((r) => [r.key, r.deadline]))
  for (const r of before.body) t.equal(after.get(r.key), r.deadline + 7200, `intent ${r.key}: deadline extended in the store`)
  const result = await load.stop()
  t.same(result.failed, [])
  t.equal((await contractView(w)).codeId, info.code_ids['2.0'])
})
