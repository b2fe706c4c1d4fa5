/**
 * Redis Cluster (six real cluster-enabled redis-servers): the store contract on a cluster, exact counts across
 * two stores, the operator keys through `redis-cli -c`, scripts that never surface NOSCRIPT (flushed script
 * cache, a resharded slot, a promoted replica), and the namespace's master SIGKILLed: fail closed, then admit
 * again on the promoted replica without a restart.
 */
import t from 'tap'
import type { RedisSettings } from '../../src/config/schema.js'
import { StoreUnavailableError } from '../../src/errors.js'
import { keyPrefix } from '../../src/store/keys.js'
import type { Store } from '../../src/store/types.js'
import { startCluster } from '../helpers/cluster.js'
import { record, REDIS_DROPS_BOUND_BODIES, storeConformance } from './conformance.js'
import { freshNamespace, operatorKey, redisStore } from './redis-fixture.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'

const TTL = 3600
const cluster = await startCluster(t)

function clusterConfig (namespace: string): RedisSettings {
  return { namespace, cluster_nodes: cluster.nodes, poll_interval_ms: 100, command_timeout_ms: 500 }
}

const namespaces = new WeakMap<Store, string>()
storeConformance(t, {
  dropsBoundBodies: REDIS_DROPS_BOUND_BODIES,
  create: async (t) => {
    const namespace = freshNamespace()
    const store = await redisStore(t, clusterConfig(namespace))
    namespaces.set(store, namespace)
    return store
  },
  setRaw: async (store, key, value) => {
    const name = operatorKey(namespaces.get(store) as string, key)
    if (value === null) await cluster.cli('DEL', name)
    else await cluster.cli('SET', name, value)
  }
})

/**
 * Every kind of command the store sends: MULTI transactions (with and without the control channel's PUBLISH),
 * the transaction after a read, grouped and single scripts, plain reads and writes.
 */
const FIRST_COMMANDS: Array<[string, (store: Store) => Promise<unknown>]> = [
  ['setDrain (MULTI SET SET PUBLISH)', async (s) => { await s.setDrain({ reason: 'first command' }) }],
  ['setDrain off (MULTI DEL PUBLISH)', async (s) => { await s.setDrain(null) }],
  ['setUpgrade (MULTI SET PUBLISH)', async (s) => { await s.setUpgrade({ id: 'up-first', phase: 'draining' }) }],
  ['setActive (MULTI SET PUBLISH)', async (s) => { await s.setActive('green') }],
  ['inflight (MULTI HGETALL x3)', async (s) => await s.inflight()],
  ['replaceInflight (MULTI DEL HSET ...)', async (s) => { await s.replaceInflight([{ ...record(), id: null, phase: 'submitting' }]) }],
  ['inflightPage (ZRANGEBYSCORE, then MULTI HMGET x3)', async (s) => await s.inflightPage(10, null)],
  // Admission is refused (503) until the store has checked the namespace's key layout: its first script call
  // is the one after that check.
  ['admit (grouped script)', async (s) => { await (s as RedisStore).ready(); return await s.admit({ record: record(), idempotencyTtlSecs: TTL }) }],
  ['control (script)', async (s) => await s.control()],
  ['acquireLease (script)', async (s) => await s.acquireLease('first', 'me', 5000)],
  ['getDoc (GET)', async (s) => await s.getDoc('first')],
  ['hashSet (HSET)', async (s) => { await s.hashSet('first', { a: 1 }) }]
]

t.test("a fresh store's first command, of every kind, waits for the slot's node instead of failing", async (t) => {
  for (const [name, first] of FIRST_COMMANDS) {
    const store = new RedisStore(clusterConfig(freshNamespace()))
    t.teardown(async () => await store.close())
    // Not awaiting store.ready(): the command is sent while the cluster and the namespace's node connect.
    await t.resolves(first(store), name)
  }
})

t.test('two stores on one cluster: exact counts, and redis-cli -c SET drain stops both at once', async (t) => {
  const namespace = freshNamespace()
  const [a, b] = await Promise.all([redisStore(t, clusterConfig(namespace)), redisStore(t, clusterConfig(namespace))])
  const results = await Promise.all(Array.from({ length: 400 }, async (_, i) =>
    await (i % 2 === 0 ? a : b).admit({ record: record(), idempotencyTtlSecs: TTL })))
  t.equal(results.filter((r) => r.kind === 'admitted').length, 400)
  t.equal(await a.inflightCount(), 400, 'exact on one')
  t.equal(await b.inflightCount(), 400, 'exact on the other')
  t.equal(await cluster.cli('HLEN', `${keyPrefix(namespace)}inflight`), '400', 'what redis-cli -c counts')

  t.equal(await cluster.cli('SET', operatorKey(namespace, 'drain'), '1'), 'OK')
  t.match(await a.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'refused', reason: 'draining' })
  t.match(await b.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'refused', reason: 'draining' })
  await cluster.cli('DEL', operatorKey(namespace, 'drain'))
  t.same(await a.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
})

