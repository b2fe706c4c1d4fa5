// Verification must not break translation: a 1.0 intent translated to 2.0 for a 2.0-only service, a 2.0 intent
// born 1.0 (`auth.signed_version` "1.0") sent natively or translated back to 1.0, all verify at the gateway and
// again at the sample service (both rebuild the 1.0 form and check it), end to end. A tampered born-1.0 intent,
// or one that claims its 2.0 bytes were signed, is a 401 at the gateway.
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { createVersionCatalog } from '../../src/versions/index.js'
import { serviceStats, startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

const catalog = createVersionCatalog()
const owner = makeSigner()
const bornV1 = (): Record<string, any> => catalog.translateIntent(signIntentV1(owner), '1.0', '2.0')

t.test('in front of a 2.0 service', async (t) => {
  const edge = await startEdgeWithService(t, '2.0')
  const v1 = await edge.submit(signIntentV1(owner))
  t.equal(v1.status, 202, 'a 1.0 intent translated up verifies at both')
  t.match(v1.body, { id: /^int_/, status: 'pending', version: '1.0' })
  const v2 = await edge.submit(bornV1())
  t.equal(v2.status, 202, 'a 2.0 intent born 1.0, natively')
  t.match(v2.body, { intent_id: /^int_/, version: '2.0' })

  const tampered = bornV1()
  tampered.outputs[0].min_amount = '1'
  const forged = bornV1()
  forged.auth.signed_version = '2.0'
  for (const [what, body] of [['a changed min_amount', tampered], ['signed_version claimed as 2.0', forged]] as const) {
    const refused = await edge.submit(body)
    t.equal(refused.status, 401, what)
    t.equal(refused.body.type, 'urn:intent-gate:problem:signature-invalid')
    t.match(refused.body.detail, /\(signature\)/)
  }
  const stats = await serviceStats(edge.service)
  t.equal(stats.accepted, 2)
  t.equal(stats.refused['bad_signature'], 0, 'the service never had to refuse a signature')
})

t.test('in front of a 1.0 service', async (t) => {
  const edge = await startEdgeWithService(t, '1.0')
  const down = await edge.submit(bornV1())
  t.equal(down.status, 202, 'a 2.0 intent born 1.0, translated back to 1.0')
  t.match(down.body, { intent_id: /^int_/, status: 'accepted', version: '2.0' })
  const stats = await serviceStats(edge.service)
  t.equal(stats.accepted, 1)
  t.equal(stats.refused['bad_signature'], 0)
})
