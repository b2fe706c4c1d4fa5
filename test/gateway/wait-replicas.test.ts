// Durable admissions through a gateway process (issue 12): with redis.wait_replicas = 1 on a primary with one
// replica, an intent is forwarded only once the replica holds its admission; with the replica stopped the client
// gets 503 with Retry-After (nothing forwarded), and the same key goes through once the replica is back.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

t.test('wait_replicas = 1: 202 with the replica, 503 with Retry-After without it, 202 again for the same key', async (t) => {
  const primary = await startRedis(t)
  const replica = await startRedis(t, { args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  t.equal(await primary.replicated('sync', 1, 10_000), 1, 'the replica is attached')
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: primary.url, blue: blue.url, reconcileIntervalMs: 600_000 })
    .replace('[redis]\n', '[redis]\nwait_replicas = 1\nwait_timeout_ms = 300\ncommand_timeout_ms = 800\n')
  const gw = await startGateway(t, { config })
  const signer = makeSigner()

  const ok = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(ok.status, 202)
  t.equal(await replica.cli('HLEN', 'intent-gate:{default}:inflight'), '1', 'on the replica when the client got its answer')

  await replica.kill()
  const intent = signIntentV1(signer)
  const refused = await request(`${gw.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': 'durable-1' } })
  t.equal(refused.status, 503, 'no replica: refused')
  t.ok(Number(refused.headers.get('retry-after')) >= 1, 'with Retry-After')
  t.match(String(refused.body?.type), /store-unavailable/)
  t.equal((await blue.stats()).accepted, 1, 'nothing forwarded')

  await replica.restart()
  t.equal(await primary.replicated('sync', 1, 10_000), 1, 'the replica is back')
  const retried = await request(`${gw.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': 'durable-1' } })
  t.equal(retried.status, 202, 'the same key is admitted once the replica is back')
  const stats = await blue.stats()
  t.equal(stats.accepted, 2)
  t.equal(stats.duplicates, 0)
})
