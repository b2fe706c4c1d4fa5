/** How the operator keys' raw values read, the same for both stores (fail safe: a set switch always stops intake). */
import t from 'tap'
import { drainValue, parseDrain, parseUpgrade, readControl } from '../../src/store/control.js'

t.test('drain values', async (t) => {
  t.same(parseDrain('1', null), { value: {}, valid: true })
  t.same(parseDrain('1', '1700000000000'), { value: { started_at_ms: 1700000000000 }, valid: true })
  t.same(parseDrain('{"deadline_secs":60,"reason":"v2"}', null), { value: { deadline_secs: 60, reason: 'v2' }, valid: true })
  t.same(parseDrain('{}', null), { value: {}, valid: true })
  t.same(parseDrain('{"deadline_secs":-1}', null), { value: {}, valid: false }, 'a negative deadline is dropped and reported')
  t.same(parseDrain('{"deadline_secs":"60","reason":"x"}', null), { value: { reason: 'x' }, valid: false })
  t.same(parseDrain('{"reason":5}', null), { value: {}, valid: false })
  t.same(parseDrain('true', null), { value: {}, valid: false })
  t.same(parseDrain('0', null), { value: {}, valid: false }, '0 still drains: only DEL resumes')
  t.same(parseDrain('1', 'garbage'), { value: {}, valid: true })
})

t.test('upgrade values', async (t) => {
  t.same(parseUpgrade('{"id":"u1","phase":"draining"}'), { value: { id: 'u1', phase: 'draining' }, valid: true })
  t.same(parseUpgrade('{"id":"u1","phase":"x","resume_estimate_ms":5}'), { value: { id: 'u1', phase: 'x', resume_estimate_ms: 5 }, valid: true })
  t.same(parseUpgrade('{"id":"u1","phase":"x","resume_estimate_ms":"soon"}'), { value: { id: 'u1', phase: 'x' }, valid: false })
  t.same(parseUpgrade('{"id":1}'), { value: { id: 'unknown', phase: 'unknown' }, valid: false })
})

t.test('control state keeps the last good active color', async (t) => {
  const raw = { drain: null, drainStarted: null, upgrade: null }
  t.same(readControl({ ...raw, active: 'purple' }, null), { drain: null, upgrade: null, active: null, invalid: [{ key: 'active', raw: 'purple' }] })
  t.same(readControl({ ...raw, active: 'purple' }, 'green').active, 'green')
  t.same(readControl({ ...raw, active: null }, 'green').active, null, 'unset is unset')
})

t.test('what setDrain writes reads back the same, without the gateway\'s own start time', async (t) => {
  t.equal(drainValue({ deadline_secs: 10, reason: 'r', started_at_ms: 5 }), '{"deadline_secs":10,"reason":"r"}')
  t.same(parseDrain(drainValue({ reason: 'r' }), null), { value: { reason: 'r' }, valid: true })
})
