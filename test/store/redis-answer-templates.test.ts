// Key layout 8, answers by template (src/store/redis/answer-templates.ts; docs/store.md, "Answers by template"):
// a store that writes layout 8 keeps an answer it has seen before, but for the intent id, as `#<ref><id>` with
// the shared template under `a:<ref>`; a replay gives back the very answer, whichever release of the two
// adjacent ones wrote it and whichever reads it. An answer seen once, or that carries its id twice, is kept whole,
// and so is any answer whose template does not outlive the record.
import t, { type Test } from 'tap'
import { StoreUnavailableError } from '../../src/errors.js'
import type { KeyLayouts } from '../../src/release.js'
import { storeKeys } from '../../src/store/keys.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import type { StoredResponse } from '../../src/store/types.js'
import { startRedis } from '../helpers/redis.js'
import { record, storeConformance } from './conformance.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const TTL = 3600
const STEP_ONE: KeyLayouts = { writes: 7, reads: [6, 7, 8] }
const STEP_TWO: KeyLayouts = { writes: 8, reads: [7, 8] }

async function storeOn (t: Test, namespace: string, layouts: KeyLayouts): Promise<RedisStore> {
  return await redisStore(t, redisConfig(redis.url, namespace), { layouts, endedRetentionSecs: 60 })
}

function pending (id: string): StoredResponse {
  return {
    status: 202,
    headers: { 'content-type': 'application/json', 'intent-version': '1.0' },
    body: JSON.stringify({ id, status: 'pending', version: '1.0' })
  }
}

/** What the idempotency record keeps after the state and the fingerprint. */
async function kept (namespace: string, scope: string): Promise<string> {
  return (await redis.cli('GET', storeKeys(namespace).idem(scope))).slice(33)
}

/** Admits and binds intent `n` of `owner`, answered `response`; returns its scope. */
async function submit (t: Test, store: RedisStore, owner: string, n: number, response: StoredResponse, id: string): Promise<string> {
  const rec = record({ key: `o:${owner}:n:${n}` })
  t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  await store.bind(rec.key, id, response, TTL)
  return rec.key
}

async function replay (store: RedisStore, scope: string): Promise<unknown> {
  return await store.admit({ record: record({ key: scope }), idempotencyTtlSecs: TTL })
}

t.test('layout 8 keeps an answer seen before as a reference; every replay gives the very answer back', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  const first = await submit(t, store, 'cosmos1tpl', 1, pending('tpl-1'), 'tpl-1')
  t.match(await kept(namespace, first), /^202\n/, 'the first answer of its kind is kept whole')
  const scopes = [first]
  for (let n = 2; n <= 5; n++) scopes.push(await submit(t, store, 'cosmos1tpl', n, pending(`tpl-${n}`), `tpl-${n}`))
  const second = await kept(namespace, scopes[1] as string)
  t.match(second, /^#[A-Za-z0-9_-]{16}tpl-2$/, 'from the second on: the template\'s ref and the id')
  const ref = second.slice(1, 17)
  t.equal(await kept(namespace, scopes[4] as string), `#${ref}tpl-5`, 'one template for all of them')
  const templateTtl = Number(await redis.cli('TTL', storeKeys(namespace).answer(ref)))
  t.ok(templateTtl > TTL, `the template outlives the records (TTL ${templateTtl} s against ${TTL} s)`)
  t.equal(await redis.cli('KEYS', `${storeKeys(namespace).prefix}a:*`), storeKeys(namespace).answer(ref), 'and it is the only one')
  for (const [i, scope] of scopes.entries()) {
    t.same(await replay(store, scope), { kind: 'replay', response: pending(`tpl-${i + 1}`) }, `intent ${i + 1} replays its own answer`)
  }

  // Another store on the namespace (a restarted instance: nothing cached) expands the template from Redis.
  const other = await storeOn(t, namespace, STEP_ONE)
  t.same(await replay(other, scopes[3] as string), { kind: 'replay', response: pending('tpl-4') }, 'the release before reads it')
  const length = (await kept(namespace, scopes[4] as string)).length
  t.ok(length < 40, `the kept answer is ${length} characters instead of ${(await kept(namespace, first)).length}`)
})

