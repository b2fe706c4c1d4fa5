// Attack on availability: a refusal the service answered under an explicit key (401, 403, 408, 409, 429) used to
// be replayed for 24 h, so the retry of a genuine order could never go through. Only 2xx and other 4xx answers are
// kept; those are forgotten, and a 5xx too. A stub upstream refuses on demand and records what reached it.
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { startUpstream } from '../proxy/upstream.js'
import { startEdge } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

t.test('refusals that a retry can cure are not replayed; other 4xx answers are', async (t) => {
  const stub = await startUpstream(t, '1.0', 'stub')
  const edge = await startEdge(t, { upstream: stub.url })
  const owner = makeSigner()

  for (const status of [401, 403, 408, 409, 429, 500, 503]) {
    const intent = signIntentV1(owner)
    const key = `retry-${status}`
    stub.answerNext(status, { type: 'urn:intent-service:problem:refused', title: 'Refused', status, detail: `refused with ${status}` })
    const refused = await edge.submit(intent, { 'idempotency-key': key })
    t.equal(refused.status, status, `the service's ${status} reaches the client`)
    const before = stub.submissions().length
    const retry = await edge.submit(intent, { 'idempotency-key': key })
    t.equal(retry.status, 202, `after a ${status}, the retry under the same key goes through`)
    t.equal(retry.headers.get('idempotent-replayed'), null)
    t.equal(stub.submissions().length, before + 1, 'forwarded again')
    t.equal(stub.submissions().at(-1)?.headers['idempotency-key'], key, "the client's key is forwarded as sent")
  }

  for (const status of [400, 404, 422]) {
    const intent = signIntentV1(owner)
    const key = `kept-${status}`
    stub.answerNext(status, { type: 'urn:intent-service:problem:invalid', title: 'No', status, detail: 'final' })
    t.equal((await edge.submit(intent, { 'idempotency-key': key })).status, status)
    const before = stub.submissions().length
    const retry = await edge.submit(intent, { 'idempotency-key': key })
    t.equal(retry.status, status, `a ${status} is final: replayed`)
    t.equal(retry.headers.get('idempotent-replayed'), 'true')
    t.equal(stub.submissions().length, before, 'not forwarded again')
  }

  // Without a header nothing is made up for the upstream: it knows the order by owner and nonce.
  await edge.submit(signIntentV1(owner))
  t.equal(stub.submissions().at(-1)?.headers['idempotency-key'], undefined, 'no derived key is sent upstream')
})
