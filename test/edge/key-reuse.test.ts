// Attack (or a client bug): the same Idempotency-Key with a different body. Each key remembers the SHA-256 of the
// canonical intent it was first used with: another intent under it is 422 idempotency-key-reused and nothing is
// forwarded (the IETF idempotency-key draft, Stripe); the same intent again is the first answer replayed.
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { serviceStats, startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

for (const version of ['1.0', '2.0'] as const) {
  t.test(`${version}: same key, different body`, async (t) => {
    const edge = await startEdgeWithService(t, version)
    const owner = makeSigner()
    const sign = version === '1.0' ? signIntentV1 : signIntentV2
    const first = sign(owner)
    const accepted = await edge.submit(first, { 'idempotency-key': 'pay-42' })
    t.equal(accepted.status, 202)

    // Another order (new nonce), and the same order with one field changed and signed again.
    const others = [sign(owner), version === '1.0'
      ? signIntentV1(owner, { nonce: first.nonce as number, input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '999' } })
      : signIntentV2(owner, { nonce: first.nonce as string, max_solver_fee_bps: 10 })]
    for (const other of others) {
      const reused = await edge.submit(other, { 'idempotency-key': 'pay-42' })
      t.equal(reused.status, 422)
      t.equal(reused.body.type, 'urn:intent-gate:problem:idempotency-key-reused')
      t.equal(reused.headers.get('idempotent-replayed'), null, 'not the first answer replayed')
    }
    const again = await edge.submit(first, { 'idempotency-key': 'pay-42' })
    t.equal(again.status, 202, 'the same intent under the key: the first answer')
    t.equal(again.headers.get('idempotent-replayed'), 'true')
    t.same(again.body, accepted.body)

    // Without a header the owner and nonce are the key, and it remembers its intent the same way.
    const unkeyed = sign(owner)
    t.equal((await edge.submit(unkeyed)).status, 202)
    const changed = version === '1.0'
      ? signIntentV1(owner, { nonce: unkeyed.nonce as number, deadline: (unkeyed as { deadline: number }).deadline + 1 })
      : signIntentV2(owner, { nonce: unkeyed.nonce as string, fill_deadline: (unkeyed as { fill_deadline: number }).fill_deadline + 1 })
    const sameNonce = await edge.submit(changed)
    t.equal(sameNonce.status, 422, 'owner:nonce with another intent')
    t.equal(sameNonce.body.type, 'urn:intent-gate:problem:idempotency-key-reused')

    const stats = await serviceStats(edge.service)
    t.equal(stats.accepted, 2, 'only the first intent under each key was forwarded')
    t.equal(stats.duplicates, 0)
  })
}
