/**
 * Group commit: the admissions (binds) of one event-loop turn are one script call, and each caller still gets
 * the answer a call of its own would have given. The class on its own, then through the Redis store against a
 * real redis-server, counting the script calls Redis saw.
 */
import t from 'tap'
import { GroupCommit, GroupReplyError } from '../../src/store/redis/group-commit.js'
import { GROUP_MAX_ITEMS } from '../../src/store/redis/submission-scripts.js'
import { startRedis } from '../helpers/redis.js'
import { record } from './conformance.js'
import { freshNamespace, operatorKey, redisConfig, redisStore } from './redis-fixture.js'

const accepted = (id: string): { status: number, headers: Record<string, string>, body: string } =>
  ({ status: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, status: 'pending' }) })

t.test('calls of one turn go out as one group, in order, each answered with its own reply', async (t) => {
  const sent: number[][] = []
  const group = new GroupCommit<number, string>(async (items) => {
    sent.push(items)
    return items.map((n) => `reply ${n}`)
  }, 100)
  const replies = await Promise.all([1, 2, 3].map(async (n) => await group.call(n)))
  t.same(replies, ['reply 1', 'reply 2', 'reply 3'])
  t.same(sent, [[1, 2, 3]], 'one send for the three calls')
  // A call in a later turn is a group of its own.
  t.equal(await group.call(4), 'reply 4')
  t.same(sent, [[1, 2, 3], [4]])
})

t.test('a full group goes out at once; the rest wait for the end of the turn', async (t) => {
  const sent: number[][] = []
  const group = new GroupCommit<number, number>(async (items) => {
    sent.push(items)
    return items
  }, 2)
  const replies = Promise.all([1, 2, 3, 4, 5].map(async (n) => await group.call(n)))
  t.same(sent, [[1, 2], [3, 4]], 'two full groups sent before the turn ended')
  t.same(await replies, [1, 2, 3, 4, 5])
  t.same(sent, [[1, 2], [3, 4], [5]])
})

t.test('a failed send fails every call of its group with the same error, and the next group is unaffected', async (t) => {
  let fail = true
  const group = new GroupCommit<number, number>(async (items) => {
    if (fail) throw new Error('connection lost')
    return items
  }, 10)
  const results = await Promise.allSettled([1, 2].map(async (n) => await group.call(n)))
  t.same(results.map((r) => r.status), ['rejected', 'rejected'])
  const [first, second] = results as PromiseRejectedResult[]
  t.equal((first as PromiseRejectedResult).reason, (second as PromiseRejectedResult).reason, 'the same error for both')
  t.match((first as PromiseRejectedResult).reason, { message: 'connection lost' })
  fail = false
  t.equal(await group.call(3), 3)
})

t.test('a send that throws at once, or answers with the wrong number of replies, fails the group', async (t) => {
  const throwing = new GroupCommit<number, number>((): Promise<number[]> => { throw new Error('bad arguments') }, 10)
  await t.rejects(throwing.call(1), { message: 'bad arguments' })
  const short = new GroupCommit<number, number>(async () => [1], 10)
  const results = await Promise.allSettled([1, 2].map(async (n) => await short.call(n)))
  for (const r of results) t.match(r, { status: 'rejected', reason: { code: 'IG_ERR_GROUP_REPLY', items: 2, replies: 1 } })
  t.ok((results[0] as PromiseRejectedResult).reason instanceof GroupReplyError)
  t.throws(() => new GroupCommit(async () => [], 0), RangeError)
})

const redis = await startRedis(t)

/** How many script calls (EVALSHA and EVAL) Redis ran since the last reset. */
async function scriptCalls (): Promise<number> {
  const stats = await redis.cli('INFO', 'commandstats')
  let calls = 0
  for (const m of stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) calls += Number(m[1])
  return calls
}

t.test('through the Redis store: 40 admissions and their binds in one turn are one script call each', async (t) => {
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  // Scripts loaded and the connection warm: the counted calls are the test's own.
  const warm = record()
  await store.admit({ record: warm, idempotencyTtlSecs: 60 })
  await store.bind(warm.key, 'warm', accepted('warm'), 60)
  await redis.cli('CONFIG', 'RESETSTAT')
  const records = Array.from({ length: 40 }, () => record())
  const admitted = await Promise.all(records.map(async (rec) => await store.admit({ record: rec, idempotencyTtlSecs: 60 })))
  t.same(admitted.map((a) => a.kind), records.map(() => 'admitted'))
  t.equal(await scriptCalls(), 1, 'one script call for the 40 admissions')
  t.equal(await store.inflightCount(), 41)
  await redis.cli('CONFIG', 'RESETSTAT')
  await Promise.all(records.map(async (rec, i) => await store.bind(rec.key, `id-${i}`, accepted(`id-${i}`), 60)))
  t.equal(await scriptCalls(), 1, 'one script call for the 40 binds')
  const ids = await Promise.all(records.map(async (_, i) => (await store.inflightById(`id-${i}`))?.key))
  t.same(ids, records.map((rec) => rec.key), 'each record bound to its own id')
})

