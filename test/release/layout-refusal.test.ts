// An instance that meets a key layout it cannot share refuses to start (exit 2, naming the namespace's layout and
// its own) and writes nothing to the namespace: every key, value and expiry byte-equal before and after. One it
// shares starts, and marks a new namespace with the layout it writes.
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { gatewayToml, runCli, spawnServe, startGateway, startService } from '../helpers/gateway.js'

const NS = 'intent-gate:{default}:'

// Five gateway starts: a few seconds each on a quiet machine, but 50-90 s each were measured at load average 25
// (2 cores), which the default 180 s of the whole file does not cover.
t.setTimeout(10 * 60_000)

/** Every key of the server with its DUMP and remaining time to live: equal means nothing was written. */
async function snapshot (redis: RedisServer): Promise<Map<string, string>> {
  const client = new Redis(redis.url)
  try {
    const keys = (await client.keys('*')).sort()
    const out = new Map<string, string>()
    for (const key of keys) {
      const dump = await client.dumpBuffer(key)
      const ttl = await client.pttl(key)
      // An expiry is compared by whether there is one: its remaining milliseconds move while the test runs.
      out.set(key, `${dump?.toString('base64') ?? 'null'} ${ttl >= 0 ? 'expires' : String(ttl)}`)
    }
    return out
  } finally {
    client.disconnect()
  }
}

/** What a namespace of an instance in use holds: a record, its idempotency answer, counters, an epoch. */
async function fixture (redis: RedisServer, layout: string | null, field = 'o:cosmos1owner:k:key-1'): Promise<void> {
  if (layout !== null) await redis.cli('SET', `${NS}layout`, layout)
  await redis.cli('SET', `${NS}epoch`, 'fixture-epoch')
  await redis.cli('HSET', `${NS}inflight`, field, '{"key":"k","upstream":"blue","version":"1.0","upstream_version":"1.0","created_at_ms":1,"deadline":2}\n{}')
  await redis.cli('HSET', `${NS}inflight:owner`, field, 'blue')
  await redis.cli('HSET', `${NS}inflight:count`, 'blue', '1')
  await redis.cli('SET', `${NS}i:fixture`, 'p' + '-'.repeat(32) + 'marker', 'EX', '3600')
}

async function refused (t: Test, layout: string | null, field: string | undefined, expect: RegExp): Promise<void> {
  const redis = await startRedis(t)
  await fixture(redis, layout, field)
  const before = await snapshot(redis)
  const blue = await startService(t)
  const gw = await spawnServe(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url }) })
  const exit = await gw.exited
  t.equal(exit.code, 2, 'exit status 2')
  t.match(gw.stderr(), expect, 'the message names both layouts')
  t.equal(gw.stdout(), '', 'it never said it listens')
  t.same(await snapshot(redis), before, 'the namespace is byte-equal to before')
}

t.test('a namespace marked with a layout this release does not read: refused, untouched', async (t) => {
  const { stdout } = await runCli(['--version', '--json'])
  const { layout } = JSON.parse(stdout) as { layout: { writes: number, reads: number[] } }
  const foreign = String(Math.max(...layout.reads) + 1)
  await refused(t, foreign, undefined,
    new RegExp(`namespace is on key layout ${foreign} .*this release writes layout ${layout.writes} and reads ${layout.reads.join(', ')}`))
})

t.test('a namespace with a layout mark that is no layout: refused, untouched', async (t) => {
  await refused(t, 'purple', undefined, /namespace is on key layout purple \(the key intent-gate:\{default\}:layout\)/)
})

t.test('records of the first layout (bare keys, no mark): refused, untouched', async (t) => {
  await refused(t, null, 'cosmos1owner:7', /namespace is on key layout 1 .*bare keys, e\.g\. "cosmos1owner:7"/)
})

t.test('a new namespace is marked with the layout this release writes; a marked one it reads is left as is', async (t) => {
  const { stdout } = await runCli(['--version', '--json'])
  const { layout } = JSON.parse(stdout) as { layout: { writes: number, reads: number[] } }
  const redis = await startRedis(t)
  const blue = await startService(t)
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url })
  const first = await startGateway(t, { config })
  t.equal(await redis.cli('GET', `${NS}layout`), String(layout.writes))
  t.equal((await first.stop()).code, 0)

  await redis.cli('FLUSHALL')
  await fixture(redis, String(layout.writes))
  const before = await snapshot(redis)
  const second = await startGateway(t, { config })
  t.equal((await second.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 1, 'it reads the record')
  t.equal(await redis.cli('GET', `${NS}layout`), String(layout.writes))
  t.equal(await redis.cli('GET', `${NS}epoch`), 'fixture-epoch')
  t.same((await snapshot(redis)).get(`${NS}inflight`), before.get(`${NS}inflight`), 'the record is as it was')
  t.equal((await second.stop()).code, 0)
})
