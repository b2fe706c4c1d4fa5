// The sample service answers a resubmission under the same Idempotency-Key from the same owner with the intent it
// has (docs/specification.md section 8), even when nothing else ties the two requests together; another order under that key
// is 422 idempotency-key-reused; the same key from another owner is that owner's own key. Build first.
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { startService } from './service-process.js'

async function post (url: string, body: unknown, key?: string): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}/intents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    body: JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() }
}

t.test('Idempotency-Key, scoped by owner', async (t) => {
  const svc = await startService(t, ['--versions', '1.0,2.0', '--settle-ms', '600000'])
  const alice = makeSigner()
  const bob = makeSigner()
  const key = 'order-7'

  const first = signIntentV1(alice)
  const accepted = await post(svc.url, first, key)
  t.equal(accepted.status, 202)
  const id = accepted.body.id as string

  const again = await post(svc.url, first, key)
  t.equal(again.status, 200, 'the same order under the same key: the intent it has')
  t.equal(again.body.id, id)

  const other = signIntentV1(alice)
  const reused = await post(svc.url, other, key)
  t.equal(reused.status, 422, 'another order of the same owner under the key')
  t.equal(reused.body.type, 'urn:intent-service:problem:idempotency-key-reused')
  t.equal(reused.body.intent_id, id)

  const bobs = await post(svc.url, signIntentV2(bob), key)
  t.equal(bobs.status, 202, "another owner's use of the same key is that owner's own key")
  t.not(bobs.body.intent_id, id)

  // A retry of the first order under a new key is still the same intent (owner and nonce), and binds that key.
  const newKey = await post(svc.url, first, 'order-7-retry')
  t.equal(newKey.status, 200)
  t.equal(newKey.body.id, id)
  const underNewKey = await post(svc.url, signIntentV1(alice), 'order-7-retry')
  t.equal(underNewKey.status, 422, 'the retry key now names the first intent')

  const stats = await (await fetch(`${svc.url}/sandbox/stats`)).json() as { accepted: number, duplicates: number, refused: Record<string, number> }
  t.equal(stats.accepted, 2, 'one intent per order: alice once, bob once')
  t.equal(stats.duplicates, 2)
  t.equal(stats.refused['key_reused'], 2)
})