t.test('within one group each admission sees the ones before it, as if they were separate calls', async (t) => {
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  const answered = record()
  await store.admit({ record: answered, idempotencyTtlSecs: 60 })
  await store.bind(answered.key, 'answered-id', accepted('answered-id'), 60)
  const fresh = record({ fingerprint: 'b'.repeat(64) })
  const results = await Promise.all([
    store.admit({ record: fresh, idempotencyTtlSecs: 60 }),
    // The same order twice in one turn: the second finds the first in progress.
    store.admit({ record: { ...fresh }, idempotencyTtlSecs: 60 }),
    // Another intent under the first one's key: refused as a mismatch, nothing registered.
    store.admit({ record: { ...fresh, fingerprint: 'a'.repeat(64) }, idempotencyTtlSecs: 60 }),
    store.admit({ record: { ...answered }, idempotencyTtlSecs: 60 })
  ])
  t.same(results.map((r) => r.kind), ['admitted', 'in_progress', 'mismatch', 'replay'])
  t.match(results[3], { kind: 'replay', response: { status: 202, body: JSON.stringify({ id: 'answered-id', status: 'pending' }) } })
  t.equal(await store.inflightCount(), 2, 'the duplicate counted once')
})

t.test('draining: every admission of the group is refused with the drain, and what it already answered is still answered', async (t) => {
  const namespace = freshNamespace()
  const store = await redisStore(t, redisConfig(redis.url, namespace))
  const answered = record()
  await store.admit({ record: answered, idempotencyTtlSecs: 60 })
  await store.bind(answered.key, 'kept', accepted('kept'), 60)
  await redis.cli('SET', operatorKey(namespace, 'drain'), '{"reason":"upgrade to v2"}')
  const fresh = Array.from({ length: 5 }, () => record())
  const results = await Promise.all([...fresh, answered].map(async (rec) => await store.admit({ record: rec, idempotencyTtlSecs: 60 })))
  for (const r of results.slice(0, 5)) t.match(r, { kind: 'refused', reason: 'draining', drain: { reason: 'upgrade to v2' }, upgrade: null })
  t.equal(results[5]?.kind, 'replay', 'a replay is answered while draining')
  t.ok(Number(await redis.cli('GET', `${operatorKey(namespace, 'drain')}:started`)) > 0, 'the drain\'s start recorded by the first refusal')
  t.equal(await store.inflightCount(), 1, 'nothing registered')
})

t.test(`a burst of more than ${GROUP_MAX_ITEMS} admissions goes out in full groups, every one admitted once`, async (t) => {
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  await store.admit({ record: record(), idempotencyTtlSecs: 60 })
  await redis.cli('CONFIG', 'RESETSTAT')
  const records = Array.from({ length: GROUP_MAX_ITEMS * 2 + 1 }, () => record())
  const results = await Promise.all(records.map(async (rec) => await store.admit({ record: rec, idempotencyTtlSecs: 60 })))
  t.equal(results.filter((r) => r.kind === 'admitted').length, records.length)
  t.equal(await scriptCalls(), 3, 'two full groups and the rest')
  t.equal(await store.inflightCount(), records.length + 1)
})

t.test('binds in one group: an id given to two keys is counted once; an id whose key ended is taken over', async (t) => {
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  const [first, second, third] = [record(), record(), record()]
  for (const rec of [first, second, third]) await store.admit({ record: rec, idempotencyTtlSecs: 60 })
  const ended = record()
  await store.admit({ record: ended, idempotencyTtlSecs: 60 })
  await store.bind(ended.key, 'reused', accepted('reused'), 60)
  await store.release(ended.key, null, 60)
  await Promise.all([
    store.bind(first.key, 'shared', accepted('shared'), 60),
    store.bind(second.key, 'shared', accepted('shared'), 60),
    store.bind(third.key, 'reused', accepted('reused'), 60)
  ])
  t.equal(await store.inflightCount(), 2, 'first and third; second was the same intent as first')
  t.equal((await store.inflightById('shared'))?.key, first.key)
  t.equal((await store.inflightById('reused'))?.key, third.key, 'the id now names the key that holds it')
})
