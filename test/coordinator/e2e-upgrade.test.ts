// End to end, real processes (Redis, the local chain, blue 1.0 and green 2.0 sample services, intent-gate serve),
// under a steady client load with retries: a full upgrade with the contract migrated.
import t from 'tap'
import { contractView, createSettlement, startCoordinatedGateway, startWorld, statusOf, steadyLoad, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]

t.test('1.0 on blue -> 2.0 on green with the contract migrated, under load: none failed, each settled once', async (t) => {
  const w = await startWorld(t)
  await createSettlement(w, 'pre-existing-1')
  const gw = await startCoordinatedGateway(t, w)
  const load = steadyLoad(() => [gw.proxyUrl])
  await new Promise((resolve) => setTimeout(resolve, 1000))

  const info = w.chain.info
  const start = await gw.admin<{ id: string }>('POST', '/admin/upgrade/start', {
    target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] }
  })
  t.equal(start.status, 202, JSON.stringify(start.body))
  const again = await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })
  t.equal(again.status, 409, 'a second upgrade is refused while one runs')
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  const history = await gw.admin<{ upgrades: Array<{ upgrade_id: string, state: string, target_version: string }> }>('GET', '/admin/upgrade/history?limit=5')
  t.match(history.body.upgrades[0], { upgrade_id: start.body.id, state: 'completed', target_version: '2.0' }, 'the history lists it, newest first')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const result = await load.stop()

  t.same(result.failed, [], 'no intent failed')
  t.ok(result.accepted > 20, `${result.accepted} intents accepted`)
  // Clients that arrived while admission was stopped were held (the default hold) or, past it, told to retry.
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  const released = Number(/intent_gate_holds_total\{outcome="released"\} (\d+)/.exec(metrics)?.[1] ?? 0)
  t.ok(released + result.retried > 0, `clients waited for the upgrade (${released} held then admitted, ${result.retried} retried)`)
  const [blue, green] = await Promise.all([w.blue.stats(), w.green.stats()])
  t.equal(blue.accepted + green.accepted, result.accepted, 'every accepted intent reached exactly one service once')
  t.ok(green.accepted > 0, 'new intents went to green after the swap')
  const ids = new Set(result.ids)
  t.equal(ids.size, result.ids.length, 'no intent was accepted twice')

  const contract = await contractView(w)
  t.equal(contract.codeId, info.code_ids['2.0'])
  t.equal(contract.version, '2.0')
  t.ok(contract.inflight.includes('pre-existing-1'), 'the settlement inflight before the upgrade is still there')
  t.same(done.phases.map((p) => p.phase), ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming', 'completed'])
  const check = await gw.admin<{ valid: boolean }>('POST', `/admin/checkpoints/${done.checkpoint_id ?? ''}/validate`)
  t.equal(check.body.valid, true)
  const upstreams = await gw.admin<{ active: string }>('GET', '/admin/upstreams')
  t.equal(upstreams.body.active, 'green')
})
