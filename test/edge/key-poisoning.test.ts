// Attack: an attacker sends their own valid order under `Idempotency-Key: <victim address>:<victim nonce>` (or
// the gateway's own internal key layout) before the victim's genuine order. Keys are scoped by owner and an
// explicit key lives apart from the derived owner:nonce key, so the victim's order, sent later without a
// header, is forwarded once and gets its own intent_id; the attacker gets just their own order.
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { serviceStats, startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

for (const version of ['1.0', '2.0'] as const) {
  t.test(`${version}: a key naming the victim's owner and nonce poisons nothing`, async (t) => {
    const edge = await startEdgeWithService(t, version)
    const victim = makeSigner()
    const attacker = makeSigner()
    const sign = version === '1.0' ? signIntentV1 : signIntentV2
    const idOf = (body: any): string => (version === '1.0' ? body.id : body.intent_id) as string
    const genuine = sign(victim)
    const nonce = String(genuine.nonce)

    const poisons = [`${victim.address}:${nonce}`, `o:${victim.address}:n:${nonce}`, `${victim.address}:${nonce}:${version}`]
    const attackerIds: string[] = []
    for (const key of poisons) {
      const own = await edge.submit(sign(attacker), { 'idempotency-key': key })
      t.equal(own.status, 202, `the attacker's own order under ${key} is just their own order`)
      attackerIds.push(idOf(own.body))
    }

    const answer = await edge.submit(genuine)
    t.equal(answer.status, 202, "the victim's order is accepted, not replayed")
    t.equal(answer.headers.get('idempotent-replayed'), null)
    const victimId = idOf(answer.body)
    t.notOk(attackerIds.includes(victimId), 'with its own intent_id')

    const retry = await edge.submit(genuine)
    t.equal(retry.status, 202, "the victim's retry replays the victim's answer")
    t.equal(retry.headers.get('idempotent-replayed'), 'true')
    t.equal(idOf(retry.body), victimId)

    const stats = await serviceStats(edge.service)
    t.equal(stats.by_key[`${victim.address}:${nonce}`], 1, "the victim's order reached the service once")
    t.equal(stats.accepted, poisons.length + 1, 'one intent per order, nothing else')
    t.equal(stats.duplicates, 0)
  })
}

t.test('the same key from two owners is two keys: each gets their own order', async (t) => {
  const edge = await startEdgeWithService(t, '1.0')
  const victim = makeSigner()
  const attacker = makeSigner()
  const first = await edge.submit(signIntentV1(attacker), { 'idempotency-key': 'order-1' })
  const second = await edge.submit(signIntentV1(victim), { 'idempotency-key': 'order-1' })
  t.equal(first.status, 202)
  t.equal(second.status, 202, 'not the attacker answer replayed')
  t.equal(second.headers.get('idempotent-replayed'), null)
  t.not(second.body.id, first.body.id)
  t.equal((await serviceStats(edge.service)).accepted, 2)
})
