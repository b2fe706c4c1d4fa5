// A Redis loss with one instance away far longer than the namespace-wide hold (about 2 s): the fleet's registry
// keeps the count `unknown` until that instance is back and has registered again what it admitted, or until an
// operator forgets it (told how many of its intents then go uncounted). A serving instance cannot be forgotten.
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor, type GatewayProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const INTENTS = 20
/** Far past the hold of a noticed loss (2 × (1 s reconnect back-off + poll)): the case the hold alone got wrong. */
const AWAY_MS = 8000

interface DrainBody { mode: string, inflight_settlements: number | null }
interface Fleet { instances: Array<{ id: string, state: string, journaled: number, self?: boolean }> }

async function view (gw: GatewayProcess): Promise<string> {
  const res = await gw.admin<DrainBody>('GET', '/admin/drain/status')
  return res.status === 200 ? `${res.body.mode} ${String(res.body.inflight_settlements)}` : `http ${res.status}`
}

async function fleetWithLoss (
  t: Test
): Promise<{ a: GatewayProcess, b: GatewayProcess, bId: string, aId: string, redis: Awaited<ReturnType<typeof startRedis>> }> {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 })
  const [a, b] = await Promise.all([startGateway(t, { config }), startGateway(t, { config })])
  const aId = (await a.admin<{ id: string }>('GET', '/admin/instance')).body.id
  const bId = (await b.admin<{ id: string }>('GET', '/admin/instance')).body.id
  // A must have read B in the registry before the loss: that is what it will wait for.
  await waitFor('A sees B serving', async () => ((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.some((i) => i.id === bId && i.state === 'serving') ? true : undefined))
  const signer = makeSigner()
  const answers = await Promise.all(Array.from({ length: INTENTS }, async (_, i) => await request(`${(i % 2 === 0 ? a : b).proxyUrl}/intents`, { body: signIntentV1(signer) })))
  t.same([...new Set(answers.map((x) => x.status))], [202], `${INTENTS} admitted, half on each`)
  await waitFor('A counts them all', async () => (await view(a) === `active ${INTENTS}` ? true : undefined))
  // B's record says what it holds once B refreshed after the admissions; A's own copy of the fleet (what it will
  // wait for) is its next refresh after that: one refresh period (2 s) and a margin for this loaded machine.
  await waitFor('B\'s record counts its half', async () => ((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.some((i) => i.id === bId && i.journaled === INTENTS / 2) ? true : undefined))
  await sleep(3000)

  b.child.kill('SIGSTOP')
  t.teardown(() => { b.child.kill('SIGCONT') })
  await redis.kill()
  await redis.restart()
  await waitFor('A registered its own half again', async () => (Number(await redis.cli('HLEN', 'intent-gate:{default}:inflight')) === INTENTS / 2 ? true : undefined))
  return { a, b, aId, bId, redis }
}

t.test('an instance paused across a Redis loss, longer than the hold: unknown until it is back and registered', async (t) => {
  const { a, b, bId, redis } = await fleetWithLoss(t)
  await sleep(AWAY_MS)
  t.equal(await view(a), 'active null', `${AWAY_MS} ms after the loss, with B still paused, A's count is unknown (null, not ${INTENTS / 2})`)
  t.equal((await a.admin<DrainBody>('POST', '/admin/drain/start', { reason: 'loss' })).body.mode, 'unknown', 'a drain started now says unknown, never drained')
  await a.admin('POST', '/admin/drain/stop')
  const fleet = await a.admin<Fleet>('GET', '/admin/instances')
  t.ok(fleet.body.instances.some((i) => i.id === bId && i.journaled === INTENTS / 2), 'B is listed as awaited, with the intents it held')
  const ready = await request(`${a.adminUrl}/readyz`)
  t.equal(ready.status, 200, 'A itself admits meanwhile (its own records are back)')

  b.child.kill('SIGCONT')
  await waitFor(`A counts all ${INTENTS} again`, async () => (await view(a) === `active ${INTENTS}` ? true : undefined), 30_000)
  t.equal(await view(b), `active ${INTENTS}`, 'and so does B')
  t.equal(Number(await redis.cli('HLEN', 'intent-gate:{default}:inflight')), INTENTS, 'every record is back')
})

t.test('an instance that never comes back is forgotten; a serving one cannot be', async (t) => {
  const { a, b, aId, bId } = await fleetWithLoss(t)
  await sleep(AWAY_MS)
  t.equal(await view(a), 'active null', 'the count is unknown while B is away')

  const listed = (await a.admin<Fleet>('GET', '/admin/instances')).body.instances.find((i) => i.id === bId)
  t.equal(listed?.journaled, INTENTS / 2, 'B is listed as awaited, with the intents it held')
  const serving = await a.admin<{ type: string, detail: string }>('POST', `/admin/instances/${encodeURIComponent(aId)}/forget`)
  t.equal(serving.status, 409, 'forgetting a serving instance is refused')
  t.match(serving.body.detail, /serving/)
  const unknown = await a.admin('POST', '/admin/instances/no-such-instance/forget')
  t.equal(unknown.status, 404, 'an instance nobody knows: 404')

  const forgot = await a.admin<{ id: string, forgotten: boolean, uncounted: number }>('POST', `/admin/instances/${encodeURIComponent(bId)}/forget`)
  t.equal(forgot.status, 200)
  t.same(forgot.body, { id: bId, forgotten: true, uncounted: INTENTS / 2 }, 'says how many of its intents go uncounted')
  await waitFor('A answers with its own count', async () => (await view(a) === `active ${INTENTS / 2}` ? true : undefined))
  t.notOk((await a.admin<Fleet>('GET', '/admin/instances')).body.instances.some((i) => i.id === bId), 'B is no longer listed')
  b.child.kill('SIGKILL')
})
