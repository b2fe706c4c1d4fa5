// Attack: an intent that never expires (`fill_deadline` 2^53-1) would make every later drain wait for it; one
// whose deadline passed can never settle. Both are 400 naming the field (`/deadline` in 1.0, `/fill_deadline`
// in 2.0), before anything is registered or forwarded; a deadline within `max_intent_lifetime_secs` goes through.
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { serviceStats, startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

const nowSecs = (): number => Math.floor(Date.now() / 1000)
const owner = makeSigner()

t.test('2.0: fill_deadline far ahead or passed', async (t) => {
  const edge = await startEdgeWithService(t, '2.0')
  for (const [what, fill] of [['2^53-1', Number.MAX_SAFE_INTEGER], ['a year ahead', nowSecs() + 365 * 86400], ['an hour ago', nowSecs() - 3600]] as const) {
    const refused = await edge.submit(signIntentV2(owner, { fill_deadline: fill }))
    t.equal(refused.status, 400, `fill_deadline ${what}`)
    t.equal(refused.body.type, 'urn:intent-gate:problem:invalid-intent')
    t.same(refused.body.errors.map((e: { field: string }) => e.field), ['/fill_deadline'])
    t.match(refused.body.detail, /fill_deadline/)
  }
  t.equal((await serviceStats(edge.service)).accepted, 0, 'none reached the service')
  // The default lifetime is 7 days; a minute inside it leaves room for the clocks of a busy machine.
  const ok = await edge.submit(signIntentV2(owner, { fill_deadline: nowSecs() + 604800 - 60 }))
  t.equal(ok.status, 202, 'within max_intent_lifetime_secs')
})

t.test('1.0: deadline passed, or beyond a configured lifetime', async (t) => {
  const edge = await startEdgeWithService(t, '1.0', 'max_intent_lifetime_secs = 3600')
  for (const [what, deadline] of [['passed', nowSecs() - 1], ['2^53-1', Number.MAX_SAFE_INTEGER], ['two hours ahead', nowSecs() + 7200]] as const) {
    const refused = await edge.submit(signIntentV1(owner, { deadline }))
    t.equal(refused.status, 400, `deadline ${what}`)
    t.same(refused.body.errors.map((e: { field: string }) => e.field), ['/deadline'])
  }
  t.equal((await serviceStats(edge.service)).accepted, 0)
  t.equal((await edge.submit(signIntentV1(owner, { deadline: nowSecs() + 1800 }))).status, 202, 'half an hour ahead is fine')
  t.equal((await serviceStats(edge.service)).accepted, 1)
})
