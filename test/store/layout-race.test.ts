// Two instances starting at once on an empty namespace: one checks and marks the namespace's key layout while the
// other, already on it, admits. The check writes nothing but the mark (it never rebuilds under running instances), so
// no admission may lose its index entry or its count (the reconciler pages the index; the drain reads the counters).
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'
import { record } from './conformance.js'
import { checkLayout } from '../../src/store/redis/layout.js'
import { KEY_LAYOUTS } from '../../src/release.js'
import { storeKeys } from '../../src/store/keys.js'

t.test('a layout check beside another instance\'s admissions loses no index entry and no count', async (t) => {
  const redis = await startRedis(t)
  const namespace = freshNamespace()
  const keys = storeKeys(namespace)
  const admitting = await redisStore(t, redisConfig(redis.url, namespace))
  const starting = await redisStore(t, redisConfig(redis.url, namespace))
  let admitted = 0
  // Many rounds: each is one start that finds no layout key, racing a run of admissions; the check's window is a few
  // round trips (and grows with the records already there), so a run per round lands inside it.
  for (let round = 0; round < 40; round++) {
    await redis.cli('DEL', keys.layout)
    // One after another, each awaited: the admissions spread over the check's round trips.
    const burst = async (): Promise<void> => {
      for (let i = 0; i < 25; i++) {
        const result = await admitting.admit({ record: record({ key: `o:cosmos1owner:n:${round}-${i}` }), idempotencyTtlSecs: 3600 })
        if (result.kind === 'admitted') admitted++
      }
    }
    await Promise.all([checkLayout(starting.redis, keys, KEY_LAYOUTS), burst()])
  }
  const records = Number(await redis.cli('HLEN', keys.inflight))
  const indexed = Number(await redis.cli('ZCARD', keys.inflightSince))
  const counted = Number(await redis.cli('HGET', keys.inflightCount, 'blue'))
  t.equal(records, admitted, 'every admission is a record')
  t.equal(indexed, records, 'every record has its admission-time index entry')
  t.equal(counted, records, 'every record is counted for its owner')
  t.equal(await admitting.inflightCount(), admitted)
  t.equal(await redis.cli('GET', keys.layout), String(KEY_LAYOUTS.writes), 'the namespace is on the layout this release writes')
})
