/**
 * The store's contract, once, for every implementation: test/store/redis.test.ts and
 * test/store/embedded.test.ts each run it with their own fixture. What only Redis can do (several instances,
 * operator keys set with redis-cli, restarts) lives in the Redis test files.
 */
import type { Test } from 'tap'
import type { AdmitResult, InflightRecord, Store, StoredResponse } from '../../src/store/types.js'
import { KEY_LAYOUTS, LEAN_LAYOUT } from '../../src/release.js'

/** A Redis store of this release drops a bound record's forwarded bytes (key layout 3 and above). */
export const REDIS_DROPS_BOUND_BODIES = KEY_LAYOUTS.writes >= LEAN_LAYOUT

/** What a bound record reads back as from a Redis store of this release: without its body under layout 3. */
export function boundAs<T extends object> (rec: T): T {
  return REDIS_DROPS_BOUND_BODIES ? { ...rec, intent: {}, body_dropped: true } : rec
}

export interface StoreFixture {
  /** A store on fresh, empty state; closed at the test's teardown. */
  create (t: Test): Promise<Store>
  /** Writes an operator key's raw value as `redis-cli SET` would (null: DEL); absent where no such key exists. */
  setRaw?: (store: Store, key: 'drain' | 'active' | 'upgrade', value: string | null) => Promise<void>
  /** The store drops a record's forwarded bytes at bind (Redis key layout 3): a bound record has `intent` `{}`. */
  dropsBoundBodies?: boolean
}

const TTL = 3600
let sequence = 0

export function record (overrides: Partial<AdmitRecord> = {}): AdmitRecord {
  sequence++
  return {
    key: `cosmos1owner:${sequence}`,
    upstream: 'blue',
    version: '1.0',
    upstream_version: '1.0',
    created_at_ms: Date.now(),
    deadline: Math.floor(Date.now() / 1000) + 600,
    intent: { version: '1.0', user: 'cosmos1owner', nonce: sequence, input: { amount: '1000000' } },
    ...overrides
  }
}
type AdmitRecord = Omit<InflightRecord, 'id' | 'phase'>

const accepted = (id: string): StoredResponse => ({
  status: 202,
  headers: { 'content-type': 'application/json', 'intent-version': '1.0' },
  body: JSON.stringify({ id, status: 'pending', version: '1.0' })
})

async function admit (store: Store, rec: AdmitRecord): Promise<AdmitResult> {
  return await store.admit({ record: rec, idempotencyTtlSecs: TTL })
}

