// A drain switched on with `redis-cli SET` while 200 clients keep 200 submissions in flight: nothing sent after the SET
// returned reaches the upstream, every refusal is a 503 with Retry-After and problem+json, and what the upstream
// accepted is exactly what the gateway admitted (and counts as inflight).
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, type Answer } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

t.test('drain by redis-cli SET under 200 concurrent submissions', async (t) => {
  const redis = await startRedis(t)
  // Nothing settles during the test, so every admitted intent stays inflight and can be counted exactly.
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  // The gateway keeps idle connections longer than the test runs. With its 5 s default, a close of an idle
  // connection can cross a client's reuse of it (HTTP/1.1's keep-alive race: the client sees "other side closed"
  // and cannot know whether its request was read); a client settles that by retrying with its Idempotency-Key, as
  // the client library does, and these bare clients send none (ci13, a busy machine, the test process lagging).
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url }).replace('[proxy]\n', '[proxy]\nkeep_alive_timeout_ms = 600000\n')
  const gw = await startGateway(t, { config })
  const signer = makeSigner()
  const keyOf = (i: { user: string, nonce: number }): string => `${i.user}:${i.nonce}`

  // 200 clients submit continuously (200 submissions in flight at any moment); the switch goes on after 250
  // answers, and the clients go on until 100 submissions have been sent after the SET returned, however long
  // the SET takes on a busy machine.
  let setReturnedAt = Infinity
  let setDone: Promise<void> | null = null
  const all: Array<Answer & { key: string }> = []
  const afterSetTarget = 100
  const limit = 5000
  let sentAfterSet = 0
  const client = async (): Promise<void> => {
    while (sentAfterSet < afterSetTarget && all.length < limit) {
      const intent = signIntentV1(signer)
      if (performance.now() > setReturnedAt) sentAfterSet++
      all.push({ ...await request(`${gw.proxyUrl}/intents`, { body: intent }), key: keyOf(intent) })
      if (all.length === 250) {
        setDone = redis.cli('SET', 'intent-gate:{default}:drain', '1').then(() => { setReturnedAt = performance.now() })
      }
    }
  }
  await Promise.all(Array.from({ length: 200 }, client))
  t.ok(setDone, 'the drain switch was set under load')
  await setDone
  const afterSet = all.filter((x) => x.startedAt > setReturnedAt)
  t.ok(afterSet.length >= afterSetTarget, `submissions kept coming after the SET returned (${afterSet.length})`)

  const admitted = all.filter((a) => a.status === 202)
  const refused = all.filter((a) => a.status !== 202)
  t.ok(admitted.length > 0, `some were admitted before the switch (${admitted.length})`)
  t.same(afterSet.filter((a) => a.status !== 503).map((a) => a.status), [], 'every submission sent after SET returned is refused')
  t.comment(`${admitted.length} admitted, ${refused.length} refused, ${afterSet.length} sent after the SET returned`)
  const badRefusals = refused.filter((a) => !(a.status === 503 &&
    /^[1-9][0-9]*$/.test(a.headers.get('retry-after') ?? '') &&
    a.headers.get('content-type') === 'application/problem+json' &&
    a.body.type === 'urn:intent-gate:problem:draining'))
  t.same(badRefusals.map((a) => ({ status: a.status, retryAfter: a.headers.get('retry-after'), body: a.body })), [],
    'every refusal is 503 draining problem+json with an integer Retry-After')

  const stats = await blue.stats()
  const reached = new Set(Object.keys(stats.by_key ?? {}))
  t.same([...reached].sort(), admitted.map((a) => a.key).sort(), 'the upstream got exactly the admitted intents')
  t.equal(stats.duplicates, 0)
  t.same(afterSet.filter((a) => reached.has(a.key)).map((a) => a.key), [], 'nothing sent after the SET reached the upstream')

  const status = await gw.admin<{ mode: string, inflight_settlements: number }>('GET', '/admin/drain/status')
  t.equal(status.body.mode, 'draining')
  t.equal(status.body.inflight_settlements, admitted.length, 'the inflight count is exact')
})
