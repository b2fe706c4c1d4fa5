// The hold's limits, end to end with real processes (Redis, blue and green sample services, intent-gate serve, no
// chain): past the hold, at hold_max_intents, a client gone while held, and the release on two instances.
import { createConnection } from 'node:net'
import t from 'tap'
import { makeSigner } from '../../sandbox/client/index.js'
import { startHoldGateway, startHoldWorld, statusOf, submitOnce, untilState, UPGRADE_KEY } from './helpers/hold.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'
import { admissionAfter, lastRun, monitorRedis } from './helpers/redis-monitor.js'

const FINAL = [...FINAL_STATES]
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('a drain that outlasts the hold: 503 with Retry-After, only once the hold has passed', async (t) => {
  const w = await startHoldWorld(t, { blueSettleMs: 8000 })
  const gw = await startHoldGateway(t, w, { upgrade: 'hold_new_intents_secs = 1' })
  const signer = makeSigner()
  t.equal((await submitOnce(gw.proxyUrl, signer, 1)).status, 202, 'an intent that settles in 8 s keeps the drain going')
  const start = await gw.admin<{ id: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })
  t.equal(start.status, 202)
  await untilState(statusOf(gw), ['draining'])
  const shot = await submitOnce(gw.proxyUrl, signer, 2)
  const waited = shot.endedAt - shot.startedAt
  t.equal(shot.status, 503)
  t.equal(shot.type, 'urn:intent-gate:problem:draining')
  t.ok(waited >= 1000, `answered after the hold of 1 s (${waited.toFixed(0)} ms)`)
  t.ok(waited < 2500, 'and not much later')
  t.ok(Number(shot.retryAfter) >= 1, `Retry-After: ${shot.retryAfter ?? 'none'}`)
  t.comment(`held ${waited.toFixed(0)} ms, then 503 with Retry-After: ${shot.retryAfter ?? ''}`)
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
})

t.test('at hold_max_intents the rest are refused at once; a client gone while held costs nothing', async (t) => {
  const w = await startHoldWorld(t, { blueSettleMs: 3000 })
  const gw = await startHoldGateway(t, w, { upgrade: 'hold_max_intents = 3\nhold_new_intents_secs = 20' })
  const signer = makeSigner()
  t.equal((await submitOnce(gw.proxyUrl, signer, 1)).status, 202)
  t.equal((await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 202)
  await untilState(statusOf(gw), ['draining'])

  // A client that goes away while held: its place is free again at once.
  const gone = createConnection({ host: new URL(gw.proxyUrl).hostname, port: Number(new URL(gw.proxyUrl).port) })
  const body = JSON.stringify((await import('../../sandbox/client/index.js')).signIntentV1(signer, { nonce: 99, deadline: Math.floor(Date.now() / 1000) + 600 }))
  gone.write(`POST /intents HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  await sleep(300)
  gone.destroy()
  await sleep(200)

  const shots = await Promise.all([2, 3, 4, 5, 6, 7].map(async (n) => await submitOnce(gw.proxyUrl, signer, n)))
  const refused = shots.filter((s) => s.status === 503)
  const admitted = shots.filter((s) => s.status === 202)
  t.equal(admitted.length, 3, 'three were held and admitted after the upgrade')
  t.equal(refused.length, 3, 'the other three were refused')
  // "At once" against a hold of 20 s: the margin of 5 s is for a loaded 2-core machine, where six signature checks
  // and admissions alone took about a second.
  for (const s of refused) t.ok(s.endedAt - s.startedAt < 5000, `refused at once, not after the hold (${(s.endedAt - s.startedAt).toFixed(0)} ms)`)
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.match(metrics, /intent_gate_holds_total\{outcome="full"\} 3/)
  t.match(metrics, /intent_gate_holds_total\{outcome="gone"\} 1/)
  t.match(metrics, /intent_gate_holds_total\{outcome="released"\} 3/)
})

t.test('two instances release their held submissions within 100 ms of the upgrade key\'s deletion', async (t) => {
  const w = await startHoldWorld(t, { blueSettleMs: 3000 })
  // The poll is slowed to 1 s: a release within 100 ms can only come from the pub/sub push.
  const env = { INTENT_GATE_REDIS_POLL_INTERVAL_MS: '1000' }
  const a = await startHoldGateway(t, w, { instance: 'a', env, upgrade: 'hold_new_intents_secs = 20' })
  const b = await startHoldGateway(t, w, { instance: 'b', env, upgrade: 'hold_new_intents_secs = 20' })
  const signer = makeSigner()
  t.equal((await submitOnce(a.proxyUrl, signer, 1)).status, 202)

  // The key's deletion and each held submission's admission, timed by Redis as it ran them (MONITOR): one clock,
  // and none of the test's own scheduling in it. (Timed by this process as it read keyspace notifications, a
  // loaded machine added the test's own lateness: 33 ms for what Redis had run 22 ms after the deletion.)
  const monitor = await monitorRedis(t, w.redis.url)
  t.equal((await a.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 202)
  await untilState(statusOf(a), ['draining'])
  await sleep(1100) // both instances' polls have seen the flag by now (or they would be refused, not held)
  const nonces = [101, 102, 103, 104, 105, 106]
  const via = (n: number): 'a' | 'b' => n % 2 === 0 ? 'a' : 'b'
  const held = await Promise.all(nonces.map(async (n) => await submitOnce(via(n) === 'a' ? a.proxyUrl : b.proxyUrl, signer, n)))
  const done = await untilState(statusOf(a), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  t.same(held.map((s) => s.status), [202, 202, 202, 202, 202, 202], 'every held submission was admitted')
  const deletedAt = lastRun(monitor.commands, 'del', UPGRADE_KEY)
  t.ok(Number.isFinite(deletedAt), 'the key deletion was seen')
  for (const n of nonces) t.ok(admissionAfter(monitor.commands, n, -Infinity) < deletedAt, `${n} was tried (and held) before the deletion`)
  const released = nonces.map((n) => ({ n, on: via(n), lag: admissionAfter(monitor.commands, n, deletedAt) - deletedAt }))
  const answered = held.map((s) => performance.timeOrigin + s.endedAt - deletedAt)
  t.comment(`admitted after the key's deletion (Redis' clock): ${released.map((r) => `${r.on} ${r.lag.toFixed(1)}`).join(', ')} ms; ` +
    `answered after (this process's clock, the sample service's own answer included): ${answered.map((l) => l.toFixed(0)).join(', ')} ms`)
  // What is timed is all the gateway's: the PUBLISH (in the same MULTI as the DEL), the message reaching each
  // instance, its control re-read and the admission script (on this 2-core machine 2 to 6 ms, at most 23 ms with up
  // to five busy loops beside it). The issue's 100 ms leaves the rest for a busy machine's scheduling of the
  // gateways; a poll (1 s here) could not release them in time.
  for (const r of released) t.ok(r.lag >= 0 && r.lag < 100, `${r.n} released on ${r.on} ${r.lag.toFixed(1)} ms after the deletion`)
})