export function storeConformance (t: Test, fixture: StoreFixture): void {
  t.test('admission registers the intent as inflight before anything else', async (t) => {
    const store = await fixture.create(t)
    const rec = record({ upstream: 'green' })
    t.same(await admit(store, rec), { kind: 'admitted' })
    t.equal(await store.inflightCount(), 1)
    t.same(await store.inflightByUpstream(), { blue: 0, green: 1 })
    const [listed] = await store.inflight()
    t.match(listed, { ...rec, id: null, phase: 'submitting' })
    t.equal(await store.inflightById('nope'), null)
  })

  t.test('a duplicate while the first is in progress is in_progress and not counted', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    t.same(await admit(store, { ...rec, upstream: 'green' }), { kind: 'in_progress' })
    t.equal(await store.inflightCount(), 1)
  })

  t.test('bind keeps the response for replays and makes the record findable by id', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    await store.bind(rec.key, 'intent-1', accepted('intent-1'), TTL, 'pending')
    t.match(await store.inflightById('intent-1'), { key: rec.key, id: 'intent-1', phase: 'pending', upstream: 'blue' })
    t.same(await admit(store, rec), { kind: 'replay', response: accepted('intent-1') })
    t.equal(await store.inflightCount(), 1, 'a replay is not a new intent')
  })

  t.test('an unbound record is listed but cannot be found by id', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    t.equal((await store.inflight()).length, 1)
    t.equal(await store.complete('no-id-yet', 'settled', 'response'), false)
    t.equal(await store.inflightCount(), 1)
  })

  t.test('an idempotency record is forgotten after its TTL', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await store.admit({ record: rec, idempotencyTtlSecs: 1 })
    await store.release(rec.key, accepted('short'), 1)
    t.match(await store.admit({ record: rec, idempotencyTtlSecs: 1 }), { kind: 'replay' })
    await new Promise((resolve) => setTimeout(resolve, 1100)) // the TTL has to run out: there is no event for it
    t.same(await store.admit({ record: rec, idempotencyTtlSecs: 1 }), { kind: 'admitted' })
  })

  t.test('bind without a phase reads as accepted', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    await store.bind(rec.key, 'intent-2', accepted('intent-2'), TTL)
    t.equal((await store.inflightById('intent-2'))?.phase, 'accepted')
  })

  t.test('a record whose outcome was unknown reads as its answer\'s phase once bound, in every listing', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    t.equal(await store.markUnknown(rec.key, TTL), true)
    t.equal((await store.inflight()).find((r) => r.key === rec.key)?.phase, 'unknown')
    await store.bind(rec.key, 'intent-u', accepted('intent-u'), TTL)
    t.equal((await store.inflightById('intent-u'))?.phase, 'accepted')
    t.same((await store.inflight()).map((r) => [r.key, r.phase]), [[rec.key, 'accepted']])
    t.same((await store.inflightPage(10, null)).records.map((r) => [r.key, r.phase]), [[rec.key, 'accepted']])
    // A status the upstream named is kept as the phase.
    const other = record()
    await admit(store, other)
    await store.bind(other.key, 'intent-p', accepted('intent-p'), TTL, 'pending')
    t.equal((await store.inflightById('intent-p'))?.phase, 'pending')
  })

  t.test('an id the upstream already gave to another key is counted once', async (t) => {
    const store = await fixture.create(t)
    const first = record()
    const second = record()
    await admit(store, first)
    await admit(store, second)
    await store.bind(first.key, 'same-id', accepted('same-id'), TTL)
    await store.bind(second.key, 'same-id', accepted('same-id'), TTL)
    t.equal(await store.inflightCount(), 1)
    t.equal((await store.inflightById('same-id'))?.key, first.key)
    t.same(await admit(store, second), { kind: 'replay', response: accepted('same-id') })
  })

  t.test('complete ends the record, logs the ending, and keeps replays', async (t) => {
    const store = await fixture.create(t)
    const rec = record({ upstream: 'green' })
    await admit(store, rec)
    await store.bind(rec.key, 'intent-3', accepted('intent-3'), TTL)
    const before = Date.now()
    t.equal(await store.complete('intent-3', 'settled', 'reconciler'), true)
    t.equal(await store.inflightCount(), 0)
    t.equal(await store.inflightById('intent-3'), null)
    const [ending] = await store.ended(10)
    t.match(ending, { id: 'intent-3', key: rec.key, upstream: 'green', status: 'settled', via: 'reconciler' })
    t.ok((ending?.ended_at_ms ?? 0) >= before)
    t.equal(await store.complete('intent-3', 'settled', 'reconciler'), false, 'a second ending is refused')
    t.equal(await store.complete('never-seen', 'failed', 'admin'), false)
    t.same(await admit(store, rec), { kind: 'replay', response: accepted('intent-3') })
  })

  t.test('an ended intent keeps its owner and versions by id, for status reads', async (t) => {
    const store = await fixture.create(t)
    const rec = record({ upstream: 'blue', version: '1.0', upstream_version: '2.0' })
    await admit(store, rec)
    await store.bind(rec.key, 'intent-ended', accepted('intent-ended'), TTL)
    t.equal(await store.endedById('intent-ended'), null, 'nothing while it is inflight')
    await store.setActive('green')
    t.equal(await store.complete('intent-ended', 'settled', 'response'), true)
    t.same(await store.endedById('intent-ended'), { upstream: 'blue', version: '1.0', upstream_version: '2.0', status: 'settled' })
    t.equal(await store.endedById('never-seen'), null)
    t.equal(await store.complete('intent-ended', 'failed', 'admin'), false)
    t.equal((await store.endedById('intent-ended'))?.status, 'settled', 'a refused second ending changes nothing')
  })

  t.test('ended lists newest first and honours the limit', async (t) => {
    const store = await fixture.create(t)
    for (const id of ['a', 'b', 'c']) {
      const rec = record()
      await admit(store, rec)
      await store.bind(rec.key, id, accepted(id), TTL)
      await store.complete(id, 'expired', 'expiry')
    }
    t.same((await store.ended(2)).map((e) => e.id), ['c', 'b'])
    t.same(await store.ended(0), [])
  })

  t.test('release with a response removes the record and keeps the key for replays', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    const refused: StoredResponse = { status: 422, headers: { 'content-type': 'application/problem+json' }, body: '{"title":"no"}' }
    await store.release(rec.key, refused, TTL)
    t.equal(await store.inflightCount(), 0)
    t.same(await admit(store, rec), { kind: 'replay', response: refused })
  })

  t.test('release without a response forgets the key so a retry goes through', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    await store.release(rec.key, null, TTL)
    t.equal(await store.inflightCount(), 0)
    t.same(await admit(store, rec), { kind: 'admitted' })
    t.equal(await store.inflightCount(), 1)
  })

  t.test('while draining nothing is admitted or registered, and the switch says when it began', async (t) => {
    const store = await fixture.create(t)
    const before = Date.now()
    await store.setDrain({ deadline_secs: 30, reason: 'maintenance' })
    const result = await admit(store, record())
    t.match(result, { kind: 'refused', reason: 'draining', upgrade: null, drain: { deadline_secs: 30, reason: 'maintenance' } })
    const started = result.kind === 'refused' ? result.drain?.started_at_ms ?? 0 : 0
    t.ok(started >= before && started <= Date.now(), 'started_at_ms is when the drain began')
    t.equal(await store.inflightCount(), 0)
    t.match(await store.control(), { drain: { deadline_secs: 30, reason: 'maintenance', started_at_ms: started } })

    await store.setDrain(null)
    t.equal((await store.control()).drain, null)
    t.same(await admit(store, record()), { kind: 'admitted' })
  })

  t.test('the upgrade flag refuses admission whatever drain says', async (t) => {
    const store = await fixture.create(t)
    await store.setUpgrade({ id: 'up-1', phase: 'draining', resume_estimate_ms: 1234 })
    t.match(await admit(store, record()), { kind: 'refused', reason: 'upgrading', upgrade: { id: 'up-1', phase: 'draining', resume_estimate_ms: 1234 }, drain: null })
    await store.setDrain({})
    t.match(await admit(store, record()), { kind: 'refused', reason: 'upgrading' })
    await store.setUpgrade(null)
    t.match(await admit(store, record()), { kind: 'refused', reason: 'draining' })
    await store.setDrain(null)
    t.same(await admit(store, record()), { kind: 'admitted' })
    t.equal(await store.inflightCount(), 1)
  })

  t.test('a replay is still answered while draining (it is not a new intent)', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    await store.bind(rec.key, 'intent-4', accepted('intent-4'), TTL)
    await store.setDrain({})
    t.same(await admit(store, rec), { kind: 'replay', response: accepted('intent-4') })
  })

  t.test('setPhase, updateInflight and replaceInflight change records in place', async (t) => {
    const store = await fixture.create(t)
    const rec = record()
    await admit(store, rec)
    await store.bind(rec.key, 'intent-5', accepted('intent-5'), TTL)
    await store.setPhase('intent-5', 'escrowed')
    const current = await store.inflightById('intent-5')
    t.equal(current?.phase, 'escrowed')
    await store.setPhase('unknown-id', 'escrowed')

    const extended = { ...(current as InflightRecord), deadline: rec.deadline + 3600, upstream_version: '2.0', intent: { version: '2.0', nonce: '5' } }
    t.equal(await store.updateInflight(extended), true)
    if (fixture.dropsBoundBodies === true) t.same(await store.inflightById('intent-5'), { ...extended, intent: {} }, 'a bound record stays without its bytes')
    else t.same(await store.inflightById('intent-5'), extended)
    t.equal(await store.updateInflight({ ...extended, key: 'gone' }), false)

    const restored: InflightRecord[] = [
      { ...record(), id: 'r-1', phase: 'matched' },
      { ...record({ upstream: 'green' }), id: null, phase: 'submitting' }
    ]
    await store.replaceInflight(restored)
    t.equal(await store.inflightCount(), 2)
    t.same(await store.inflightByUpstream(), { blue: 1, green: 1 })
    t.equal(await store.inflightById('intent-5'), null)
    t.same(await store.inflightById('r-1'), restored[0])
    t.same((await store.inflight()).sort((a, b) => a.key.localeCompare(b.key)), [...restored].sort((a, b) => a.key.localeCompare(b.key)))
  })

  t.test('the intent body comes back exactly as stored (large numbers included)', async (t) => {
    const store = await fixture.create(t)
    const rec = record({ intent: { nonce: 9007199254740991, deadline: 1767225600, amounts: ['1', '2'], nested: { deep: [1.5, null, true] } } })
    await admit(store, rec)
    t.same((await store.inflight())[0]?.intent, rec.intent, 'while a resend may need it')
    await store.bind(rec.key, 'big', accepted('big'), TTL)
    await store.setPhase('big', 'matched')
    t.same((await store.inflightById('big'))?.intent, fixture.dropsBoundBodies === true ? {} : rec.intent)
  })

  t.test('active: set and read back', async (t) => {
    const store = await fixture.create(t)
    t.equal((await store.control()).active, null)
    await store.setActive('green')
    t.match(await store.control(), { active: 'green', invalid: [] })
  })

  t.test('watchControl hears the current state and then each change', async (t) => {
    const store = await fixture.create(t)
    const seen: Array<string | null> = []
    let notify: (() => void) | null = null
    const unwatch = store.watchControl((state) => {
      seen.push(state.active)
      notify?.()
    })
    t.teardown(unwatch)
    const next = async (): Promise<void> => await new Promise((resolve) => { notify = resolve })
    await next()
    const changed = next()
    await store.setActive('green')
    await changed
    t.same(seen, [null, 'green'])
  })

  t.test('leases: one holder at a time, fencing tokens only grow, a lost lease cannot be renewed', async (t) => {
    const store = await fixture.create(t)
    const a = await store.acquireLease('leader', 'a', 150)
    t.ok(a !== null && a.token > 0)
    t.equal(await store.acquireLease('leader', 'b', 150), null, 'held by a')
    t.same(await store.acquireLease('leader', 'a', 150), a, 'the holder keeps its token')
    t.equal(await store.renewLease('leader', a!, 150), true)
    t.equal(await store.renewLease('leader', { holder: 'a', token: a!.token + 1 }, 150), false, 'a wrong token renews nothing')

    await new Promise((resolve) => setTimeout(resolve, 250)) // let the TTL run out: expiry has no event to await
    const b = await store.acquireLease('leader', 'b', 10_000)
    t.ok(b !== null && b.token > a!.token, 'a new holder gets a larger token')
    t.equal(await store.renewLease('leader', a!, 10_000), false, 'the old holder lost it')
    await store.releaseLease('leader', a!)
    t.equal(await store.acquireLease('leader', 'c', 10_000), null, 'a release by the old holder changes nothing')
    await store.releaseLease('leader', b!)
    const c = await store.acquireLease('leader', 'c', 10_000)
    t.ok(c !== null && c.token > b!.token)
  })

  t.test('documents and hashes of other parts', async (t) => {
    const store = await fixture.create(t)
    t.equal(await store.getDoc('ibc'), null)
    await store.setDoc('ibc', { height: 42, channels: ['channel-0'] })
    t.same(await store.getDoc('ibc'), { height: 42, channels: ['channel-0'] })
    await store.hashSet('pending', { 'channel-0/1': { seq: 1 }, 'channel-0/2': { seq: 2 } })
    await store.hashSet('pending', {})
    await store.hashDelete('pending', ['channel-0/1'])
    await store.hashDelete('pending', [])
    t.same(await store.hashGetAll('pending'), { 'channel-0/2': { seq: 2 } })
    t.same(await store.hashGetAll('none'), {})
  })

  t.test('health and lifecycle', async (t) => {
    const store = await fixture.create(t)
    await store.ready()
    t.equal(store.health(), 'ready')
    await store.close()
    await store.close()
  })

  if (fixture.setRaw !== undefined) operatorKeys(t, fixture as Required<StoreFixture>)
}

