// intent-gate/client's retries against real gateways (intent-gate serve on a real Redis, sample services behind
// it): a drain (503 with Retry-After, waited out, then accepted), an upgrade that holds submissions (answered
// after the swap, with the status events showing the upgrade), an unknown outcome (504, the same bytes resent
// with the same key), and an unknown outcome across a swap to green (the retry still ends at blue). Each ends
// in exactly one accepted intent: one entry for its owner and nonce across every service. Build first.
import t from 'tap'
import { IntentClient, OutcomeUnknownError, UnavailableError, secp256k1Signer, signIntent, type GatewayStatus, type IntentV1, type RetryInfo } from '../../src/client/index.js'
import { gatewayToml, startGateway, startService, waitFor, type ServiceProcess } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'
import { startHoldGateway, startHoldWorld, statusOf, untilState } from '../coordinator/helpers/hold.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

// Real processes per test (redis-server, gateways, services) on a shared 2-core machine: a start has taken 30 s.
t.setTimeout(360_000)

const signer = secp256k1Signer(globalThis.crypto.getRandomValues(new Uint8Array(32)))
const owner = (await signer.account()).address
let nonce = 0

async function intentV1 (): Promise<IntentV1> {
  return await signIntent(signer, {
    version: '1.0',
    input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' },
    output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: owner },
    deadline: Math.floor(Date.now() / 1000) + 600,
    nonce: ++nonce
  })
}

/**
 * How many of `services` hold this intent (by owner and nonce; a service's ledger keeps one intent per order
 * however often it is submitted, and counts the repeats in `by_key`): exactly one is the aim.
 */
async function held (services: ServiceProcess[], intent: IntentV1): Promise<number> {
  let count = 0
  for (const s of services) if (((await s.stats()).by_key?.[`${intent.user}:${intent.nonce}`] ?? 0) > 0) count++
  return count
}

