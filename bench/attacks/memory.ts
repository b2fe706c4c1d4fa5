/**
 * What two cheap attacks cost in memory, on the bounds the gateway ships with (docs/benchmarks.md, "Cheap attacks"):
 *
 * - keys: one signed intent sent again and again under a new `Idempotency-Key` each time, until the owner's
 *   `proxy.max_keys_per_owner` refuses; the gateway's heap and RSS, and Redis's used memory, before and after;
 * - hold: a coordinated upgrade is draining, and signed submissions are held until the hold is full
 *   (`[upgrade] hold_max_intents`, with the connection cap raised above it); the gateway's RSS while it holds them.
 *
 *   npm run build && npx tsx bench/attacks/memory.ts [--keys N] [--held N] [--store redis|embedded]
 *
 * Real processes: the gateway (`serve`), the sandbox's sample service, and a redis-server of its own.
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { info, startRedis } from '../lib/redis.js'
import { Resources, urlLine } from '../lib/resources.js'
import { metric, rssMb, SANDBOX_MAIN, startGateway, type Gateway } from './gateway.js'
import { makeBenchSigner, signedIntentV1 } from '../lib/signed.js'

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    held: { type: 'string', default: '10000' },
    store: { type: 'string', default: 'redis' }
  }
})
const KEYS = Number(values.keys)
const HELD = Number(values.held)
const STORE = values.store === 'embedded' ? 'embedded' : 'redis'
const MB = 1024 * 1024

async function heapMb (gw: Gateway): Promise<number> {
  return (await metric(gw, 'nodejs_heap_size_used_bytes')) / MB
}

async function redisMb (url: string | undefined): Promise<number> {
  if (url === undefined) return NaN
  const port = Number(new URL(url).port)
  return Number((await info({ url, port, version: '' }, 'memory')).get('used_memory')) / MB
}

/** `POST /intents` with `body` and `key`; resolves with the status once the answer has been read. */
async function submit (agent: http.Agent, gw: Gateway, body: string, key: string): Promise<number> {
  const target = new URL('/intents', gw.url)
  return await new Promise((resolve, reject) => {
    const req = http.request(target, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'idempotency-key': key }
    }, (res) => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function gc (gw: Gateway): Promise<void> {
  // Two seconds for V8 to collect what the load left behind before the heap is read (no --expose-gc in serve).
  await new Promise((resolve) => setTimeout(resolve, 2000))
  await metric(gw, 'process_resident_memory_bytes')
}

async function keysCase (resources: Resources, service: string): Promise<void> {
  const redis = STORE === 'redis' ? await startRedis(resources) : undefined
  const gw = await startGateway(resources, { redisUrl: redis?.url, service, verifySignatures: true, maxKeysPerOwner: KEYS })
  const signer = await makeBenchSigner()
  const body = signedIntentV1(signer, 1, Math.floor(Date.now() / 1000) + 3600)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  await submit(agent, gw, body, 'warm-up')
  await gc(gw)
  const before = { rss: await rssMb(gw.child), heap: await heapMb(gw), redis: await redisMb(redis?.url) }
  const byStatus = new Map<number, number>()
  const started = performance.now()
  let next = 0
  // Thirty-two clients in turn, each sending the one signed intent under a key of its own.
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < KEYS + 10) {
      const status = await submit(agent, gw, body, `attack-${++next}`)
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await gc(gw)
  const after = { rss: await rssMb(gw.child), heap: await heapMb(gw), redis: await redisMb(redis?.url) }
  agent.destroy()
  const kb = (mb: number): string => (mb * 1024).toFixed(2)
  console.log(JSON.stringify({
    case: 'keys from one intent',
    store: STORE,
    requests: next,
    seconds: Number(seconds.toFixed(1)),
    answers: Object.fromEntries(byStatus),
    before,
    after,
    per_key_kb: {
      rss: kb((after.rss - before.rss) / KEYS),
      heap: kb((after.heap - before.heap) / KEYS),
      redis: kb((after.redis - before.redis) / KEYS)
    }
  }))
}

async function holdCase (resources: Resources, service: string): Promise<void> {
  const redis = await startRedis(resources)
  const gw = await startGateway(resources, {
    redisUrl: redis.url,
    service,
    verifySignatures: true,
    proxy: `max_connections = ${HELD + 1000}\n[upgrade]\nhold_new_intents_secs = 600\nhold_max_intents = ${HELD}\n`
  })
  const signer = await makeBenchSigner()
  const deadline = Math.floor(Date.now() / 1000) + 3600
  const bodies = Array.from({ length: HELD + 1 }, (_, i) => signedIntentV1(signer, i + 1, deadline))
  await gc(gw)
  const before = { rss: await rssMb(gw.child), heap: await heapMb(gw) }
  const upgradeKey = 'intent-gate:{attack}:upgrade'
  const client = new Redis(redis.url)
  await client.set(upgradeKey, JSON.stringify({ id: 'upg-bench', phase: 'draining' }))
  for (let i = 0; ; i++) {
    const mode = await fetch(`${gw.url}/.well-known/intent-gate/status`).then(async (r) => ((await r.json()) as { mode: string }).mode)
    if (mode === 'holding') break
    if (i > 600) throw new Error('the gateway never began to hold')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  // Each held submission keeps its own connection open, as a waiting client does.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
  // Opened in batches, each once the last is held: thousands of connects at once overflow the listen backlog.
  const held: Array<Promise<number | string>> = []
  for (let sent = 0; sent < HELD;) {
    const batch = Math.min(250, HELD - sent)
    for (let i = sent; i < sent + batch; i++) {
      held.push(submit(agent, gw, bodies[i] ?? '', `held-${i}`).catch((err: Error) => (err as NodeJS.ErrnoException).code ?? err.message))
    }
    sent += batch
    for (let i = 0; ; i++) {
      const n = await metric(gw, 'intent_gate_held_submissions')
      if (n >= sent) break
      if (i > 2400) throw new Error(`only ${n} of ${sent} held after 120 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const beyond = await submit(agent, gw, bodies[HELD] ?? '', 'beyond')
  await gc(gw)
  const full = { rss: await rssMb(gw.child), heap: await heapMb(gw), held_bytes: await metric(gw, 'intent_gate_held_bytes') }
  await client.del(upgradeKey)
  const answers = await Promise.all(held)
  client.disconnect()
  agent.destroy()
  const accepted = answers.filter((s) => s === 202).length
  const other = answers.filter((s) => s !== 202)
  console.log(JSON.stringify({
    case: 'hold full',
    held: HELD,
    beyond_the_hold: beyond,
    before,
    full,
    per_held_kb: { rss: ((full.rss - before.rss) * 1024 / HELD).toFixed(1), heap: ((full.heap - before.heap) * 1024 / HELD).toFixed(1) },
    released_accepted: accepted,
    released_other: other.slice(0, 10)
  }))
}

const resources = new Resources()
try {
  const { ready } = await resources.start('sample service', process.execPath, [SANDBOX_MAIN, 'service', '--listen', '127.0.0.1:0', '--versions', '1.0', '--settle-ms', '600000', '--no-verify'], { ready: urlLine })
  if (ready === undefined) throw new Error('the sample service printed no URL')
  if (KEYS > 0) await keysCase(resources.scope(), ready)
  if (HELD > 0) await holdCase(resources.scope(), ready)
} finally {
  await resources.close()
}