/** What an operator does with redis-cli. */
function operatorKeys (t: Test, fixture: Required<StoreFixture>): void {
  t.test('drain set to 1 by an operator refuses admission', async (t) => {
    const store = await fixture.create(t)
    await fixture.setRaw(store, 'drain', '1')
    const result = await admit(store, record())
    t.match(result, { kind: 'refused', reason: 'draining', drain: {} })
    t.equal(await store.inflightCount(), 0)
    t.same((await store.control()).invalid, [])
    await fixture.setRaw(store, 'drain', null)
    t.same(await admit(store, record()), { kind: 'admitted' })
  })

  t.test('drain set to JSON by an operator carries its deadline and reason', async (t) => {
    const store = await fixture.create(t)
    await fixture.setRaw(store, 'drain', '{"deadline_secs":120,"reason":"v2 rollout"}')
    t.match(await admit(store, record()), { kind: 'refused', reason: 'draining', drain: { deadline_secs: 120, reason: 'v2 rollout' } })
  })

  t.test('a drain value that makes no sense still drains, and is reported', async (t) => {
    const store = await fixture.create(t)
    await fixture.setRaw(store, 'drain', 'yes please')
    t.match(await admit(store, record()), { kind: 'refused', reason: 'draining' })
    t.same((await store.control()).invalid, [{ key: 'drain', raw: 'yes please' }])
  })

  t.test('an upgrade flag that cannot be read still stops admission, and is reported', async (t) => {
    const store = await fixture.create(t)
    await fixture.setRaw(store, 'upgrade', 'not json')
    t.match(await admit(store, record()), { kind: 'refused', reason: 'upgrading', upgrade: { id: 'unknown', phase: 'unknown' } })
    t.same((await store.control()).invalid, [{ key: 'upgrade', raw: 'not json' }])
  })

  t.test('active set to a value that makes no sense is ignored and reported; the last good value stays', async (t) => {
    const store = await fixture.create(t)
    await fixture.setRaw(store, 'active', 'green')
    t.equal((await store.control()).active, 'green')
    await fixture.setRaw(store, 'active', 'purple')
    t.same(await store.control(), { drain: null, upgrade: null, active: 'green', invalid: [{ key: 'active', raw: 'purple' }] })
    await fixture.setRaw(store, 'active', 'blue')
    t.same(await store.control(), { drain: null, upgrade: null, active: 'blue', invalid: [] })
  })

  t.test('watchControl sees an operator change within a second', async (t) => {
    const store = await fixture.create(t)
    let resolveDrain: (at: number) => void = () => {}
    const drained = new Promise<number>((resolve) => { resolveDrain = resolve })
    const unwatch = store.watchControl((state) => { if (state.drain !== null) resolveDrain(Date.now()) })
    t.teardown(unwatch)
    await store.control()
    const setAt = Date.now()
    await fixture.setRaw(store, 'drain', '1')
    const seenAt = await drained
    t.ok(seenAt - setAt < 1000, `seen after ${seenAt - setAt} ms`)
  })
}
