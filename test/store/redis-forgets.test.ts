/**
 * A Redis that forgets (docs/specification.md section 4): restarted without persistence, or a namespace flushed, under
 * inflight intents. The instances notice (the namespace epoch is gone), report it, and register what they
 * admitted again; until every instance is done the store says `recovering` (so the drain status is `unknown`
 * and upgrades are refused); afterwards the counts are exact again and the intents end as usual.
 */
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { record } from './conformance.js'
import { storeKeys } from '../../src/store/keys.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const TTL = 3600

/** Polls an async condition; 20 s because a busy machine may take seconds to reconnect and re-register. */
async function waitFor (condition: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 20_000
  while (!await condition()) {
    if (Date.now() > until) throw new Error(`not within 20 s: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
const accepted = (id: string): { status: number, headers: Record<string, string>, body: string } =>
  ({ status: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ intent_id: id }) })

for (const instances of [1, 2]) {
  t.test(`Redis restarted empty under inflight intents, ${instances} instance(s): every record registered again`, async (t) => {
    const redis = await startRedis(t)
    const config = redisConfig(redis.url, freshNamespace())
    const stores = await Promise.all(Array.from({ length: instances }, async () => await redisStore(t, config)))
    const records = Array.from({ length: 20 }, (_, i) => ({ rec: record({ upstream: i % 3 === 0 ? 'green' : 'blue' }), by: stores[i % instances]! }))
    for (const { rec, by } of records) t.equal((await by.admit({ record: rec, idempotencyTtlSecs: TTL })).kind, 'admitted')
    // Half bound (the service accepted them), half still being submitted.
    for (const [i, { rec, by }] of records.entries()) if (i % 2 === 0) await by.bind(rec.key, `id-${i}`, accepted(`id-${i}`), TTL)
    t.equal(await stores[0]!.inflightCount(), 20)

    const epochKey = storeKeys(config.namespace).epoch
    const epochBefore = await redis.cli('GET', epochKey)
    await redis.restart()
    // Not DBSIZE 0: on a busy machine a store reconnects and writes a new epoch before redis-cli can look.
    t.not(await redis.cli('GET', epochKey), epochBefore, 'Redis came back empty: the namespace\'s epoch is gone or new')
    // Each instance notices on its next connection (or poll), and registers its own records again.
    await waitFor(async () => await stores[0]!.inflightCount().catch(() => -1) === 20, 'all 20 registered again')
    await waitFor(async () => !await stores[0]!.recovering(), 'every instance done')
    for (const store of stores) t.equal(await store.inflightCount(), 20, 'the count is exact again')
    const counts = await stores[0]!.inflightByUpstream()
    t.same(counts, { blue: 13, green: 7 }, 'per owner too')
    t.equal(await stores[0]!.oldestInflightMs(), Math.min(...records.map((r) => r.rec.created_at_ms)))
    // A bound intent keeps its id and its answer for replays; an unbound one is still in progress.
    t.match(await stores[0]!.inflightById('id-0'), { key: records[0]!.rec.key, id: 'id-0', upstream: 'green' })
    t.same(await stores[instances - 1]!.admit({ record: records[0]!.rec, idempotencyTtlSecs: TTL }), { kind: 'replay', response: accepted('id-0') })
    t.same(await stores[0]!.admit({ record: records[1]!.rec, idempotencyTtlSecs: TTL }), { kind: 'in_progress' })
    // And they end as usual.
    t.equal(await stores[0]!.complete('id-0', 'settled', 'reconciler'), true)
    t.equal(await stores[0]!.inflightCount(), 19)
  })
}

t.test('a flushed namespace is noticed without a reconnection, and recovering() holds until the records are back', async (t) => {
  const redis = await startRedis(t)
  const config = redisConfig(redis.url, freshNamespace())
  const store = await redisStore(t, config)
  // A gateway always watches the control keys (its ControlView); that poll is what notices the flush.
  t.teardown(store.watchControl(() => {}))
  for (let i = 0; i < 5; i++) await store.admit({ record: record(), idempotencyTtlSecs: TTL })
  t.equal(await store.recovering(), false)
  await redis.cli('FLUSHALL')
  t.equal(await store.inflightCount(), 0, 'the data is gone')
  await waitFor(async () => await store.inflightCount() === 5, 'noticed by the control poll and registered again')
  await waitFor(async () => !await store.recovering(), 'done')
  t.equal(await store.inflightCount(), 5)
})

t.test('the active color holds through a Redis loss: its missing key is the loss, not proxy.initial_active', async (t) => {
  const redis = await startRedis(t)
  const config = redisConfig(redis.url, freshNamespace())
  const store = await redisStore(t, config)
  await store.setActive('green')
  // Every state the gateway's ControlView would hear; a null active there means proxy.initial_active (blue).
  const heard: Array<string | null> = []
  t.teardown(store.watchControl((s) => { heard.push(s.active) }))
  await waitFor(async () => heard.length > 0, 'the first state')
  for (let i = 0; i < 5; i++) await store.admit({ record: record(), idempotencyTtlSecs: TTL })
  await redis.cli('FLUSHALL')
  await waitFor(async () => await redis.cli('GET', `intent-gate:{${config.namespace}}:active`) === 'green', 'the recovery set the last good color again')
  await waitFor(async () => !await store.recovering(), 'done')
  t.same([...new Set(heard)], ['green'], 'never unset, so never initial_active, while the key was missing')
  t.equal((await store.control()).active, 'green')
})
