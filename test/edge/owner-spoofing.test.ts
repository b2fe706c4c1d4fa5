// Attack: a copy of an order signed with the attacker's key but naming the victim as owner (`user` in 1.0,
// `owner` in 2.0), the victim's nonce included, sent before the victim's genuine order. The gateway checks
// that the owner is the public key's address: 401 naming the owner check, nothing registered or forwarded,
// and the victim's order then goes through once with its own id. The sample service behind it makes the same
// check (the same src/versions/verify.ts), so with the gateway's check off the spoof is still refused there,
// and that 401 is not kept for the victim's key.
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { request } from '../helpers/gateway.js'
import { serviceStats, startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

const victim = makeSigner()
const attacker = makeSigner()

for (const version of ['1.0', '2.0'] as const) {
  t.test(`${version}: the attacker's copy naming the victim is a 401, the victim's order goes through`, async (t) => {
    const edge = await startEdgeWithService(t, version)
    const genuine = version === '1.0' ? signIntentV1(victim) : signIntentV2(victim)
    const spoof = version === '1.0'
      ? signIntentV1(attacker, { user: victim.address, nonce: genuine.nonce as number })
      : signIntentV2(attacker, { owner: victim.address, nonce: genuine.nonce as string })

    for (const headers of [undefined, { 'idempotency-key': 'k-1' }]) {
      const refused = await edge.submit(spoof, headers)
      t.equal(refused.status, 401)
      t.equal(refused.body.type, 'urn:intent-gate:problem:signature-invalid')
      t.match(refused.body.detail, /\(owner\)/, 'the detail names the failed check')
    }
    t.equal((await serviceStats(edge.service)).accepted, 0, 'nothing forwarded')
    t.same(await keysNaming(edge.redis, victim.address), [], 'nothing registered under the victim')
    t.equal(await edge.redis.cli('HLEN', 'intent-gate:{default}:inflight'), '0', 'nothing inflight')

    const answer = await edge.submit(genuine, { 'idempotency-key': 'k-1' })
    t.equal(answer.status, 202, 'the victim under the same key: accepted, not replayed')
    t.equal(answer.headers.get('idempotent-replayed'), null)
    const stats = await serviceStats(edge.service)
    t.equal(stats.accepted, 1)
    t.equal(stats.by_key[`${victim.address}:${String(genuine.nonce)}`], 1, 'forwarded once')

    // The service checks the owner on its own too.
    const direct = await request(`${edge.service.url}/intents`, { body: spoof })
    t.equal(direct.status, 401, 'the sample service refuses the spoof as well')
    t.match(direct.body.detail, /owner/)
  })
}

t.test('with verify_signatures off, the service refuses the spoof and its 401 is not kept for the victim', async (t) => {
  const edge = await startEdgeWithService(t, '1.0', 'verify_signatures = false')
  const genuine = signIntentV1(victim)
  const spoof = signIntentV1(attacker, { user: victim.address, nonce: genuine.nonce })
  const refused = await edge.submit(spoof)
  t.equal(refused.status, 401, "the service's own 401 passes through")
  t.equal(refused.body.type, 'urn:intent-service:problem:bad-signature')
  const answer = await edge.submit(genuine)
  t.equal(answer.status, 202, "the victim's order (the same owner and nonce) goes through")
  t.equal(answer.headers.get('idempotent-replayed'), null)
  t.match(answer.body, { id: /^int_/, status: 'pending' })
  t.equal((await serviceStats(edge.service)).accepted, 1)
})

/** Every Redis key whose name carries `owner` (idempotency scopes name their owner). */
async function keysNaming (redis: { cli: (...args: string[]) => Promise<string> }, owner: string): Promise<string[]> {
  return (await redis.cli('KEYS', `*${owner}*`)).split('\n').filter((k) => k !== '')
}
