// Key layout 7, bound in the header, between the releases that share it (docs/store.md, "Two releases on one
// namespace"): a store that writes layout 7 binds a record by writing the intent id and the answer's phase into
// its header line, with no `inflight:bound` or `inflight:phase` entry; every reader takes an entry where one
// exists and the header's where none does, and the two forms are never both on one record. Status reads, pages,
// rebinds, unknown outcomes, moves, releases and endings are the same whichever release bound the record and
// whichever touches it.
import t, { type Test } from 'tap'
import { startRedis } from '../helpers/redis.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import { decodeEnded } from '../../src/store/records.js'
import { inflightHandle, storeKeys } from '../../src/store/keys.js'
import type { KeyLayouts } from '../../src/release.js'
import type { StoredResponse } from '../../src/store/types.js'
import { record, storeConformance } from './conformance.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const TTL = 3600
const STEP_ONE: KeyLayouts = { writes: 6, reads: [6, 7] }
const STEP_TWO: KeyLayouts = { writes: 7, reads: [6, 7] }

async function storeOn (t: Test, namespace: string, layouts: KeyLayouts): Promise<RedisStore> {
  return await redisStore(t, redisConfig(redis.url, namespace), { layouts, endedRetentionSecs: 60 })
}

function pending (id: string): StoredResponse {
  return { status: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, status: 'pending' }) }
}

async function header (namespace: string, scope: string): Promise<unknown[]> {
  const stored = await redis.cli('HGET', storeKeys(namespace).inflight, inflightHandle(scope))
  return JSON.parse(stored.slice(0, stored.indexOf('\n'))) as unknown[]
}

async function entries (namespace: string): Promise<string> {
  const k = storeKeys(namespace)
  return `${await redis.cli('HLEN', k.inflightBound)} bound, ${await redis.cli('HLEN', k.inflightPhase)} phase`
}

t.test('layout 7 binds in the header: no entry, and every read finds the id and the phase there', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  const accepted = record({ key: 'o:cosmos1hdr:n:1' })
  const pendingOne = record({ key: 'o:cosmos1hdr:n:2' })
  for (const rec of [accepted, pendingOne]) t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  await store.bind(accepted.key, 'hdr-a', pending('hdr-a'), TTL)
  await store.bind(pendingOne.key, 'hdr-p', pending('hdr-p'), TTL, 'pending')
  t.equal(await entries(namespace), '0 bound, 0 phase', 'the binds made no entry')
  t.same((await header(namespace, accepted.key)).slice(9), ['hdr-a'], 'an accepted bind appends the id alone')
  t.same((await header(namespace, pendingOne.key)).slice(9), ['hdr-p', 'pending'], 'another phase follows it')

  const byKey = new Map((await store.inflight()).map((r) => [r.key, r]))
  t.match(byKey.get(accepted.key), { id: 'hdr-a', phase: 'accepted', upstream: 'blue', version: '1.0' })
  t.match(byKey.get(pendingOne.key), { id: 'hdr-p', phase: 'pending' })
  // A page reads the same (admitted in one millisecond, they are ordered by handle: sorted here).
  t.same((await store.inflightPage(10, null)).records.map((r) => `${r.id} ${r.phase}`).sort(), ['hdr-a accepted', 'hdr-p pending'])
  t.match(await store.inflightById('hdr-p'), { key: pendingOne.key, id: 'hdr-p', phase: 'pending' })
  t.same(await store.admit({ record: pendingOne, idempotencyTtlSecs: TTL }), { kind: 'replay', response: pending('hdr-p') }, 'a retry is a replay')
  t.equal(await store.markUnknown(pendingOne.key, TTL), false, 'a record bound in its header is not marked unknown')

  // A later status is an entry, which wins over the header's phase.
  await store.setPhase('hdr-p', 'executing')
  t.match(await store.inflightById('hdr-p'), { phase: 'executing' })
  // A rebind to another id: the header says the new one, the old id no longer finds it.
  await store.bind(accepted.key, 'hdr-a2', pending('hdr-a2'), TTL, 'pending')
  t.same((await header(namespace, accepted.key)).slice(9), ['hdr-a2', 'pending'])
  t.equal(await store.inflightById('hdr-a'), null, 'the old id is no longer tracked')
  t.match(await store.inflightById('hdr-a2'), { key: accepted.key, phase: 'pending' })

  t.equal(await store.complete('hdr-a', 'settled', 'reconciler'), false, 'the old id ends nothing')
  t.equal(await store.complete('hdr-a2', 'settled', 'reconciler'), true)
  t.equal(await store.complete('hdr-p', 'failed', 'reconciler'), true)
  t.equal(await store.inflightCount(), 0)
  t.same(await store.inflightByUpstream(), { blue: 0, green: 0 })
  t.match(decodeEnded(await redis.cli('LINDEX', storeKeys(namespace).ended, '0')), { id: 'hdr-p', status: 'failed', upstream: 'blue' })
  t.equal(await redis.cli('HLEN', storeKeys(namespace).inflightIds), '0', 'no id left tracked')
})

