// One instance leaves the fleet while another goes on admitting (docs/specification.md section 3, *Instances*): readiness off
// at once, admission through leave_grace_secs, then 503 instance-leaving with Retry-After: 1; held submissions
// answered 503 with Retry-After; open exchanges finish; an exchange that cannot finish in time is handed to the
// store as an unknown outcome; the instance deregisters. The fleet's drain switch is never touched.
import t from 'tap'
import { startRedis, type Teardown } from '../helpers/redis.js'
import { gatewayToml, request, runCli, startGateway, startService, TEST_TOKEN, waitFor, type Answer, type GatewayProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const UPGRADE_KEY = 'intent-gate:{default}:upgrade'
const DRAIN_KEY = 'intent-gate:{default}:drain'

interface SelfStatus { id: string, state: string, exchanges: number, held: number, unbound: number }
interface Fleet { instances: Array<{ id: string, state: string, self?: boolean }> }

async function twoGateways (
  t: Teardown,
  env: Record<string, string>,
  blueOpts: { settleMs?: number } = {}
): Promise<{
  a: GatewayProcess
  b: GatewayProcess
  redis: Awaited<ReturnType<typeof startRedis>>
  blue: Awaited<ReturnType<typeof startService>>
}> {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: blueOpts.settleMs ?? 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000, shutdownGraceSecs: 2 })
  const [a, b] = await Promise.all([startGateway(t, { config, env }), startGateway(t, { config, env })])
  await waitFor('both registered', async () => ((await b.admin<Fleet>('GET', '/admin/instances')).body.instances.length === 2 ? true : undefined))
  return { a, b, redis, blue }
}

async function setDelay (serviceUrl: string, ms: number): Promise<void> {
  await request(`${serviceUrl}/sandbox/delay`, { body: { ms } })
}

