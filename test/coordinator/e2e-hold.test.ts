// The hold, end to end with real processes (Redis, blue 1.0 and green 2.0 sample services, intent-gate serve on
// that Redis, no chain): submissions that arrive during a coordinated upgrade wait at the gateway and are
// admitted to the new version when it ends, instead of being refused. Clients here never retry: what they see is
// exactly what the gateway answered.
import { createConnection } from 'node:net'
import t from 'tap'
import { makeSigner } from '../../sandbox/client/index.js'
import { openLoad, percentile, startHoldGateway, startHoldWorld, statusOf, submitOnce, untilState, UPGRADE_KEY } from './helpers/hold.js'

const FINAL = ['completed', 'rolled_back', 'failed']
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('a short upgrade under load: every client answered 2xx, not one 503; held clients only waited', async (t) => {
  const w = await startHoldWorld(t)
  const gw = await startHoldGateway(t, w)
  const load = openLoad(() => gw.proxyUrl, 40)
  await sleep(2000)
  const before = performance.now()
  const start = await gw.admin<{ id: string }>('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })
  t.equal(start.status, 202, JSON.stringify(start.body))
  const done = await untilState(statusOf(gw), FINAL)
  const after = performance.now()
  t.equal(done.state, 'completed', done.error ?? '')
  await sleep(500)
  const shots = await load.stop()

  t.same(shots.filter((s) => s.status !== 202).map((s) => `${s.nonce}: ${s.status} ${s.type ?? ''}`), [], 'every submission was accepted: not one 503')
  const phase = (name: string): { started_at: number, ended_at: number | null } => done.phases.find((p) => p.phase === name) as never
  const stoppedMs = phase('draining').started_at * 1000
  const resumedMs = (phase('resuming').ended_at as number) * 1000
  // Warm-up excluded: the first second of the load pays for the processes' first requests.
  const baseline = shots.filter((s) => s.startedAt > before - 1000 && s.endedAt < before).map((s) => s.endedAt - s.startedAt)
  const held = shots.filter((s) => s.wallStartMs >= stoppedMs && s.wallStartMs < resumedMs)
  t.ok(held.length > 0, `${held.length} submissions arrived while the upgrade had stopped admission`)
  const typical = percentile(baseline, 50)
  const extra = held.map((s) => s.endedAt - s.startedAt - typical)
  t.comment(`upgrade took ${(after - before).toFixed(0)} ms, admission stopped for ${(resumedMs - stoppedMs).toFixed(0)} ms (phases ${done.phases.map((p) => p.phase).join(' > ')})`)
  t.comment(`latency before the upgrade: p50=${typical.toFixed(0)} ms p99=${percentile(baseline, 99).toFixed(0)} ms (n=${baseline.length})`)
  t.comment(`held clients' extra wait: p50=${percentile(extra, 50).toFixed(0)} ms p99=${percentile(extra, 99).toFixed(0)} ms max=${Math.max(...extra).toFixed(0)} ms (n=${held.length})`)
  for (const s of held) t.ok(s.endedAt - s.startedAt < 10_000, 'no held client waited past the hold')
  const [blue, green] = await Promise.all([w.blue.stats(), w.green.stats()])
  t.equal(blue.accepted + green.accepted, shots.length, 'each accepted intent reached exactly one service once')
  t.ok(green.accepted >= held.length, 'the held submissions went to the new version (green)')
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.notMatch(metrics, /intent_gate_refusals_total\{reason="upgrading"\}/, 'no refusal while upgrading was counted')
})

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
  for (const s of refused) t.ok(s.endedAt - s.startedAt < 1000, `refused at once (${(s.endedAt - s.startedAt).toFixed(0)} ms)`)
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

  // Watch, from the test itself, the upgrade key's deletion and every admission (HSET of the inflight hash, done by
  // the admission script): keyspace notifications on this test's own Redis, one subscriber, one clock.
  await w.redis.cli('CONFIG', 'SET', 'notify-keyspace-events', 'Kgh')
  const { Redis } = await import('ioredis')
  const sub = new Redis(w.redis.url)
  t.teardown(() => { sub.disconnect() })
  let deletedAt = NaN
  const admittedAt: number[] = []
  sub.on('message', (channel: string, event: string) => {
    if (channel.endsWith(':upgrade') && event === 'del') deletedAt = performance.now()
    if (channel.endsWith(':inflight') && event === 'hset') admittedAt.push(performance.now())
  })
  await sub.subscribe(`__keyspace@0__:${UPGRADE_KEY}`, `__keyspace@0__:${UPGRADE_KEY.replace(/upgrade$/, 'inflight')}`)

  t.equal((await a.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 202)
  await untilState(statusOf(a), ['draining'])
  await sleep(1100) // both instances' polls have seen the flag by now (or they would be refused, not held)
  const held = await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => await submitOnce(n % 2 === 0 ? a.proxyUrl : b.proxyUrl, signer, 100 + n)))
  const done = await untilState(statusOf(a), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  t.ok(Number.isFinite(deletedAt), 'the key deletion was seen')
  t.same(held.map((s) => s.status), [202, 202, 202, 202, 202, 202], 'every held submission was admitted')
  const released = admittedAt.filter((at) => at > deletedAt).map((at) => at - deletedAt)
  t.equal(released.length, 6, 'six admissions after the deletion, one per held submission')
  t.comment(`admitted after the key's deletion: ${released.map((l) => l.toFixed(1)).join(', ')} ms; answered after: ${held.map((s) => (s.endedAt - deletedAt).toFixed(0)).join(', ')} ms (the sample service's own answer time included)`)
  // The release is the admission seen in Redis: it includes the PUBLISH, the message reaching both instances, their
  // control re-read and the admission script, all on loopback (a few ms). The rest of the 100 ms is for a busy
  // machine's event-loop delays; a poll (1 s here) could not release them in time.
  for (const lag of released) t.ok(lag < 100, `released ${lag.toFixed(1)} ms after the deletion`)
})