t.test('an unknown outcome bound later, and a move, keep one form per record', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  const rec = record({ key: 'o:cosmos1unk:n:1' })
  await store.admit({ record: rec, idempotencyTtlSecs: TTL })
  t.equal(await store.markUnknown(rec.key, TTL), true)
  t.equal(await entries(namespace), '0 bound, 1 phase', 'the unknown outcome is an entry')
  await store.bind(rec.key, 'unk-1', pending('unk-1'), TTL, 'pending')
  t.equal(await entries(namespace), '0 bound, 0 phase', 'the bind took the unknown phase away')
  t.same((await header(namespace, rec.key)).slice(9), ['unk-1', 'pending'])
  t.match(await store.inflightById('unk-1'), { phase: 'pending' })

  // A move rewrites the record with its nine admission entries and keeps the id and phase in entries.
  const [current] = await store.inflight()
  t.equal(await store.updateInflight({ ...current!, upstream: 'green' }), true)
  t.equal((await header(namespace, rec.key)).length, 9, 'the moved record has no tail')
  t.equal(await entries(namespace), '1 bound, 1 phase')
  t.match(await store.inflightById('unk-1'), { id: 'unk-1', phase: 'pending', upstream: 'green' })
  t.same(await store.inflightByUpstream(), { blue: 0, green: 1 })
  // Bound again (a repair replays the bind): back in the header, the entries gone.
  await store.bind(rec.key, 'unk-1', pending('unk-1'), TTL)
  t.equal(await entries(namespace), '0 bound, 0 phase')
  t.match(await store.inflightById('unk-1'), { phase: 'accepted', upstream: 'green' })
  t.equal(await store.complete('unk-1', 'settled', 'reconciler'), true)
  t.same(await store.inflightByUpstream(), { blue: 0, green: 0 })
})

t.test('records of either step are bound, read, rebound, released and ended by the other', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const one = await storeOn(t, namespace, STEP_ONE)
  const two = await storeOn(t, namespace, STEP_TWO)
  t.equal(await redis.cli('GET', k.layout), '7', 'the layout-7 writer raised the mark; step one shares it')
  const recs = [1, 2, 3, 4].map((n) => record({ key: `o:cosmos1mix:n:${n}` }))
  for (const rec of recs) await one.admit({ record: rec, idempotencyTtlSecs: TTL })
  // Two binds what one admitted; one binds the others.
  await two.bind(recs[0]!.key, 'mix-1', pending('mix-1'), TTL, 'pending')
  await two.bind(recs[1]!.key, 'mix-2', pending('mix-2'), TTL)
  await one.bind(recs[2]!.key, 'mix-3', pending('mix-3'), TTL, 'pending')
  t.same((await header(namespace, recs[2]!.key)).length, 9, 'step one binds with entries')
  t.equal(await entries(namespace), '1 bound, 1 phase')
  for (const store of [one, two]) {
    const seen = new Map((await store.inflight()).map((r) => [r.key, [r.id, r.phase]]))
    t.same([...recs.map((r) => seen.get(r.key))], [['mix-1', 'pending'], ['mix-2', 'accepted'], ['mix-3', 'pending'], [null, 'submitting']])
    t.match(await store.inflightById('mix-1'), { phase: 'pending' })
  }

  // Each rebinds the other's: one form afterwards, the other id forgotten.
  await one.bind(recs[0]!.key, 'mix-1b', pending('mix-1b'), TTL)
  t.equal((await header(namespace, recs[0]!.key)).length, 9, 'step one took the header\'s tail away')
  t.equal(await redis.cli('HGET', k.inflightBound, inflightHandle(recs[0]!.key)), 'mix-1b')
  t.equal(await redis.cli('HEXISTS', k.inflightPhase, inflightHandle(recs[0]!.key)), '0', 'and the header\'s phase with it')
  await two.bind(recs[2]!.key, 'mix-3b', pending('mix-3b'), TTL, 'executing')
  t.same((await header(namespace, recs[2]!.key)).slice(9), ['mix-3b', 'executing'])
  for (const store of [one, two]) {
    t.match(await store.inflightById('mix-1b'), { phase: 'accepted' })
    t.match(await store.inflightById('mix-3b'), { phase: 'executing' })
    for (const old of ['mix-1', 'mix-3']) t.equal(await store.inflightById(old), null, `${old} no longer tracked`)
  }
  t.equal(await entries(namespace), '1 bound, 0 phase')

  // Each ends or releases the other's.
  t.equal(await one.markUnknown(recs[1]!.key, TTL), false, 'step one sees the header\'s id: bound')
  t.equal(await one.complete('mix-2', 'settled', 'reconciler'), true)
  t.equal(await two.complete('mix-1b', 'settled', 'reconciler'), true)
  t.equal(await one.complete('mix-3b', 'failed', 'reconciler'), true)
  await two.release(recs[3]!.key, null, TTL)
  for (const store of [one, two]) t.equal(await store.inflightCount(), 0)
  t.same(await one.inflightByUpstream(), { blue: 0, green: 0 })
  t.equal(await entries(namespace), '0 bound, 0 phase')
  t.equal(await redis.cli('HLEN', k.inflightIds), '0', 'no id left tracked')
  t.match(decodeEnded(await redis.cli('LINDEX', k.ended, '0')), { id: 'mix-3b', status: 'failed' })
})

t.test('a release of a record bound in its header forgets its id', async (t) => {
  const namespace = freshNamespace()
  const one = await storeOn(t, namespace, STEP_ONE)
  const two = await storeOn(t, namespace, STEP_TWO)
  const rec = record({ key: 'o:cosmos1rel:n:1' })
  await two.admit({ record: rec, idempotencyTtlSecs: TTL })
  await two.bind(rec.key, 'rel-1', pending('rel-1'), TTL)
  await one.release(rec.key, null, TTL)
  t.equal(await one.inflightById('rel-1'), null)
  t.equal(await redis.cli('HLEN', storeKeys(namespace).inflightIds), '0', 'the id went with the record')
  t.same(await two.inflightByUpstream(), { blue: 0, green: 0 })
})

// The whole store contract holds for the layout-7 writer (test/store/redis.test.ts runs it for this release's).
t.test('the store contract, written as layout 7', async (t) => {
  storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_TWO), dropsBoundBodies: true })
})
