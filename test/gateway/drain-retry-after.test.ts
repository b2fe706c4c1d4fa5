// The Retry-After of an operator's drain against the time the drain took (docs/proxy.md, "Retry-After of an
// operator's drain"): intents settling one by one over a few seconds, a drain started with a ten-minute deadline,
// and a client refused every 300 ms. What each refused client was told, and when it would come back, is compared
// with the moment the drain was done; then a client on the events stream learns the drain's end at once.
import t from 'tap'
import { gatewayToml, request, startGateway, startService } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('Retry-After follows what the drain has left, not its deadline', async (t) => {
  const blue = await startService(t, { versions: '1.0', settleMs: 4000 })
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url, reconcileIntervalMs: 100 }) })
  const signer = makeSigner()
  // Twelve intents admitted 250 ms apart: they settle one by one over about 3 s, 4 s after each was sent.
  for (let i = 0; i < 12; i++) {
    t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })).status, 202)
    await sleep(250)
  }
  const started = performance.now()
  t.equal((await gw.admin('POST', '/admin/drain/start', { deadline_secs: 600, reason: 'measured' })).status, 200)

  const told: Array<{ at: number, retryAfter: number }> = []
  let drainedAt: number | null = null
  // Refused clients until the drain is done, and a few seconds after (told while waiting for the operator).
  while (drainedAt === null || performance.now() - drainedAt < 2000) {
    const refused = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
    t.equal(refused.status, 503)
    told.push({ at: (refused.startedAt - started) / 1000, retryAfter: Number(refused.headers.get('retry-after')) })
    if (drainedAt === null && (await gw.admin<{ mode: string }>('GET', '/admin/drain/status')).body.mode === 'drained') drainedAt = performance.now()
    if (performance.now() - started > 60_000) break
    await sleep(300)
  }
  t.not(drainedAt, null, 'drained')
  const took = ((drainedAt ?? 0) - started) / 1000
  const rows = told.map((r) => ({ ...r, left: Math.max(0, took - r.at), back: r.at + r.retryAfter - took }))
  t.comment(`drain took ${took.toFixed(1)} s (deadline 600 s)`)
  t.comment('| refused at (s) | Retry-After (s) | drain left then (s) | back after drained (s) |')
  for (const r of rows) t.comment(`| ${r.at.toFixed(1)} | ${r.retryAfter} | ${r.left.toFixed(1)} | ${r.back.toFixed(1)} |`)

  t.ok(rows.every((r) => r.retryAfter >= 1 && r.retryAfter <= 60), 'never above drain_retry_after_max_secs (60), never the 600 s deadline')
  // A client back before the drain is done is refused again (and told again); the cost is the wait after it.
  // Those refused once it was done wait for its operator, whose `drain stop` the events stream tells at once.
  const worst = Math.max(...rows.filter((r) => r.left > 0).map((r) => r.back))
  t.comment(`the slowest client refused during the drain came back ${worst.toFixed(1)} s after it was done`)
  t.ok(worst <= 5 + 1, `no client refused during the drain comes back more than drain_retry_after_secs (+1 s of rounding) after it was done (worst ${worst.toFixed(1)} s)`)
  t.ok(rows.filter((r) => r.left === 0).every((r) => r.retryAfter === 5), 'drained, waiting for its operator: drain_retry_after_secs')

  // A client on the events stream learns the end at once.
  const events = await fetch(`${gw.proxyUrl}/.well-known/intent-gate/events`)
  const reader = (events.body as ReadableStream<Uint8Array>).getReader()
  let text = ''
  const next = async (want: RegExp): Promise<void> => {
    while (!want.test(text)) {
      const { value, done } = await reader.read()
      if (done === true) throw new Error(`the stream ended before ${String(want)}: ${text}`)
      text += Buffer.from(value).toString()
    }
  }
  await next(/"mode":"draining"/)
  const stopAt = performance.now()
  t.equal((await gw.admin('POST', '/admin/drain/stop')).status, 200)
  await next(/"mode":"accepting"/)
  const heard = performance.now() - stopAt
  await reader.cancel()
  t.comment(`the events stream said "accepting" ${heard.toFixed(0)} ms after drain stop was asked`)
  t.ok(heard < 1000, 'within the answer to drain stop and one delivery (under a second on a loaded machine)')
  t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })).status, 202)
})