t.test('for comparison, the same short upgrade without the hold (hold_new_intents_secs = 0): clients refused, waiting out Retry-After', async (t) => {
  const w = await startHoldWorld(t)
  const gw = await startHoldGateway(t, w, { upgrade: 'hold_new_intents_secs = 0' })
  const signer = makeSigner()
  // A well-behaved client: a 503 is retried after its Retry-After, until accepted; its wait is the whole time.
  const waits: Array<{ wallStartMs: number, ms: number, refused: number }> = []
  const state = { running: true, nonce: 0 }
  const clients: Array<Promise<void>> = []
  const client = async (nonce: number): Promise<void> => {
    const wallStartMs = Date.now()
    const started = performance.now()
    let refused = 0
    for (;;) {
      const shot = await submitOnce(gw.proxyUrl, signer, nonce)
      if (shot.status !== 503) break
      refused++
      await sleep(Number(shot.retryAfter ?? '1') * 1000)
    }
    waits.push({ wallStartMs, ms: performance.now() - started, refused })
  }
  const loop = (async () => {
    while (state.running) {
      clients.push(client(++state.nonce))
      await sleep(40)
    }
  })()
  await sleep(2000)
  t.equal((await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 202)
  const done = await untilState(statusOf(gw), FINAL)
  t.equal(done.state, 'completed', done.error ?? '')
  await sleep(500)
  state.running = false
  await loop
  await Promise.all(clients)
  const refused = waits.filter((x) => x.refused > 0)
  t.ok(refused.length > 0, `${refused.length} clients were refused with 503 and came back after Retry-After`)
  const base = percentile(waits.filter((x) => x.refused === 0).map((x) => x.ms), 50)
  const extra = refused.map((x) => x.ms - base)
  t.comment(`refused clients' extra wait: p50=${percentile(extra, 50).toFixed(0)} ms p99=${percentile(extra, 99).toFixed(0)} ms max=${Math.max(...extra).toFixed(0)} ms (n=${refused.length}, Retry-After from the coordinator's estimate)`)
})
