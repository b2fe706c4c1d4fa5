// End to end, real processes (Redis, the local chain, blue 1.0 and green 2.0 sample services, intent-gate serve):
// rollbacks when green turns unhealthy after the swap (under load) and when the chain refuses the contract migration.
import t from 'tap'
import { contractView, createSettlement, startCoordinatedGateway, startWorld, statusOf, steadyLoad, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]

t.test('green unhealthy after the swap: rolled back to blue and the old contract, rollbacks counted, clients served', async (t) => {
  const w = await startWorld(t, { settleMs: 800 })
  await createSettlement(w, 'pre-existing-2')
  const gw = await startCoordinatedGateway(t, w)
  const load = steadyLoad(() => [gw.proxyUrl])
  await new Promise((resolve) => setTimeout(resolve, 600))
  const info = w.chain.info
  await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] } })
  await untilState(statusOf(gw), ['draining'])
  await fetch(`${w.green.url}/sandbox/health`, { method: 'POST', body: JSON.stringify({ healthy: false }) })
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'rolled_back')
  t.match(done.error, /post-checks failed: api_endpoints/)
  const contract = await contractView(w)
  t.equal(contract.codeId, info.code_ids['1.0'], 'the old contract code')
  t.equal(contract.version, '1.0', 'and its old version')
  t.ok(contract.inflight.includes('pre-existing-2'))
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue')
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.match(metrics, /^upgrade_rollbacks_total 1$/m)
  await new Promise((resolve) => setTimeout(resolve, 800))
  const result = await load.stop()
  t.same(result.failed, [], 'no intent failed')
  const green = await w.green.stats()
  t.equal(green.accepted, 0, 'nothing reached the unhealthy green')
  t.equal((await w.blue.stats()).accepted, result.accepted, 'clients were served by blue again')
})

t.test('the chain refuses the contract migration: rolled back, nothing swapped', async (t) => {
  const w = await startWorld(t)
  await createSettlement(w, 'pre-existing-3')
  const gw = await startCoordinatedGateway(t, w)
  const info = w.chain.info
  const start = await gw.admin('POST', '/admin/upgrade/start', {
    target_version: '2.0',
    swap_to: 'green',
    // The contract refuses to migrate over inflight settlements without preserve_inflight.
    contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'], migrate_msg: { new_version: '2.0', config: { preserve_inflight: false, stuck_settlement_action: 'preserve' } } }
  })
  t.equal(start.status, 202)
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'rolled_back')
  t.comment(JSON.stringify(done.phases.map((p) => [p.phase, p.ended_at === null ? null : Math.round((p.ended_at - p.started_at) * 1000)])))
  t.match(done.error, /step contract_migration failed: .*[Cc]annot migrate: 1 inflight settlements exist/)
  t.same(done.steps.map((s) => [s.name, s.status]), [['schema_migrations', 'reverted'], ['stored_intents', 'reverted'], ['contract_migration', 'reverted']])
  const contract = await contractView(w)
  t.equal(contract.codeId, info.code_ids['1.0'])
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue')
  const r = await fetch(`${gw.proxyUrl}/intents`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.not(r.status, 503, 'admission resumed')
})
