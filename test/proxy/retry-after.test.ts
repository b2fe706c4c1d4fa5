/**
 * The honest Retry-After of a refusal and the mapping of transport failures to 502/504: small pure functions
 * whose every branch decides what a refused client is told.
 */
import t from 'tap'
import { UpstreamError, UpstreamTimeoutError } from '../../src/errors.js'
import { problemOf } from '../../src/http/problem.js'
import { upstreamFailure } from '../../src/proxy/problem.js'
import { retryAfterSecs, type RetryAfterOptions } from '../../src/proxy/retry-after.js'
import type { DrainLeft } from '../../src/proxy/drain-estimate.js'

const now = 1_800_000_000_000

const opts = (drainLeft: DrainLeft, maxSecs = 60): RetryAfterOptions => ({ fallbackSecs: 5, maxSecs, drainLeft })
const unknown: DrainLeft = { kind: 'unknown', ms: 0 }

t.test('an operator\'s drain: what its decay says is left, bounded by the deadline and the maximum; never the whole deadline', async (t) => {
  const drain = (d: object | null) => ({ kind: 'refused' as const, reason: 'draining' as const, drain: d, upgrade: null })
  const tenMinutes = drain({ deadline_secs: 600, started_at_ms: now - 7_000 })
  t.equal(retryAfterSecs(tenMinutes, now, opts({ kind: 'falling', ms: 2_300 })), 3, 'the decay: 2.3 s left, rounded up (not the 593 s to the deadline)')
  t.equal(retryAfterSecs(tenMinutes, now, opts({ kind: 'falling', ms: 500_000 })), 60, 'a slow decay: at most drain_retry_after_max_secs')
  t.equal(retryAfterSecs(tenMinutes, now, opts({ kind: 'falling', ms: 500_000 }, 20)), 20, 'the maximum is configurable')
  t.equal(retryAfterSecs(tenMinutes, now, opts({ kind: 'drained', ms: 0 })), 5, 'drained, waiting for its operator: the fallback')
  t.equal(retryAfterSecs(tenMinutes, now, opts(unknown)), 5, 'nothing settled yet: the fallback')
  t.equal(retryAfterSecs(drain({ deadline_secs: 60, started_at_ms: now - 58_500 }), now, opts({ kind: 'falling', ms: 30_000 })), 2, 'never past the deadline')
  t.equal(retryAfterSecs(drain({ deadline_secs: 60, started_at_ms: now - 59_900 }), now, opts(unknown)), 1, 'never below 1')
  t.equal(retryAfterSecs(drain({ deadline_secs: 60, started_at_ms: now - 61_000 }), now, opts({ kind: 'falling', ms: 30_000 })), 5, 'past the deadline (left on): the fallback')
  t.equal(retryAfterSecs(drain({}), now, opts({ kind: 'falling', ms: 12_100 })), 13, 'no deadline: the decay')
  t.equal(retryAfterSecs(drain(null), now, { fallbackSecs: 9, maxSecs: 60, drainLeft: unknown }), 9)
})

t.test('upgrading: seconds to the resume estimate, else the fallback', async (t) => {
  const upgrade = (u: object | null) => ({ kind: 'refused' as const, reason: 'upgrading' as const, drain: { deadline_secs: 999, started_at_ms: now }, upgrade: u as never })
  t.equal(retryAfterSecs(upgrade({ id: 'u1', phase: 'draining', resume_estimate_ms: now + 42_001 }), now, opts(unknown)), 43)
  t.equal(retryAfterSecs(upgrade({ id: 'u1', phase: 'draining' }), now, opts(unknown)), 5, 'the drain deadline does not apply while upgrading')
  t.equal(retryAfterSecs(upgrade({ id: 'u1', phase: 'draining', resume_estimate_ms: now - 1 }), now, opts(unknown)), 1, 'past the estimate: about to resume')
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
