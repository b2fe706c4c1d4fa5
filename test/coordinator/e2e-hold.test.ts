// The hold, end to end with real processes (Redis, blue 1.0 and green 2.0 sample services, intent-gate serve on
// that Redis, no chain): submissions that arrive during a coordinated upgrade wait at the gateway and are
// admitted to the new version when it ends, instead of being refused. Clients here never retry: what they see is
// exactly what the gateway answered.
import t from 'tap'
import { makeSigner } from '../../sandbox/client/index.js'
import { openLoad, percentile, startHoldGateway, startHoldWorld, statusOf, submitOnce, untilState } from './helpers/hold.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const FINAL = [...FINAL_STATES]
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
  // Warm-up excluded: the first answers pay for the processes' first requests.
  const settled = shots.filter((s) => s.endedAt < before)
  const baseline = (settled.length > 10 ? settled.slice(5) : settled).map((s) => s.endedAt - s.startedAt)
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