t.test('answers that are not the same but for the id are kept whole', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  const stamped = (id: string, n: number): StoredResponse => ({ ...pending(id), body: JSON.stringify({ id, status: 'pending', at: 1000 + n }) })
  const echoed = (id: string): StoredResponse => ({ ...pending(id), headers: { ...pending(id).headers, location: `/intents/${id}` } })
  const scopes: Array<[string, StoredResponse]> = []
  for (let n = 1; n <= 3; n++) {
    scopes.push([await submit(t, store, 'cosmos1whole', n, stamped(`w-${n}`, n), `w-${n}`), stamped(`w-${n}`, n)])
    scopes.push([await submit(t, store, 'cosmos1whole', 10 + n, echoed(`e-${n}`), `e-${n}`), echoed(`e-${n}`)])
    const noId = { status: 202, headers: {}, body: 'accepted' }
    scopes.push([await submit(t, store, 'cosmos1whole', 20 + n, noId, `x-${n}`), noId])
  }
  for (const [scope, response] of scopes) {
    t.match(await kept(namespace, scope), /^202\n/, `kept whole: ${response.body}`)
    t.same(await replay(store, scope), { kind: 'replay', response })
  }
  t.equal(await redis.cli('KEYS', `${storeKeys(namespace).prefix}a:*`), '', 'no template written')
})

t.test('a template that is gone: the next binds keep their answers whole, and a replay that needs it is refused 503', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  const scopes: string[] = []
  for (let n = 1; n <= 3; n++) scopes.push(await submit(t, store, 'cosmos1gone', n, pending(`g-${n}`), `g-${n}`))
  const ref = (await kept(namespace, scopes[2] as string)).slice(1, 17)
  await redis.cli('DEL', storeKeys(namespace).answer(ref))
  // This instance wrote the template a moment ago, so it does not send its text again; bind.lua finds it gone.
  const after = await submit(t, store, 'cosmos1gone', 4, pending('g-4'), 'g-4')
  t.match(await kept(namespace, after), /^202\n/, 'kept whole: a reference is never written to a missing template')
  t.same(await replay(store, after), { kind: 'replay', response: pending('g-4') })

  const fresh = await storeOn(t, namespace, STEP_TWO)
  await t.rejects(replay(fresh, scopes[2] as string), StoreUnavailableError, 'the record that referred to it cannot be replayed: 503')
  await t.rejects(replay(fresh, scopes[2] as string), { message: new RegExp(`template a:${ref}, which is missing`) })
  t.same(await replay(store, scopes[2] as string), { kind: 'replay', response: pending('g-3') }, 'an instance that still holds the template replays it')
})

t.test('after Redis lost its data, the next bind writes the template again and refers to it', async (t) => {
  const own = await startRedis(t)
  const namespace = freshNamespace()
  const store = await redisStore(t, redisConfig(own.url, namespace), { layouts: STEP_TWO, endedRetentionSecs: 60 })
  // A gateway always watches the control keys; that poll is what notices the flush.
  t.teardown(store.watchControl(() => {}))
  const keptIn = async (scope: string): Promise<string> => (await own.cli('GET', storeKeys(namespace).idem(scope))).slice(33)
  for (let n = 1; n <= 2; n++) await submit(t, store, 'cosmos1loss', n, pending(`l-${n}`), `l-${n}`)
  const epoch = storeKeys(namespace).epoch
  const before = await own.cli('GET', epoch)
  await own.cli('FLUSHALL')
  // Noticed at the next control poll: the store registers its two records again.
  const until = Date.now() + 20_000 // a busy machine may take seconds to poll and register
  while (await own.cli('GET', epoch) === before || await store.inflightCount() !== 2 || await store.recovering()) {
    if (Date.now() > until) throw new Error('the loss was not noticed within 20 s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const after = await submit(t, store, 'cosmos1loss', 3, pending('l-3'), 'l-3')
  t.match(await keptIn(after), /^#[A-Za-z0-9_-]{16}l-3$/, 'a reference at once: the template was written again')
  t.same(await replay(store, after), { kind: 'replay', response: pending('l-3') })
  const fresh = await redisStore(t, redisConfig(own.url, namespace), { layouts: STEP_TWO, endedRetentionSecs: 60 })
  t.same(await replay(fresh, after), { kind: 'replay', response: pending('l-3') }, 'and another instance expands it from Redis')
})

t.test('binds in one turn (one script call) each keep their own answer', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  await submit(t, store, 'cosmos1turn', 0, pending('turn-0'), 'turn-0')
  const recs = Array.from({ length: 30 }, (_, i) => record({ key: `o:cosmos1turn:n:${i + 1}` }))
  for (const rec of recs) await store.admit({ record: rec, idempotencyTtlSecs: TTL })
  await Promise.all(recs.map(async (rec, i) => { await store.bind(rec.key, `turn-${i + 1}`, pending(`turn-${i + 1}`), TTL) }))
  const forms = await Promise.all(recs.map(async (rec) => await kept(namespace, rec.key)))
  t.ok(forms.every((f, i) => f.startsWith('#') && f.endsWith(`turn-${i + 1}`)), 'every one a reference to the template with its id')
  for (const [i, rec] of recs.entries()) t.same(await replay(store, rec.key), { kind: 'replay', response: pending(`turn-${i + 1}`) })
  t.equal(await store.inflightCount(), 31)
})

storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_TWO), dropsBoundBodies: true })
