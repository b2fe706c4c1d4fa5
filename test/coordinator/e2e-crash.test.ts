// Crash recovery with real processes: the gateway (and its coordinator) killed with SIGKILL in a phase, then
// restarted on the same SQLite file and Redis, ends in a finished upgrade or a clean rollback, never a stuck drain.
import t from 'tap'
import { contractView, startCoordinatedGateway, startWorld, statusOf, steadyLoad, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]

t.test('killed while draining: restarted, it finishes the upgrade; no intent failed', async (t) => {
  const w = await startWorld(t, { settleMs: 1500 })
  let gw = await startCoordinatedGateway(t, w)
  const load = steadyLoad(() => [gw.proxyUrl])
  await new Promise((resolve) => setTimeout(resolve, 800))
  const info = w.chain.info
  const start = await gw.admin<{ id: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] } })
  const draining = await untilState(statusOf(gw), ['draining'])
  t.ok((draining.inflight_count ?? 0) > 0, `killed with ${String(draining.inflight_count)} intents inflight`)
  await gw.stop('SIGKILL')
  gw = await startCoordinatedGateway(t, w)
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.upgrade_id, start.body.id, 'the same upgrade, carried on')
  t.equal(done.state, 'completed', done.error ?? '')
  const result = await load.stop()
  t.same(result.failed, [], 'no intent failed')
  const [blue, green] = await Promise.all([w.blue.stats(), w.green.stats()])
  t.comment(`client accepted ${result.accepted}, blue ${blue.accepted} (+${blue.duplicates} dup), green ${green.accepted} (+${green.duplicates} dup)`)
  t.equal(blue.accepted + green.accepted, result.accepted, 'each accepted intent reached one service once')
  t.equal((await contractView(w)).codeId, info.code_ids['2.0'])
})
