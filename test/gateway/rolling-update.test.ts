// A rolling update as Kubernetes runs one (maxSurge 1, maxUnavailable 0): three gateway instances on one Redis
// namespace under signed traffic from clients that route like a Service (only to instances whose /readyz said
// ready at their last poll), each instance replaced in turn: a new one started and ready, then the old one
// terminated as the kubelet does it (its preStop `instance leave --wait`, then SIGTERM), with a blue-green swap
// in the middle. Every intent is accepted exactly once, no answer is anything but 2xx or 503/409 with
// Retry-After, only the leaving instance ever refuses, and the namespace's count is exact at every pause.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, runCli, startGateway, startService, TEST_TOKEN, waitFor, type GatewayProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const WORKERS = 6
/** How often the clients' router polls /readyz (a Service's endpoints follow the readiness probe). */
const POLL_MS = 200

interface Instance { name: string, gw: GatewayProcess, ready: boolean, leaving: boolean, refusals: number, gone: boolean }

t.test('a rolling update of three instances under traffic, a swap in the middle', async (t) => {
  // Six gateway processes started and stopped one after another: minutes on a loaded 2-core machine.
  t.setTimeout(600_000)
  const t0 = Date.now()
  const at = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`
  const redis = await startRedis(t)
  const [blue, green] = await Promise.all([startService(t, { versions: '1.0', settleMs: 600_000 }), startService(t, { versions: '2.0', settleMs: 600_000 })])
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, green: green.url, reconcileIntervalMs: 600_000, shutdownGraceSecs: 5 })
  // The leave grace covers the router's poll (as the base's covers the readiness probe's period). One test owner
  // sends thousands of orders: the per-owner key cap (a guard against one owner filling the store) is raised.
  const env = { INTENT_GATE_PROXY_LEAVE_GRACE_SECS: '1', INTENT_GATE_PROXY_MAX_KEYS_PER_OWNER: '100000' }
  let started = 0
  const start = async (): Promise<Instance> => {
    const name = `gw${started++}`
    const gw = await startGateway(t, { config, env })
    const instance: Instance = { name, gw, ready: false, leaving: false, refusals: 0, gone: false }
    await waitFor(`${name} ready`, async () => ((await fetch(`${gw.adminUrl}/readyz`)).status === 200 ? true : undefined))
    return instance
  }
  const fleet: Instance[] = await Promise.all([start(), start(), start()])

  // The router: polls every live instance's /readyz; clients pick among those it last saw ready.
  const routing = { running: true }
  const router = (async () => {
    while (routing.running) {
      await Promise.all(fleet.filter((i) => !i.gone).map(async (i) => {
        i.ready = await fetch(`${i.gw.adminUrl}/readyz`).then((r) => r.status === 200, () => false)
      }))
      await sleep(POLL_MS)
    }
  })()
  for (const i of fleet) i.ready = true

  const signer = makeSigner()
  const sent = new Map<string, string>() // idempotency key -> intent id once accepted
  const orderOf = new Map<string, string>() // idempotency key -> owner:nonce, how the services count an order
  const bad: string[] = []
  let connectionErrors = 0
  let nextKey = 0
  const clients = { running: true, paused: false, busy: 0 }
  const worker = async (): Promise<void> => {
    while (clients.running) {
      if (clients.paused) { await sleep(20); continue }
      clients.busy++
      const key = `roll-${nextKey++}`
      const body = signIntentV1(signer)
      sent.set(key, '')
      orderOf.set(key, `${body.user}:${String(body.nonce)}`)
      // One intent, retried with its key and bytes until accepted, as the client library does.
      for (;;) {
        const ready = fleet.filter((i) => i.ready && !i.gone)
        const target = ready[Math.floor(Math.random() * ready.length)]
        if (target === undefined) { await sleep(20); continue }
        let answer
        try {
          answer = await request(`${target.gw.proxyUrl}/intents`, { body, headers: { 'idempotency-key': key } })
        } catch {
          connectionErrors++
          await sleep(20)
          continue
        }
        if (answer.status >= 200 && answer.status < 300) {
          sent.set(key, String(answer.body.id))
          break
        }
        const retryAfter = answer.headers.get('retry-after')
        if ((answer.status !== 503 && answer.status !== 409) || retryAfter === null || !/^[1-9][0-9]*$/.test(retryAfter)) {
          bad.push(`${target.name}: ${answer.status} ${JSON.stringify(answer.body)} retry-after ${String(retryAfter)}`)
          // Not an answer to retry soon: this order stays unaccepted (the counts below say so), the client goes on.
          if (answer.status !== 503 && answer.status !== 409) break
        }
        if (answer.status === 503 || answer.status === 409) target.refusals++
        // Retry-After says at least a second; the router already steers elsewhere, so try again soon.
        await sleep(50)
      }
      clients.busy--
    }
  }
  const workers = Array.from({ length: WORKERS }, worker)

  /** Pauses the clients, waits for their open requests, and compares the namespace's count with the services'. */
  const counts: string[] = []
  const checkCount = async (when: string): Promise<void> => {
    clients.paused = true
    await waitFor('clients idle', async () => (clients.busy === 0 ? true : undefined))
    const live = fleet.find((i) => i.ready && !i.gone) as Instance
    const inflight = (await live.gw.admin<{ inflight_settlements: number | null }>('GET', '/admin/drain/status')).body.inflight_settlements
    const held = (await blue.stats()).accepted + (await green.stats()).accepted
    const accepted = [...sent.values()].filter((id) => id !== '').length
    counts.push(`${when}: count ${String(inflight)}, services ${held}, clients ${accepted}`)
    t.equal(inflight, held, `${when}: the namespace counts exactly what the services hold`)
    t.equal(held, accepted, `${when}: the services hold exactly what clients were told was accepted`)
    clients.paused = false
  }

  await sleep(1500)
  await checkCount('before')
  for (let step = 0; step < 3; step++) {
    const old = fleet[step] as Instance
    fleet.push(await start()) // maxSurge 1: the new pod is ready first
    await sleep(500)
    // The kubelet: the pod is terminating (its preStop runs; readiness turns 503 by the leave itself), then SIGTERM.
    old.leaving = true
    const hook = await runCli(['instance', 'leave', '--wait', '--admin', old.gw.adminUrl], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
    t.equal(hook.code, 0, `${old.name}: preStop instance leave --wait exits 0 (${hook.stderr.trim()})`)
    const exit = await old.gw.stop('SIGTERM')
    old.gone = true
    t.equal(exit.code, 0, `${old.name}: SIGTERM, exit 0 (at ${at()})`)
    if (step === 0) {
      const live = fleet.find((i) => i.ready && !i.gone) as Instance
      const swap = await live.gw.admin('POST', '/admin/upstreams/active', { color: 'green' })
      t.equal(swap.status, 200, 'the swap to green, mid-update')
    }
    await sleep(1000)
    await checkCount(`after replacing ${old.name}`)
  }
  clients.running = false
  await Promise.all(workers)
  routing.running = false
  await router

  const blueKeys = Object.keys((await (await fetch(`${blue.url}/sandbox/stats`)).json() as { by_key: Record<string, number> }).by_key)
  const greenKeys = Object.keys((await (await fetch(`${green.url}/sandbox/stats`)).json() as { by_key: Record<string, number> }).by_key)
  const accepted = [...sent.entries()].filter(([, id]) => id !== '').map(([key]) => orderOf.get(key) as string)
  const inBlue = new Set(blueKeys)
  const inGreen = new Set(greenKeys)
  const twice = accepted.filter((k) => inBlue.has(k) && inGreen.has(k)).length
  const lost = accepted.filter((k) => !inBlue.has(k) && !inGreen.has(k)).length
  const once = accepted.length - twice - lost
  const refusals = fleet.map((i) => `${i.name} ${i.refusals}`).join(', ')
  t.comment(`rolling update: sent ${sent.size}, accepted once ${once}, twice ${twice}, lost ${lost}; by blue ${blueKeys.length}, by green ${greenKeys.length}; ` +
    `refusals per instance: ${refusals}; connection errors ${connectionErrors}; counts: ${counts.join('; ')}`)
  t.equal(accepted.length, sent.size, 'every intent sent was accepted in the end')
  t.equal(twice, 0, 'none accepted twice')
  t.equal(lost, 0, 'none lost')
  t.ok(blueKeys.length > 0 && greenKeys.length > 0, 'both colors took intents (the swap happened under traffic)')
  t.same(bad, [], 'no answer but 2xx, or 503/409 with Retry-After')
  t.same(fleet.filter((i) => !i.leaving && i.refusals > 0).map((i) => `${i.name} ${i.refusals}`), [], 'no instance but a leaving one refused anything')
})
