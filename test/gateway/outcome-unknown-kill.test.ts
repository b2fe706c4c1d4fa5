// A gateway SIGKILLed between forwarding an intent and binding it, while the operator swaps blue to green with
// redis-cli; the client's retry goes through the other instance. The record was registered (owner blue) before
// the forward, so the retry is told 409 while its outcome is open, the surviving instance's reconciler resends
// the same bytes to blue once the record is 2 x upstream_timeout_ms old, and blue's answer binds it. The intent is
// accepted by exactly one color, once.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor, type Answer, type ServiceProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

async function setDelay (service: ServiceProcess, ms: number): Promise<void> {
  const res = await fetch(`${service.url}/sandbox/delay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) })
  if (res.status !== 200) throw new Error(`POST /sandbox/delay answered ${res.status}`)
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

t.test('a gateway killed between forward and bind during a swap: the retry through the other instance, accepted once by blue', async (t) => {
  const redis = await startRedis(t)
  const [blue, green] = await Promise.all([
    startService(t, { versions: '1.0', settleMs: 600_000 }),
    startService(t, { versions: '1.0', settleMs: 600_000 })
  ])
  // upstream_timeout_ms = 4000: the kill below must land while instance A still waits for blue's answer; blue
  // holds it a minute, so only A's own timeout could end the wait first, and 4 s is far more than a stats read
  // and a signal take on a loaded machine.
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, green: green.url, greenVersions: ['1.0'] })
    .replace('[proxy]\n', '[proxy]\nupstream_timeout_ms = 4000\n')
  const [a, b] = await Promise.all([startGateway(t, { config }), startGateway(t, { config })])
  for (const gw of [a, b]) {
    await waitFor('both upstreams healthy', async () => {
      const { body } = await gw.admin<{ upstreams: Array<{ healthy: boolean }> }>('GET', '/admin/upstreams')
      return body.upstreams.filter((u) => u.healthy).length === 2 ? true : undefined
    })
  }

  await setDelay(blue, 60_000)
  const intent = signIntentV1(makeSigner())
  const headers = { 'idempotency-key': 'killed-mid-exchange' }
  const lost = request(`${a.proxyUrl}/intents`, { body: intent, headers }).then(() => 'answered', () => 'connection lost')
  await waitFor('blue took the intent', async () => (await blue.stats()).accepted === 1 ? true : undefined, 10_000, 20)
  const killedAt = Date.now()
  t.equal((await a.stop('SIGKILL')).signal, 'SIGKILL')
  t.equal(await lost, 'connection lost', 'instance A died before it could answer')
  t.ok(Date.now() - killedAt < 4000, 'A was killed before its own upstream timeout')

  // The operator swaps meanwhile; blue is fast again (it still holds the intent).
  t.equal(await redis.cli('SET', 'intent-gate:{default}:active', 'green'), 'OK')
  await setDelay(blue, 0)
  await waitFor('B sees green active', async () => (await b.admin<{ active: string }>('GET', '/admin/upstreams')).body.active === 'green' ? true : undefined)
  const listed = await b.admin<Array<{ upstream: string, phase: string, id: string | null }>>('GET', '/admin/inflight')
  t.match(listed.body, [{ upstream: 'blue', id: null }], 'the record is still there, owned by blue, unbound')

  // The client retries through B as told, until it has an answer.
  const statuses: number[] = []
  let final: Answer | null = null
  const giveUpAt = Date.now() + 60_000
  while (final === null && Date.now() < giveUpAt) {
    const answer = await request(`${b.proxyUrl}/intents`, { body: intent, headers })
    statuses.push(answer.status)
    if (answer.status === 409 || answer.status === 504 || answer.status === 502) {
      await sleep(Number(answer.headers.get('retry-after') ?? '1') * 1000)
      continue
    }
    final = answer
  }
  t.comment(`retries through B: ${statuses.join(' ')}`)
  t.ok(final !== null, 'the client got an answer')
  t.equal(final?.status, 200, JSON.stringify(final?.body))
  t.ok(statuses.every((s) => s === 409 || s === 200), 'only 409 (outcome still open) before the answer')
  const [blueStats, greenStats] = await Promise.all([blue.stats(), green.stats()])
  t.equal(blueStats.accepted, 1, 'accepted by blue once')
  t.equal(greenStats.accepted, 0, 'never by green')
  t.equal(blueStats.by_key?.[`${intent.user}:${intent.nonce}`], 2, 'blue saw the first forward and one resubmission (the reconciler\'s)')
  const bound = await b.admin<Array<{ id: string | null, upstream: string }>>('GET', '/admin/inflight')
  t.match(bound.body, [{ id: final?.body.id, upstream: 'blue' }], 'bound to blue\'s intent id')
})
