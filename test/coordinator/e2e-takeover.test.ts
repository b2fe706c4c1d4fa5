// Two gateway instances on one Redis: one coordinator leads; the leader killed with SIGKILL while draining, the
// other instance takes the lease and finishes the upgrade; clients that retry against either see no failure.
import t from 'tap'
import type { GatewayProcess } from '../helpers/gateway.js'
import { contractView, startCoordinatedGateway, startWorld, statusOf, steadyLoad, untilState } from './helpers/e2e.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

t.test('the leading instance dies mid-drain: the other takes over and completes', async (t) => {
  const w = await startWorld(t, { settleMs: 1500 })
  const a = await startCoordinatedGateway(t, w, { instance: 'a' })
  const b = await startCoordinatedGateway(t, w, { instance: 'b' })
  const alive = new Set<GatewayProcess>([a, b])
  const load = steadyLoad(() => [...alive].map((g) => g.proxyUrl))
  await new Promise((resolve) => setTimeout(resolve, 800))
  const info = w.chain.info
  // Asked on B; whichever leads runs it.
  const start = await b.admin<{ id: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', contract: { code_id: info.code_ids['2.0'], checksum: info.checksums['2.0'] } })
  t.equal(start.status, 202)
  await untilState(statusOf(a), ['draining'])
  const [sa, sb] = await Promise.all([statusOf(a)(), statusOf(b)()])
  t.equal([sa.leader.is_leader, sb.leader.is_leader].filter(Boolean).length, 1, 'exactly one leads')
  const leader = sa.leader.is_leader ? a : b
  const other = leader === a ? b : a
  alive.delete(leader)
  await leader.stop('SIGKILL')
  const done = await untilState(statusOf(other), [...FINAL_STATES])
  t.equal(done.upgrade_id, start.body.id)
  t.equal(done.state, 'completed', done.error ?? '')
  t.equal(done.leader.is_leader, true, 'the survivor leads')
  const result = await load.stop()
  t.same(result.failed, [], 'no intent failed')
  t.equal((await contractView(w)).codeId, info.code_ids['2.0'])
  const [blue, green] = await Promise.all([w.blue.stats(), w.green.stats()])
  t.equal(blue.accepted + green.accepted, result.accepted, 'each accepted intent reached one service once')
})
