/**
 * Redis Sentinel: the store finds the primary through the sentinels, keeps admitting after the primary is
 * killed and failed over (no restart, no new store object), and fails closed while no primary can be reached.
 */
import t from 'tap'
import { StoreUnavailableError } from '../../src/errors.js'
import { startSentinelGroup } from '../helpers/sentinel.js'
import { record } from './conformance.js'
import { freshNamespace, nextReady, redisStore } from './redis-fixture.js'

const TTL = 3600

t.test('the primary is killed: fail closed, then keep admitting on the promoted replica', async (t) => {
  const group = await startSentinelGroup(t)
  const store = await redisStore(t, {
    namespace: freshNamespace(),
    sentinels: group.sentinels,
    sentinel_name: group.name,
    poll_interval_ms: 100,
    command_timeout_ms: 500
  })
  const before = record()
  t.same(await store.admit({ record: before, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  await store.bind(before.key, 'before-failover', { status: 202, headers: {}, body: '{}' }, TTL)
  const oldPrimary = group.primary()
  t.equal(await oldPrimary.replicated('sentinel-test:fence', 1, 5000), 1, 'replicated before the crash')

  const switched = group.nextSwitch()
  await oldPrimary.kill()
  await t.rejects(store.admit({ record: record(), idempotencyTtlSecs: TTL }), StoreUnavailableError, 'no primary: fail closed')
  t.equal(store.health(), 'unavailable')

  const reconnected = nextReady(store)
  const { port } = await switched
  t.not(port, oldPrimary.port, 'a replica was promoted')
  await reconnected
  t.equal(store.health(), 'ready')
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  t.equal(await store.inflightCount(), 2, 'the records written before the failover are still there')
  t.match(await store.inflightById('before-failover'), { key: before.key })
})

t.test('a planned SENTINEL FAILOVER is followed without a restart', async (t) => {
  const group = await startSentinelGroup(t)
  const namespace = freshNamespace()
  const store = await redisStore(t, {
    namespace,
    sentinels: group.sentinels,
    sentinel_name: group.name,
    poll_interval_ms: 100,
    command_timeout_ms: 500
  })
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  await group.primary().replicated('sentinel-test:fence', 1, 5000)
  const reconnected = nextReady(store)
  const { port } = await group.failover()
  await reconnected
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  t.equal(group.primary().port, port)
  t.equal(await group.primary().cli('HLEN', `intent-gate:{${namespace}}:inflight`), '2', 'both records are on the new primary')
})
