// After a Redis loss an instance waits for every instance it read in the fleet's registry before the loss
// (src/store/redis/registry.ts). Its own registry refresh runs on a timer, so one can reach the emptied Redis
// before the loss is noticed (queued while Redis was down, or fired between the reconnection and the epoch
// check): that read must not replace the fleet read before the loss, or nobody is awaited and the count of the
// instances that noticed passes for the whole namespace's (ci17 met it in test/gateway/fleet-loss.test.ts).
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { KEY_LAYOUTS, RELEASE_VERSION } from '../../src/release.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import { freshNamespace, nextReady, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)

function serving (id: string): Parameters<RedisStore['refreshInstance']>[0] {
  return { id, version: RELEASE_VERSION, layout: String(KEY_LAYOUTS.writes), state: 'serving', started_at_ms: Date.now() }
}

t.test('a registry refresh between a loss and its notice keeps the fleet read before the loss', async (t) => {
  // No control poll notices the loss on its own: the test decides when A notices (its next connection).
  const config = redisConfig(redis.url, freshNamespace(), { poll_interval_ms: 3_600_000 })
  const a = await redisStore(t, config, { instanceId: 'a' })
  const b = await redisStore(t, config, { instanceId: 'b' })
  await b.refreshInstance(serving('b'))
  t.same((await a.refreshInstance(serving('a'))).map((r) => r.id).sort(), ['a', 'b'], 'A read B in the registry')
  // B is away (paused, partitioned) and will not register again on its own.
  await b.close()

  await redis.cli('FLUSHALL')
  t.same((await a.refreshInstance(serving('a'))).map((r) => r.id), ['a'], 'A\'s refresh read the emptied registry before A noticed the loss')

  const reconnected = nextReady(a)
  a.redis.disconnect(true)
  await reconnected
  // The loss is handled after the reconnection's epoch check: B is awaited as A last saw it before the loss.
  const until = Date.now() + 20_000
  let listed = await a.instances()
  while (!listed.some((r) => r.id === 'b') && Date.now() < until) {
    // Polled: the check runs on the reconnection, a few round trips after `ready` (20 s for a busy machine).
    await new Promise((resolve) => setTimeout(resolve, 50))
    listed = await a.instances()
  }
  t.match(listed.find((r) => r.id === 'b'), { id: 'b', version: RELEASE_VERSION }, 'B is listed as awaited, as A last read it')
  t.equal(await a.recovering(), true, 'and the namespace is recovering until B is back or forgotten')
  t.match(await a.forgetInstance('b'), { kind: 'forgotten' }, 'an operator can forget it')
})

t.test('a second loss while an instance awaited after the first is still away awaits it again', async (t) => {
  const config = redisConfig(redis.url, freshNamespace(), { poll_interval_ms: 3_600_000 })
  const a = await redisStore(t, config, { instanceId: 'a' })
  const b = await redisStore(t, config, { instanceId: 'b' })
  await b.refreshInstance(serving('b'))
  await a.refreshInstance(serving('a'))
  await b.close() // away: it registers again only when it is back

  const loseAndNotice = async (what: string): Promise<void> => {
    await redis.cli('FLUSHALL')
    const reconnected = nextReady(a)
    a.redis.disconnect(true)
    await reconnected
    const until = Date.now() + 20_000 // the check runs a few round trips after `ready`; a busy machine is slow
    while (!(await a.instances()).some((r) => r.id === 'b')) {
      if (Date.now() > until) throw new Error(`B was not awaited within 20 s after the ${what} loss`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  await loseAndNotice('first')
  // A's refresh after the first loss reads a registry without B (B has not registered again).
  t.same((await a.refreshInstance(serving('a'))).map((r) => r.id), ['a'], 'the registry after the first loss holds A alone')
  await loseAndNotice('second')
  t.match((await a.instances()).find((r) => r.id === 'b'), { id: 'b', version: RELEASE_VERSION }, 'B is awaited after the second loss too')
  t.equal(await a.recovering(), true, 'so the namespace is recovering until B is back or forgotten')
  t.match(await a.forgetInstance('b'), { kind: 'forgotten' })
  t.notOk((await a.instances()).some((r) => r.id === 'b'), 'forgotten: no longer awaited')
})
