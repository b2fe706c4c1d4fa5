// Crash recovery with real processes: the gateway killed with SIGKILL inside the contract migration step (its
// transaction broadcast, not yet in a block), restarted: the step is never run again, the upgrade rolls back.
import t from 'tap'
import { CosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { contractView, createSettlement, startCoordinatedGateway, startWorld, statusOf, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]

t.test('killed inside the contract step (its transaction not yet in a block): restarted, it rolls back', async (t) => {
  const w = await startWorld(t)
  await createSettlement(w, 'pre-existing-c')
  // Halted blocks make the IBC watcher unhealthy: the pre-checks here leave it out.
  const extra = '[health_checks]\npre_checks = ["settlement_store", "contract_state"]\ncheck_timeout_secs = 5'
  let gw = await startCoordinatedGateway(t, w, { extra })
  const info = w.chain.info
  await w.chain.control('/sandbox/blocks/halt')
  await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] } })
  const stuck = await untilState(statusOf(gw), ['migrating', ...FINAL])
  t.equal(stuck.state, 'migrating')
  await untilState(async () => {
    const s = await statusOf(gw)()
    return { state: s.steps.some((x) => x.name === 'contract_migration') ? 'in the contract step' : s.state }
  }, ['in the contract step'])
  await gw.stop('SIGKILL')
  // If it was broadcast before the kill, its transaction lands once blocks resume (then the contract is on the
  // new code while the journal says the step was interrupted); if not, it never will. Either way the restarted
  // coordinator must not run the step again, and must leave the contract on its old code.
  await w.chain.control('/sandbox/blocks/resume')
  const client = await CosmWasmClient.connect(info.rpc)
  t.teardown(() => client.disconnect())
  const resumedAt = await client.getHeight()
  await untilState(async () => ({ state: (await client.getHeight()) >= resumedAt + 3 ? 'three blocks later' : 'waiting' }), ['three blocks later'], 20_000)
  const landed = (await contractView(w)).codeId === info.code_ids['2.0']
  t.comment(`the interrupted migration ${landed ? 'landed' : 'was never broadcast'}`)
  gw = await startCoordinatedGateway(t, w, { extra })
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'rolled_back', done.error ?? '')
  t.match(done.error, /contract_migration was interrupted \(applying\)/)
  const contract = await contractView(w)
  t.equal(contract.codeId, info.code_ids['1.0'], 'migrated back to the old code')
  t.equal(contract.version, '1.0')
  t.ok(contract.inflight.includes('pre-existing-c'))
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue')
  const r = await fetch(`${gw.proxyUrl}/intents`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.not(r.status, 503, 'admission resumed')
})
