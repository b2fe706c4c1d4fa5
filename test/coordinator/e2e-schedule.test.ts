// Scheduled upgrades end to end with real processes (Redis, blue and green sample services, intent-gate serve, no
// chain): one surviving a restart of the gateway that leads it, and an abort cancelling one.
import t from 'tap'
import { startHoldGateway, startHoldWorld, statusOf, untilState, UPGRADE_KEY } from './helpers/hold.js'
import type { ClientStatus } from '../../src/proxy/client-status.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function clientStatus (url: string): Promise<ClientStatus> {
  return await (await fetch(`${url}/.well-known/intent-gate/status`)).json() as ClientStatus
}

t.test('a scheduled upgrade survives a restart of the gateway that leads it', async (t) => {
  const w = await startHoldWorld(t)
  const first = await startHoldGateway(t, w)
  // 20 s ahead: SIGTERM leaves the fleet first (leave_grace_secs, 5 s by default, then the exit), and a restart
  // on a busy machine takes seconds more; the time must still be ahead when the restarted gateway is asked.
  const at = new Date(Date.now() + 20_000).toISOString()
  const start = await first.admin<{ id: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', at })
  t.equal(start.status, 202)
  t.equal((await first.stop('SIGTERM')).code, 0, 'the leader stopped before the upgrade\'s time')
  const second = await startHoldGateway(t, w)
  t.equal((await statusOf(second)()).state, 'scheduled', 'the restarted gateway still has it scheduled')
  const done = await untilState(statusOf(second), FINAL, 40_000)
  t.equal(done.state, 'completed', done.error ?? '')
  t.equal(done.upgrade_id, start.body.id)
  t.ok((done.phases[1]?.started_at ?? 0) * 1000 >= Date.parse(at) - 50, 'started at its time')
  t.equal((await second.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'green')
})

t.test('an abort cancels a scheduled upgrade: nothing was stopped, the key never set', async (t) => {
  const w = await startHoldWorld(t)
  const gw = await startHoldGateway(t, w)
  const at = new Date(Date.now() + 60_000).toISOString()
  t.equal((await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green', at })).status, 202)
  t.equal((await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 409, 'another upgrade is refused while one is scheduled')
  const abort = await gw.admin('POST', '/admin/upgrade/abort')
  t.equal(abort.status, 202)
  const done = await untilState(statusOf(gw), FINAL, 10_000)
  t.equal(done.state, 'rolled_back')
  t.same(done.phases.map((p) => [p.phase, p.outcome]), [['scheduled', 'aborted'], ['rolled_back', 'ok']])
  t.match(done.error, /cancelled/)
  t.equal(await w.redis.cli('EXISTS', UPGRADE_KEY), '0')
  let s = await clientStatus(gw.proxyUrl)
  for (let i = 0; i < 20 && s.mode !== 'accepting'; i++) s = await sleep(50).then(async () => await clientStatus(gw.proxyUrl))
  t.same(s, { accepting: true, mode: 'accepting', retry_after_secs: null, upgrade: null, drain: null })
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue', 'nothing was swapped')
  const bad = await gw.admin<{ detail: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', at: 'tomorrow' })
  t.equal(bad.status, 400)
  t.match(bad.body.detail, /^at: /)
})
