// Leak: a Redis client's own error text (`Stream isn't writeable and enableOfflineQueue options is false`,
// addresses, states) used to reach public 503 bodies. With the redis-server killed under a running gateway, every
// answer a client can get is a 503 problem with a fixed detail and a request_id; the cause is in the log.
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { request, waitFor } from '../helpers/gateway.js'
import { startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

const INTERNAL = /Stream isn't writeable|enableOfflineQueue|ioredis|Connection is closed|ECONNREFUSED|ECONNRESET|MaxRetriesPerRequest|ETIMEDOUT|at \w+ \(|\.js:\d+/i

t.test('a Redis that goes away: 503s without the client library\'s words', async (t) => {
  const edge = await startEdgeWithService(t, '1.0')
  const owner = makeSigner()
  const before = await edge.submit(signIntentV1(owner))
  t.equal(before.status, 202)
  const id = before.body.id as string
  await edge.redis.kill()

  // The first requests after the kill may still meet the dying connection; wait for the gateway to answer 503
  // (the submission is refused, never forwarded), then read every public answer that depends on the store.
  const refused = await waitFor('a 503 once Redis is gone', async () => {
    const a = await edge.submit(signIntentV1(owner))
    return a.status === 503 ? a : undefined
  }, 30_000)
  const answers = [refused]
  for (let i = 0; i < 5; i++) answers.push(await edge.submit(signIntentV1(owner), { 'idempotency-key': `k-${i}` }))
  answers.push(await request(`${edge.gw.proxyUrl}/intents/${id}`))
  for (const a of answers) {
    t.equal(a.status, 503)
    t.equal(a.headers.get('content-type'), 'application/problem+json')
    const text = JSON.stringify(a.body)
    t.notMatch(text, INTERNAL, `no internal text: ${text.slice(0, 300)}`)
    t.type(a.body.request_id, 'string')
  }
  t.equal(refused.body.type, 'urn:intent-gate:problem:store-unavailable')
  t.ok(Number(refused.headers.get('retry-after')) >= 1, 'with a Retry-After')
  t.equal((await (await fetch(`${edge.service.url}/sandbox/stats`)).json() as { accepted: number }).accepted, 1, 'nothing forwarded while the store is gone')
})
