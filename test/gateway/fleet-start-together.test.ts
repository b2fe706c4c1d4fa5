// Two gateway processes starting at once on an empty namespace, each admitting the moment it listens, while the
// other may still be checking and marking the namespace's key layout: no admission may lose its record, its
// admission-time index entry (the reconciler pages it) or its count (the drain reads it). Two rounds, each on
// a namespace of its own. The store-level race, run 40 times a round, is test/store/layout-race.test.ts.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor, type GatewayProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { storeKeys } from '../../src/store/keys.js'
import { KEY_LAYOUTS } from '../../src/release.js'

const ROUNDS = 2
const PER_GATEWAY = 30

interface Fleet { instances: Array<{ id: string, state: string }> }

t.test('two instances starting at once on an empty namespace lose no index entry and no count', async (t) => {
  // About a minute a round on a loaded 2-core machine (two gateways started and fed each round).
  t.setTimeout(600_000)
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 })
  for (let round = 0; round < ROUNDS; round++) {
    const namespace = `together-${round}`
    const keys = storeKeys(namespace)
    t.equal(await redis.cli('EXISTS', keys.layout), '0', `round ${round}: the namespace is empty`)
    const signer = makeSigner()
    // Each gateway is fed as soon as it listens, whatever the other is doing.
    const feed = async (gw: GatewayProcess): Promise<number> => {
      let accepted = 0
      for (let i = 0; i < PER_GATEWAY; i++) {
        const answer = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
        if (answer.status === 202) accepted++
        else if (answer.status !== 503) t.fail(`round ${round}: ${answer.status} ${JSON.stringify(answer.body)}`)
      }
      return accepted
    }
    const env = { INTENT_GATE_REDIS_NAMESPACE: namespace }
    const started = await Promise.all([0, 1].map(async () => {
      const gw = await startGateway(t, { config, env })
      return { gw, accepted: await feed(gw) }
    }))
    const accepted = started.reduce((n, s) => n + s.accepted, 0)
    t.ok(accepted > 0, `round ${round}: ${accepted} admitted`)
    const records = Number(await redis.cli('HLEN', keys.inflight))
    t.equal(records, accepted, `round ${round}: every admission is a record`)
    t.equal(Number(await redis.cli('ZCARD', keys.inflightSince)), records, `round ${round}: every record has its index entry`)
    t.equal(Number(await redis.cli('HGET', keys.inflightCount, 'blue')), records, `round ${round}: every record is counted`)
    t.equal(await redis.cli('GET', keys.layout), String(KEY_LAYOUTS.writes), `round ${round}: the namespace is marked once, with this release's layout`)
    const [a, b] = started.map((s) => s.gw) as [GatewayProcess, GatewayProcess]
    await waitFor(`round ${round}: both registered`, async () => ((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.filter((i) => i.state === 'serving').length === 2 ? true : undefined))
    t.equal((await a.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, accepted, `round ${round}: the count is exact`)
    a.child.kill('SIGKILL')
    b.child.kill('SIGKILL')
    await Promise.all([a.exited, b.exited])
  }
})
