// The admission journal outlives a restart of its instance (it is on local disk, beside the coordinator's
// database): a gateway killed (SIGKILL) while Redis lost its data registers again, once restarted, what it had
// admitted. Until then the count is `unknown`, never short; then it is exact, and a client's retry is answered
// with the intent it was already given (accepted once).
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor, type Answer, type GatewayProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const INTENTS = 10
/** Longer than the namespace-wide hold of a noticed loss (about 2 s): only the journal can make the count exact. */
const AWAY_MS = 5000

interface DrainBody { mode: string, inflight_settlements: number | null }
interface Fleet { instances: Array<{ id: string, state: string, journaled: number }> }

async function view (gw: GatewayProcess): Promise<string> {
  try {
    const res = await gw.admin<DrainBody>('GET', '/admin/drain/status')
    return res.status === 200 ? `${res.body.mode} ${String(res.body.inflight_settlements)}` : `http ${res.status}`
  } catch (err) {
    return `error ${(err as Error).message}`
  }
}

/** A directory of its own for one instance's database, id and journal, kept across its restarts. */
async function instanceDir (t: Test): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-instance-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return { INTENT_GATE_COORDINATOR_DATABASE: path.join(dir, 'coordinator.sqlite') }
}

async function submitAll (gw: GatewayProcess, n: number, tag: string): Promise<Array<{ key: string, body: unknown, answer: Answer }>> {
  const signer = makeSigner()
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const body = signIntentV1(signer)
    const key = `${tag}-${i}`
    return { key, body, answer: await request(`${gw.proxyUrl}/intents`, { body, headers: { 'idempotency-key': key } }) }
  }))
}

t.test('one instance: killed, Redis emptied meanwhile, restarted: unknown until its journal is registered, then exact', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 })
  const env = await instanceDir(t)
  const first = await startGateway(t, { config, env })
  const sent = await submitAll(first, INTENTS, 'alone')
  t.same([...new Set(sent.map((s) => s.answer.status))], [202], `${INTENTS} answered 202`)
  t.equal(await view(first), `active ${INTENTS}`)
  first.child.kill('SIGKILL')
  await first.exited

  await redis.kill()
  await redis.restart()
  t.equal(await redis.cli('DBSIZE'), '0', 'Redis came back empty')

  const again = await startGateway(t, { config, env })
  // Every view the restarted instance gives, until it is exact: never a number short of what it had admitted.
  const seen = new Set<string>()
  await waitFor(`the restarted instance counts all ${INTENTS}`, async () => {
    const v = await view(again)
    seen.add(v)
    return v === `active ${INTENTS}` ? true : undefined
  }, 30_000, 20)
  const wrong = [...seen].filter((v) => v !== `active ${INTENTS}` && v !== 'active null' && v !== 'http 503')
  t.same(wrong, [], `nothing but 503, unknown (null) or the exact count (${[...seen].join(', ')})`)
  t.equal(Number(await redis.cli('HLEN', 'intent-gate:{default}:inflight')), INTENTS, 'every record is back in Redis')

  const retries = await Promise.all(sent.map(async (s) => await request(`${again.proxyUrl}/intents`, { body: s.body, headers: { 'idempotency-key': s.key } })))
  t.same(retries.map((r) => r.body.id), sent.map((s) => s.answer.body.id), 'each retry is answered with the intent first given (a replay)')
  t.equal((await blue.stats()).accepted, INTENTS, 'the service accepted each once')
  t.equal(await view(again), `active ${INTENTS}`, 'still counted once')
})

t.test('two instances: one killed across a Redis loss holds the count unknown until it restarts and registers', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 })
  const bEnv = await instanceDir(t)
  const [a, b] = await Promise.all([startGateway(t, { config }), startGateway(t, { config, env: bEnv })])
  const bId = (await b.admin<{ id: string }>('GET', '/admin/instance')).body.id
  await waitFor('A sees B serving', async () => ((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.some((i) => i.id === bId && i.state === 'serving') ? true : undefined))
  const onA = await submitAll(a, INTENTS, 'a')
  const onB = await submitAll(b, INTENTS, 'b')
  t.same([...new Set([...onA, ...onB].map((s) => s.answer.status))], [202], `${2 * INTENTS} answered 202, half on each`)
  // A waits, after a loss, for the instances its last refresh read: B with its half (one refresh period, 2 s,
  // after B's record says so, and a margin for a loaded machine).
  await waitFor('B\'s record counts its half', async () => ((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.some((i) => i.id === bId && i.journaled === INTENTS) ? true : undefined))
  await sleep(3000)

  b.child.kill('SIGKILL')
  await b.exited
  await redis.kill()
  await redis.restart()
  await waitFor('A registered its own half again', async () => (Number(await redis.cli('HLEN', 'intent-gate:{default}:inflight')) === INTENTS ? true : undefined))
  await sleep(AWAY_MS)
  t.equal(await view(a), 'active null', `${AWAY_MS} ms after the loss, B dead: A's count is unknown (null, not ${INTENTS})`)
  t.ok((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.some((i) => i.id === bId && i.journaled === INTENTS), 'B is listed as awaited, with its half')

  const b2 = await startGateway(t, { config, env: bEnv })
  t.equal((await b2.admin<{ id: string }>('GET', '/admin/instance')).body.id, bId, 'the restarted process is the same instance')
  await waitFor(`A counts all ${2 * INTENTS} again`, async () => (await view(a) === `active ${2 * INTENTS}` ? true : undefined), 30_000)
  await waitFor('and so does B', async () => (await view(b2) === `active ${2 * INTENTS}` ? true : undefined), 30_000)
  t.equal(Number(await redis.cli('HLEN', 'intent-gate:{default}:inflight')), 2 * INTENTS, 'every record is back in Redis')
  const retries = await Promise.all(onB.map(async (s) => await request(`${a.proxyUrl}/intents`, { body: s.body, headers: { 'idempotency-key': s.key } })))
  t.same(retries.map((r) => r.body.id), onB.map((s) => s.answer.body.id), 'B\'s intents retried on A: the intents first given')
  t.equal((await blue.stats()).accepted, 2 * INTENTS, 'the service accepted each once')
})

t.test('a restart with Redis intact keeps only what Redis still holds', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 })
  const env = await instanceDir(t)
  const first = await startGateway(t, { config, env })
  const id = (await first.admin<{ id: string }>('GET', '/admin/instance')).body.id
  const sent = await submitAll(first, INTENTS, 'intact')
  t.same([...new Set(sent.map((s) => s.answer.status))], [202])
  first.child.kill('SIGKILL')
  await first.exited
  // Two of its intents end while it is away (as another instance's reconciler would end them).
  const fields = (await redis.cli('HKEYS', 'intent-gate:{default}:inflight')).split('\n').filter((f) => f !== '')
  t.equal(fields.length, INTENTS)
  for (const field of fields.slice(0, 2)) await redis.cli('HDEL', 'intent-gate:{default}:inflight', field)

  const again = await startGateway(t, { config, env })
  const self = await waitFor('its record counts what Redis still holds', async () => {
    const fleet = await again.admin<Fleet>('GET', '/admin/instances')
    const me = fleet.body.instances.find((i) => i.id === id)
    return me !== undefined && me.journaled === INTENTS - 2 ? me : undefined
  }, 30_000)
  t.equal(self.journaled, INTENTS - 2, 'the journal kept the records Redis holds, dropped the two that ended')
})
