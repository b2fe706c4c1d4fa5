/**
 * The Redis test harness everyone's tests stand on: a real server on a free port, redis-cli against it, crash and
 * restart on the same port, data kept across a crash only when persistence is on.
 */
import t from 'tap'
import { startRedis } from '../helpers/redis.js'

t.test('starts on a free loopback port and answers redis-cli', async (t) => {
  const redis = await startRedis(t)
  t.not(redis.port, 6379)
  t.equal(redis.url, `redis://127.0.0.1:${redis.port}`)
  t.equal(await redis.cli('PING'), 'PONG')
  t.equal(await redis.cli('SET', 'k', 'v'), 'OK')
  t.equal(await redis.cli('GET', 'k'), 'v')
})

t.test('two servers get different ports', async (t) => {
  const [a, b] = await Promise.all([startRedis(t), startRedis(t)])
  t.not(a.port, b.port)
  await a.cli('SET', 'only-a', '1')
  t.equal(await b.cli('EXISTS', 'only-a'), '0')
})

t.test('with persistence, a SIGKILL then restart keeps acknowledged writes on the same port', async (t) => {
  const redis = await startRedis(t, { persistence: true })
  await redis.cli('SET', 'survives', 'yes')
  const pid = redis.pid()
  await redis.kill()
  t.equal(redis.pid(), null)
  await t.rejects(redis.cli('PING'))
  await redis.restart()
  t.not(redis.pid(), pid)
  t.equal(await redis.cli('GET', 'survives'), 'yes')
})

t.test('without persistence, a restart starts empty', async (t) => {
  const redis = await startRedis(t)
  await redis.cli('SET', 'gone', 'yes')
  await redis.restart()
  t.equal(await redis.cli('EXISTS', 'gone'), '0')
})