t.test('layout 9 on a cluster: answered records in shards the scripts name themselves, found, swept', async (t) => {
  // The shard keys are built inside the scripts from the namespace's `replays` key: they share its hash tag,
  // so its slot, which is all a cluster node asks of a script's keys.
  const namespace = freshNamespace()
  const store = await redisStore(t, clusterConfig(namespace), { layouts: { writes: 9, reads: [8, 9] }, endedRetentionSecs: TTL })
  const answer = (id: string): { status: number, headers: Record<string, string>, body: string } =>
    ({ status: 202, headers: {}, body: JSON.stringify({ id }) })
  const recs = Array.from({ length: 200 }, (_, n) => record({ key: `o:cosmos1cluster:n:${n}`, fingerprint: 'c'.repeat(64) }))
  for (const [n, rec] of recs.entries()) {
    t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
    await store.bind(rec.key, `c-${n}`, answer(`c-${n}`), TTL)
  }
  const shards = Number(await cluster.cli('HGET', `${keyPrefix(namespace)}replays`, 'n'))
  t.ok(shards > 1, `${shards} shards`)
  for (const [n, rec] of recs.entries()) {
    t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'replay', response: answer(`c-${n}`) })
  }
  const kept = Number(await cluster.cli('HGET', `${keyPrefix(namespace)}replays`, 'count'))
  t.ok(kept > 190, `${kept} of the 200 answers in shards (the first of a shape is kept whole, in its key)`)
  await store.sweepReplays() // the first sweep of a namespace (if the store's own has not run yet) starts the clock
  const swept = await store.sweepReplays(Date.now() + 2 * TTL * 1000)
  t.match(swept, { dropped: kept, swept: shards }, 'a sweep past the TTL reaches every shard and drops every record')
})

t.test('a flushed script cache and a resharded slot never surface NOSCRIPT', async (t) => {
  const namespace = freshNamespace()
  const store = await redisStore(t, clusterConfig(namespace))
  const inflightKey = `${keyPrefix(namespace)}inflight`
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })

  const master = await cluster.masterOf(inflightKey)
  await master.cli('SCRIPT', 'FLUSH')
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' }, 'after SCRIPT FLUSH')

  // Admissions keep running while the slot moves to another master (ASK, TRYAGAIN, then MOVED on the way).
  const slot = await cluster.slotOf(inflightKey)
  const others = []
  for (const s of cluster.servers) if (s.port !== master.port && (await s.cli('ROLE')).startsWith('master')) others.push(s)
  const target = others[0]
  if (target === undefined) throw new Error('no other master')
  const errors: string[] = []
  let admitted = 2
  const resharding = { done: false }
  const load = (async () => {
    while (!resharding.done) {
      try {
        if ((await store.admit({ record: record(), idempotencyTtlSecs: TTL })).kind === 'admitted') admitted++
      } catch (err) {
        errors.push((err as Error).message)
      }
    }
  })()
  await cluster.moveSlot(slot, target)
  t.equal((await cluster.masterOf(inflightKey)).port, target.port, 'the slot moved')
  resharding.done = true
  await load
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' }, 'admitted on the new master')
  admitted++
  t.same(errors.filter((m) => m.includes('NOSCRIPT')), [], 'no NOSCRIPT')
  t.same(errors.filter((m) => !m.startsWith('store unavailable')), [], 'nothing but store-unavailable while the slot moved')
  t.comment(`${admitted} admitted while resharding, ${errors.length} store-unavailable`)
  // An admission whose answer was lost is undone by the store: count only once the repairs ran.
  await store.flushRepairs()
  t.equal(store.pendingRepairs(), 0)
  t.equal(await store.inflightCount(), admitted, 'every admitted record is on the new master, no other')
})

t.test("the namespace's master is SIGKILLed: fail closed, then admit on the promoted replica without a restart", async (t) => {
  const namespace = freshNamespace()
  const store = await redisStore(t, clusterConfig(namespace))
  const inflightKey = `${keyPrefix(namespace)}inflight`
  const before = record()
  t.same(await store.admit({ record: before, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  await store.bind(before.key, 'before-crash', { status: 202, headers: {}, body: '{}' }, TTL)
  const master = await cluster.masterOf(inflightKey)
  t.equal(await master.replicated(`${keyPrefix(namespace)}fence`, 1, 5000), 1, 'replicated before the crash')

  await master.kill()
  await t.rejects(store.admit({ record: record(), idempotencyTtlSecs: TTL }), StoreUnavailableError, 'no master for the slot: fail closed')
  t.equal(store.health(), 'unavailable')

  const slot = await cluster.slotOf(inflightKey)
  const promoted = await cluster.waitForMaster(slot, (port) => port !== master.port)
  t.not(promoted.port, master.port, 'the replica took over')
  // The store finds the new master through its slot map refresh (every second) or the next MOVED.
  const start = Date.now()
  let result
  for (;;) {
    try {
      result = await store.admit({ record: record(), idempotencyTtlSecs: TTL })
      break
    } catch (err) {
      t.type(err, StoreUnavailableError, 'only store-unavailable until then')
      if (Date.now() - start > 10_000) throw err
      await new Promise((resolve) => setTimeout(resolve, 50)) // a client's retry pace; the slot map has no event
    }
  }
  t.same(result, { kind: 'admitted' })
  t.equal(store.health(), 'ready')
  t.match(await store.inflightById('before-crash'), { key: before.key }, 'the replicated record survived')
  await master.restart() // back as a replica of the promoted node, for the tests after this one
})

t.test("after the namespace's master is SIGKILLed and its replica promoted, each store's first command succeeds", async (t) => {
  const namespace = freshNamespace()
  const inflightKey = `${keyPrefix(namespace)}inflight`
  // One connected store per kind of command, so each kind is the first command its store sends after the failover.
  const stores = await Promise.all(FIRST_COMMANDS.map(async () => {
    return await redisStore(t, { ...clusterConfig(namespace), poll_interval_ms: 60_000 })
  }))
  for (const store of stores) await store.getDoc('warm') // each store's connection to the master is made
  const master = await cluster.masterOf(inflightKey)
  await master.kill()
  const slot = await cluster.slotOf(inflightKey)
  const promoted = await cluster.waitForMaster(slot, (port) => port !== master.port)
  t.not(promoted.port, master.port, 'the replica took over')
  for (const [i, [name, first]] of FIRST_COMMANDS.entries()) {
    await t.resolves(first(stores[i] as Store), `${name}, on the promoted master`)
  }
  await master.restart()
})
