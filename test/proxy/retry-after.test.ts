/**
 * The honest Retry-After of a refusal and the mapping of transport failures to 502/504: small pure functions
 * whose every branch decides what a refused client is told.
 */
import t from 'tap'
import { UpstreamError, UpstreamTimeoutError } from '../../src/errors.js'
import { problemOf } from '../../src/http/problem.js'
import { upstreamFailure } from '../../src/proxy/problem.js'
import { retryAfterSecs } from '../../src/proxy/retry-after.js'

const now = 1_800_000_000_000

t.test('draining: seconds to started_at + deadline_secs, rounded up; the fallback without or past a deadline', async (t) => {
  const drain = (d: object | null) => ({ kind: 'refused' as const, reason: 'draining' as const, drain: d, upgrade: null })
  t.equal(retryAfterSecs(drain({ deadline_secs: 60, started_at_ms: now - 10_500 }), now, 5), 50)
  t.equal(retryAfterSecs(drain({ deadline_secs: 60, started_at_ms: now - 59_900 }), now, 5), 1, 'never below 1')
  t.equal(retryAfterSecs(drain({ deadline_secs: 60, started_at_ms: now - 61_000 }), now, 5), 5, 'past the deadline: the fallback')
  t.equal(retryAfterSecs(drain({}), now, 5), 5, 'no deadline: the fallback')
  t.equal(retryAfterSecs(drain(null), now, 9), 9)
})

t.test('upgrading: seconds to the resume estimate, else the fallback', async (t) => {
  const upgrade = (u: object | null) => ({ kind: 'refused' as const, reason: 'upgrading' as const, drain: { deadline_secs: 999, started_at_ms: now }, upgrade: u as never })
  t.equal(retryAfterSecs(upgrade({ id: 'u1', phase: 'draining', resume_estimate_ms: now + 42_001 }), now, 5), 43)
  t.equal(retryAfterSecs(upgrade({ id: 'u1', phase: 'draining' }), now, 5), 5, 'the drain deadline does not apply while upgrading')
  t.equal(retryAfterSecs(upgrade({ id: 'u1', phase: 'draining', resume_estimate_ms: now - 1 }), now, 5), 1, 'past the estimate: about to resume')
})

t.test('transport failures: timeouts are 504, the rest 502, the cause kept', async (t) => {
  const headers = Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' })
  const timeout = upstreamFailure(headers, 'blue', 1500)
  t.type(timeout, UpstreamTimeoutError)
  t.equal(timeout.problem.status, 504)
  t.match(timeout.message, /blue.*1500 ms/)
  t.equal(timeout.cause, headers)
  const refused = upstreamFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'green', 1500)
  t.type(refused, UpstreamError)
  t.equal(refused.problem.status, 502)
  t.match(refused.message, /green.*ECONNREFUSED/)
  t.same(problemOf(new Error('secret detail'), 'r1'), {
    type: 'urn:intent-gate:problem:internal', title: 'Internal error', status: 500, detail: 'the gateway failed to handle the request', request_id: 'r1'
  }, 'an untyped error shows nothing of itself')
})
