// Two gateway processes on a real Redis Cluster (six cluster-enabled redis-servers, issue 12): exact inflight
// counts across both, the drain switch set with `redis-cli -c`, and the namespace's master SIGKILLed under load
// with wait_replicas = 1: clients see only 2xx, 503 and 409, are served again once the replica is promoted, and
// every intent a client saw admitted is still counted (none lost, none forwarded twice).
import t from 'tap'
import { startCluster } from '../helpers/cluster.js'
import { gatewayToml, request, startGateway, startService, type GatewayProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const NS = 'cluster-gw'
const key = (name: string): string => `intent-gate:{${NS}}:${name}`
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

t.test('two gateways on a Redis Cluster: counts, redis-cli -c drain, and the master SIGKILLed under load', async (t) => {
  const cluster = await startCluster(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ blue: blue.url, reconcileIntervalMs: 600_000 }).replace('[redis]\n',
    `[redis]\nnamespace = "${NS}"\ncluster_nodes = ${JSON.stringify(cluster.nodes)}\nwait_replicas = 1\nwait_timeout_ms = 300\ncommand_timeout_ms = 800\n`)
  const gateways: GatewayProcess[] = await Promise.all([0, 1].map(async () => await startGateway(t, { config })))
  const signer = makeSigner()

  // Exact counts across both instances.
  const first = await Promise.all(Array.from({ length: 100 }, async (_, i) =>
    await request(`${(gateways[i % 2] as GatewayProcess).proxyUrl}/intents`, { body: signIntentV1(signer) })))
  t.same([...new Set(first.map((a) => a.status))], [202], 'all admitted')
  for (const gw of gateways) {
    t.equal((await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 100, 'exact on each instance')
  }
  t.equal(await cluster.cli('HLEN', key('inflight')), '100', 'what redis-cli -c counts')

  // The drain switch through redis-cli -c: both instances refuse at once, and admit again after DEL.
  t.equal(await cluster.cli('SET', key('drain'), '1'), 'OK')
  for (const gw of gateways) {
    const refused = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
    t.equal(refused.status, 503, 'refused while drained')
    t.match(String(refused.body?.type), /draining/)
  }
  await cluster.cli('DEL', key('drain'))
  t.equal((await request(`${(gateways[0] as GatewayProcess).proxyUrl}/intents`, { body: signIntentV1(signer) })).status, 202, 'admitted again')

  // The namespace's master SIGKILLed under load.
  const statuses = new Map<number, number>()
  const accepted = new Set<string>()
  let servedAfterPromotion = 0
  let promotedAt = Infinity
  const state = { running: true }
  const client = async (worker: number): Promise<void> => {
    for (let n = 0; state.running; n++) {
      const intent = signIntentV1(signer)
      const idem = `w${worker}-${n}`
      for (let attempt = 0; ; attempt++) {
        const gw = gateways[(worker + attempt) % 2] as GatewayProcess
        const answer = await request(`${gw.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': idem } })
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        if (answer.status === 202) {
          accepted.add(`${intent.user}:${intent.nonce}`)
          if (performance.now() > promotedAt) servedAfterPromotion++
          break
        }
        if (answer.status !== 503 && answer.status !== 409) break
        await sleep(50) // a client's retry pace (capped Retry-After)
      }
    }
  }
  const workers = Array.from({ length: 8 }, async (_, w) => await client(w))
  await sleep(1000) // load before the crash
  const master = await cluster.masterOf(key('inflight'))
  const slot = await cluster.slotOf(key('inflight'))
  await master.kill()
  const promoted = await cluster.waitForMaster(slot, (port) => port !== master.port)
  promotedAt = performance.now()
  t.not(promoted.port, master.port, 'the replica was promoted')
  // Back as a replica of the promoted node, so wait_replicas = 1 can be met again.
  await master.restart()
  const served = { after: (): number => servedAfterPromotion }
  for (let waited = 0; served.after() < 20 && waited < 30_000; waited += 100) await sleep(100)
  state.running = false
  await Promise.all(workers)

  const seen = Object.fromEntries(statuses)
  t.comment(`answers by status: ${JSON.stringify(seen)}; ${accepted.size} accepted under load, ${servedAfterPromotion} after the promotion`)
  t.same(Object.keys(seen).filter((s) => !['202', '503', '409'].includes(s)), [], 'only 202, 503 and 409')
  t.ok(servedAfterPromotion >= 20, 'served again after the promotion')
  const stats = await blue.stats() as { accepted: number, duplicates: number, by_key: Record<string, number> }
  t.same([...accepted].filter((k) => stats.by_key[k] === undefined), [], 'every accepted intent reached the service')
  t.same(Object.entries(stats.by_key).filter(([, n]) => n > 1), [], 'none forwarded twice')
  t.equal(await promoted.cli('HLEN', key('inflight')), String(101 + accepted.size), 'no admitted intent lost from the inflight count')
  for (const gw of gateways) {
    t.equal((await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 101 + accepted.size)
  }
})
