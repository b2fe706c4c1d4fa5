// Abort with real processes, in the middle of the contract migration (its transaction waiting for a block): the
// step finishes, the abort is seen before the swap, and everything done is rolled back: blue active, the old
// contract code, clients served again.
import t from 'tap'
import { contractView, createSettlement, startCoordinatedGateway, startWorld, statusOf, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

t.test('abort during the contract migration: rolled back to the old code, blue active', async (t) => {
  const w = await startWorld(t)
  await createSettlement(w, 'pre-existing-a')
  const extra = '[health_checks]\npre_checks = ["settlement_store", "contract_state"]\npost_checks = ["settlement_store", "contract_state", "api_endpoints"]\ncheck_timeout_secs = 5'
  const gw = await startCoordinatedGateway(t, w, { extra })
  const info = w.chain.info
  await w.chain.control('/sandbox/blocks/halt')
  await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] } })
  await untilState(async () => {
    const s = await statusOf(gw)()
    return { state: s.steps.some((x) => x.name === 'contract_migration') ? 'in the contract step' : s.state }
  }, ['in the contract step'])
  const abort = await gw.admin<{ abort_requested: boolean }>('POST', '/admin/upgrade/abort')
  t.equal(abort.status, 202)
  await w.chain.control('/sandbox/blocks/resume')
  const done = await untilState(statusOf(gw), [...FINAL_STATES])
  t.equal(done.state, 'rolled_back', done.error ?? '')
  t.match(done.error, /aborted by an operator during migrating/)
  t.notOk(done.steps.some((s) => s.name === 'blue_green_swap'), 'the swap never ran')
  t.ok(done.steps.every((s) => s.status === 'reverted'))
  const contract = await contractView(w)
  t.equal(contract.codeId, info.code_ids['1.0'])
  t.equal(contract.version, '1.0')
  t.ok(contract.inflight.includes('pre-existing-a'))
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue')
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.match(metrics, /^upgrade_rollbacks_total 1$/m)
  const r = await fetch(`${gw.proxyUrl}/intents`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.not(r.status, 503, 'admission resumed')
})