async function setDelay (service: ServiceProcess, ms: number): Promise<void> {
  const res = await fetch(`${service.url}/sandbox/delay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) })
  if (res.status !== 200) throw new Error(`POST /sandbox/delay answered ${res.status}`)
}

t.test('a drain: 503 draining waited out after Retry-After, then one accepted intent', async (t) => {
  const redis = await startRedis(t)
  const service = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: service.url }).replace('[proxy]\n', '[proxy]\ndrain_retry_after_secs = 1\n') })
  // Retry-After while draining is the time left to the drain's deadline: 2 s here.
  t.equal((await gw.admin('POST', '/admin/drain/start', { deadline_secs: 2, reason: 'client test' })).status, 200)

  const client = new IntentClient({ url: gw.proxyUrl })
  const intent = await intentV1()
  const retries: RetryInfo[] = []
  let stopping: Promise<unknown> | undefined
  const answer = await client.submit(intent, {
    onRetry: (r) => {
      retries.push(r)
      // The operator ends the drain once the client has been refused twice.
      if (retries.length === 2) stopping = gw.admin('POST', '/admin/drain/stop')
    }
  })
  await stopping
  t.match(answer, { httpStatus: 202, status: 'pending', replayed: false, version: '1.0' })
  t.ok(retries.length >= 2, `refused ${retries.length} times while draining`)
  t.match(retries[0], { reason: 'unavailable', status: 503, type: 'urn:intent-gate:problem:draining' })
  t.ok(retries.every((r) => r.retryAfterSecs !== null && r.retryAfterSecs >= 1 && r.waitMs >= r.retryAfterSecs * 1000), 'never came back before Retry-After')
  t.equal(answer.attempts, retries.length + 1)
  t.equal(await held([service], intent), 1, 'exactly one accepted intent')

  // With a wait bound shorter than the drain's Retry-After: the typed error, at once, no wait.
  t.equal((await gw.admin('POST', '/admin/drain/start', { deadline_secs: 120 })).status, 200)
  const second = await intentV1()
  const started = performance.now()
  const err = await client.submit(second, { maxWaitMs: 500 }).catch((e: unknown) => e)
  t.type(err, UnavailableError)
  t.match(err, { status: 503, type: 'urn:intent-gate:problem:draining', attempts: 1 })
  t.ok(performance.now() - started < 1000, 'rejected without waiting past the bound')
  t.equal(await held([service], second), 0)
})

t.test('an upgrade that holds: the submission is held and admitted to green; the events show the upgrade', async (t) => {
  // Blue settles each intent in 3 s, so the upgrade's drain waits for the first intent and the hold is long
  // enough for the second to arrive inside it.
  const w = await startHoldWorld(t, { blueSettleMs: 3000 })
  const gw = await startHoldGateway(t, w)
  const client = new IntentClient({ url: gw.proxyUrl })
  const events = new AbortController()
  const seen: GatewayStatus[] = []
  let notAccepting!: () => void
  const stopped = new Promise<void>((resolve) => { notAccepting = resolve })
  const reading = (async () => {
    for await (const status of client.events({ signal: events.signal })) {
      seen.push(status)
      if (!status.accepting && status.upgrade !== null) notAccepting() // the upgrade's hold, nothing else
    }
  })()
  await waitFor('the first status event', async () => seen.length > 0 ? true : undefined)
  t.equal(seen[0]?.accepting, true)

  const before = await intentV1()
  t.match(await client.submit(before), { httpStatus: 202 })
  t.equal((await gw.admin('POST', '/admin/upgrade/start', { target_version: '2.0', swap_to: 'green' })).status, 202)
  await stopped
  const during = await intentV1()
  const wallStart = Date.now()
  const answer = await client.submit(during, { onRetry: (r) => t.fail(`held, not refused: ${JSON.stringify(r)}`) })
  t.match(answer, { httpStatus: 202, status: 'pending', attempts: 1 })
  const done = await untilState(statusOf(gw), [...FINAL_STATES])
  t.equal(done.state, 'completed', done.error ?? '')
  const resumed = done.phases.find((p) => p.phase === 'resuming')?.ended_at ?? 0
  t.ok(wallStart < resumed * 1000, 'the submission arrived before the upgrade resumed admission')
  await waitFor('accepting again in the events', async () => seen.at(-1)?.accepting === true ? true : undefined)
  events.abort()
  await reading
  t.ok(seen.some((s) => s.upgrade !== null), `the events named the upgrade (modes: ${[...new Set(seen.map((s) => s.mode))].join(', ')})`)
  t.equal(await held([w.green], during), 1, 'the held intent was accepted once, by green')
  t.equal(await held([w.blue], during), 0)
  t.equal(await held([w.blue, w.green], before), 1)
})

t.test('an unknown outcome (504): the same bytes resent with the same key, one accepted intent', async (t) => {
  const redis = await startRedis(t)
  const service = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: service.url, reconcileIntervalMs: 600_000 }).replace('[proxy]\n', '[proxy]\nupstream_timeout_ms = 1000\n') })
  await setDelay(service, 2500)
  const client = new IntentClient({ url: gw.proxyUrl })
  const intent = await intentV1()
  const retries: RetryInfo[] = []
  let caughtUp: Promise<void> | undefined
  const answer = await client.submit(intent, {
    idempotencyKey: 'client-unknown-1',
    onRetry: (r) => {
      retries.push(r)
      // The service catches up after the first lost answer.
      if (retries.length === 1) caughtUp = setDelay(service, 0)
    }
  })
  await caughtUp
  t.match(retries[0], { reason: 'outcome-unknown', status: 504, type: 'urn:intent-gate:problem:upstream-outcome-unknown' })
  t.ok(answer.httpStatus === 200 || answer.httpStatus === 202, `answered ${answer.httpStatus}`)
  t.equal(answer.idempotencyKey, 'client-unknown-1')
  t.equal(await held([service], intent), 1, 'exactly one accepted intent')
  const stats = await service.stats()
  t.equal(stats.accepted, 1)
  t.ok(stats.duplicates >= 1, `the resend reached the service (${stats.duplicates} repeats) and found the intent it had`)

  // Bounded: a service that never answers in time ends in OutcomeUnknownError once the wait bound is spent.
  await setDelay(service, 2500)
  const slow = await intentV1()
  const err = await client.submit(slow, { maxWaitMs: 1500 }).catch((e: unknown) => e)
  t.type(err, OutcomeUnknownError)
  t.match(err, { status: 504 })
})

t.test('an unknown outcome, then a swap to green: the retry still ends at blue, one accepted intent', async (t) => {
  const redis = await startRedis(t)
  const [blue, green] = await Promise.all([
    startService(t, { versions: '1.0', settleMs: 600_000 }),
    startService(t, { versions: '1.0', settleMs: 600_000 })
  ])
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, green: green.url, greenVersions: ['1.0'], reconcileIntervalMs: 600_000 })
    .replace('[proxy]\n', '[proxy]\nupstream_timeout_ms = 1000\n')
  const gw = await startGateway(t, { config })
  await waitFor('both upstreams healthy', async () => {
    const { body } = await gw.admin<{ upstreams: Array<{ healthy: boolean }> }>('GET', '/admin/upstreams')
    return body.upstreams.filter((u) => u.healthy).length === 2 ? true : undefined
  })
  await setDelay(blue, 2500)
  const client = new IntentClient({ url: gw.proxyUrl })
  const intent = await intentV1()
  const retries: RetryInfo[] = []
  let swapped: Promise<unknown> = Promise.resolve()
  const answer = await client.submit(intent, {
    onRetry: (r) => {
      retries.push(r)
      // The operator swaps while the client waits; blue catches up after the swap.
      if (retries.length === 1) {
        swapped = (async () => {
          await gw.admin('POST', '/admin/upstreams/active', { color: 'green' })
          await waitFor('green active', async () => (await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active === 'green' ? true : undefined)
          await setDelay(blue, 0)
        })()
      }
    }
  })
  await swapped
  t.equal(retries[0]?.reason, 'outcome-unknown')
  t.ok(answer.httpStatus >= 200 && answer.httpStatus < 300)
  t.equal(await held([blue], intent), 1, 'accepted by blue, which may have held it')
  t.equal((await blue.stats()).accepted, 1, 'once')
  t.equal(await held([green], intent), 0, 'never by green')
  t.equal((await green.stats()).accepted, 0)
})