t.test('a leave with exchanges in flight and held submissions; the other instance admits throughout', async (t) => {
  // A 3 s grace: margin for this loaded machine between the leave and the admissions it must still take.
  const { a, b, redis, blue } = await twoGateways(t, { INTENT_GATE_PROXY_LEAVE_GRACE_SECS: '3', INTENT_GATE_PROXY_UPSTREAM_TIMEOUT_MS: '30000' })
  const signer = makeSigner()
  const self = await a.admin<SelfStatus>('GET', '/admin/instance')
  t.match(self.body, { state: 'serving', exchanges: 0, held: 0, unbound: 0 })
  const fleet = await b.admin<Fleet>('GET', '/admin/instances')
  t.equal(fleet.body.instances.filter((i) => i.self === true).length, 1, 'the fleet marks this instance self')
  t.ok(fleet.body.instances.some((i) => i.id === self.body.id && i.state === 'serving'), 'A is serving in B\'s view')

  // Two exchanges in flight on A: the service answers after 1.5 s.
  await setDelay(blue.url, 1500)
  const inFlight = [request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) }), request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) })]
  await waitFor('two exchanges open on A', async () => ((await a.admin<SelfStatus>('GET', '/admin/instance')).body.exchanges >= 2 ? true : undefined))
  await setDelay(blue.url, 0)
  // Two submissions held on A by an upgrade (its flag set by hand: no coordinator runs one here).
  await redis.cli('SET', UPGRADE_KEY, JSON.stringify({ id: 'upg_test', phase: 'draining' }))
  const held = [request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) }), request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) })]
  await waitFor('two held on A', async () => ((await a.admin<SelfStatus>('GET', '/admin/instance')).body.held === 2 ? true : undefined))

  const leave = await a.admin<SelfStatus>('POST', '/admin/instance/leave', {})
  t.equal(leave.status, 202, 'the leave is accepted')
  t.equal(leave.body.state, 'leaving')
  const ready = await request(`${a.adminUrl}/readyz`)
  t.equal(ready.status, 503, '/readyz 503 at once')
  t.match(ready.body.waiting_for, { instance: /leaving/ })
  for (const answer of await Promise.all(held)) {
    t.equal(answer.status, 503, 'a held submission is answered 503 at the leave')
    t.match(answer.headers.get('retry-after'), /^[1-9][0-9]*$/, 'with Retry-After')
  }
  await redis.cli('DEL', UPGRADE_KEY)
  const inGrace = await waitFor('admitted during the grace', async () => {
    const r = await request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) })
    return r.status === 202 ? r : undefined
  }, 5000)
  t.equal(inGrace.status, 202, 'A still admits during leave_grace_secs')

  let admittedInGrace = 1
  const refused = await waitFor('refusals after the grace', async () => {
    const r = await request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) })
    if (r.status === 202) admittedInGrace++
    return r.status === 503 ? r : undefined
  }, 15_000)
  t.equal(refused.body.type, 'urn:intent-gate:problem:instance-leaving')
  t.equal(refused.headers.get('retry-after'), '1', 'Retry-After: 1')
  const other = await request(`${b.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(other.status, 202, 'B admits while A refuses')
  t.equal(await redis.cli('GET', DRAIN_KEY), '', 'the fleet\'s drain switch was never set')

  for (const answer of await Promise.all(inFlight)) t.equal(answer.status, 202, 'an exchange in flight finished with its answer')
  await waitFor('A left', async () => ((await a.admin<SelfStatus>('GET', '/admin/instance')).body.state === 'left' ? true : undefined))
  const after = await b.admin<Fleet>('GET', '/admin/instances')
  t.notOk(after.body.instances.some((i) => i.id === self.body.id), 'A deregistered')
  t.equal(a.child.exitCode, null, 'an API leave leaves the process running (refusing) until its SIGTERM')
  const stopping = Date.now()
  t.equal((await a.stop('SIGTERM')).code, 0, 'then SIGTERM: exit 0')
  t.comment(`SIGTERM after the leave took ${Date.now() - stopping} ms`)

  const accepted = (await blue.stats()).accepted
  const inflight = (await b.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements
  t.equal(accepted, 2 + admittedInGrace + 1, 'the upstream took the two in flight, those admitted in the grace and B\'s')
  t.equal(inflight, accepted, 'each counted once in the namespace')
})

t.test('instance leave --wait with an admission whose answer cannot come in time: handed to the store', async (t) => {
  const { a, b, blue } = await twoGateways(t, { INTENT_GATE_PROXY_LEAVE_GRACE_SECS: '0', INTENT_GATE_PROXY_UPSTREAM_TIMEOUT_MS: '300000' })
  const signer = makeSigner()
  const intent = signIntentV1(signer)
  // Far beyond the leave (shutdown grace 2 s), however slow this machine: the answer cannot come in time.
  await setDelay(blue.url, 120_000)
  const pending = request(`${a.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': 'leave-unbound-1' } })
  await waitFor('the exchange is open on A', async () => ((await a.admin<SelfStatus>('GET', '/admin/instance')).body.exchanges === 1 ? true : undefined))
  await waitFor('the service holds it', async () => ((await blue.stats()).accepted === 1 ? true : undefined))

  const cli = await runCli(['instance', 'leave', '--wait', '--admin', a.adminUrl], { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN })
  t.equal(cli.code, 0, `instance leave --wait exits 0 once left (${cli.stderr})`)
  t.match(cli.stdout, /state\s+left/)
  const answer: Answer = await pending
  t.equal(answer.status, 502, 'the client is told the outcome is unknown')
  t.equal(answer.body.type, 'urn:intent-gate:problem:upstream-outcome-unknown')
  t.match(answer.headers.get('retry-after'), /^[1-9][0-9]*$/)

  const inflight = await b.admin<Array<{ phase: string, upstream: string }>>('GET', '/admin/inflight')
  t.match(inflight.body, [{ phase: 'unknown', upstream: 'blue' }], 'the record is in the store, unknown, owned by blue')
  await setDelay(blue.url, 0)
  const retry = await request(`${b.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': 'leave-unbound-1' } })
  t.ok(retry.status >= 200 && retry.status < 300, `the client's retry on B gets the intent the service already holds (${retry.status})`)
  t.equal((await blue.stats()).accepted, 1, 'accepted once')
  t.equal((await b.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 1, 'counted once')
  t.equal((await a.stop('SIGTERM')).code, 0)
})

t.test('SIGTERM without a leave does the same, then exits 0', async (t) => {
  const { a, b, blue } = await twoGateways(t, { INTENT_GATE_PROXY_LEAVE_GRACE_SECS: '3' })
  const signer = makeSigner()
  const id = (await a.admin<SelfStatus>('GET', '/admin/instance')).body.id
  await setDelay(blue.url, 1500)
  const inFlight = request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) })
  await waitFor('the exchange is open on A', async () => ((await a.admin<SelfStatus>('GET', '/admin/instance')).body.exchanges === 1 ? true : undefined))
  a.child.kill('SIGTERM')
  await waitFor('/readyz 503 after the signal', async () => ((await fetch(`${a.adminUrl}/readyz`)).status === 503 ? true : undefined), 2000)
  const inGrace = await request(`${a.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(inGrace.status, 202, 'admitted during the grace after SIGTERM')
  t.equal((await inFlight).status, 202, 'the open exchange finished')
  const exit = await a.exited
  t.equal(exit.code, 0, 'exit 0')
  const fleet = await b.admin<Fleet>('GET', '/admin/instances')
  t.notOk(fleet.body.instances.some((i) => i.id === id), 'deregistered before exiting')
  t.equal((await blue.stats()).accepted, 2)
  t.equal((await b.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 2, 'both counted in the namespace')
})
