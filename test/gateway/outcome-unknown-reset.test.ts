// A connection the upstream resets after it read the whole body: it may have taken the intent. The client gets
// 502 upstream-outcome-unknown with Retry-After, the record stays inflight (phase unknown, owned by blue), and a
// retry with the same key goes to blue again even after a swap to green. The upstream here is a stub in this
// process (a real sample service never resets), so it can break the exchange exactly after the body arrived.
import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

interface Stub { url: string, posts: Map<string, number>, answer: { on: boolean } }

/** Answers /healthz; reads each submission's body to the end, then resets the connection (until `answer.on`). */
async function startResettingStub (t: { teardown: (fn: () => Promise<void> | void) => void }): Promise<Stub> {
  const posts = new Map<string, number>()
  const answer = { on: false }
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ status: 'ok', versions: ['1.0'] }))
      return
    }
    readAll(req).then((body) => {
      const key = String(req.headers['idempotency-key'] ?? '')
      posts.set(key, (posts.get(key) ?? 0) + 1)
      if (!answer.on) {
        req.socket.resetAndDestroy()
        return
      }
      const intent = JSON.parse(body) as { nonce: number }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: `stub-${intent.nonce}`, status: 'pending', version: '1.0' }))
    }, () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts, answer }
}

async function readAll (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

t.test('a connection reset after the body was sent: 502 outcome-unknown, the record kept, the retry to the same owner', async (t) => {
  const redis = await startRedis(t)
  const blue = await startResettingStub(t)
  const green = await startService(t, { versions: '1.0', settleMs: 600_000 })
  // The reconciler would resend too; a long interval leaves the retries to the client, so each POST is counted.
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, green: green.url, greenVersions: ['1.0'], reconcileIntervalMs: 600_000 })
  const gw = await startGateway(t, { config })
  await waitFor('both upstreams healthy', async () => {
    const { body } = await gw.admin<{ upstreams: Array<{ healthy: boolean }> }>('GET', '/admin/upstreams')
    return body.upstreams.filter((u) => u.healthy).length === 2 ? true : undefined
  })

  const intent = signIntentV1(makeSigner())
  const send = async (): Promise<Awaited<ReturnType<typeof request>>> => await request(`${gw.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': 'reset-1' } })
  const first = await send()
  t.equal(first.status, 502, JSON.stringify(first.body))
  t.equal(first.body.type, 'urn:intent-gate:problem:upstream-outcome-unknown')
  t.ok(Number(first.headers.get('retry-after')) >= 1, 'with Retry-After')
  t.equal(blue.posts.get('reset-1'), 1, 'blue read the whole submission once')

  const listed = await gw.admin<Array<{ key: string, upstream: string, phase: string, id: string | null }>>('GET', '/admin/inflight')
  t.equal(listed.body.length, 1, 'the record is kept')
  t.match(listed.body[0], { upstream: 'blue', phase: 'unknown', id: null })
  t.equal((await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 1, 'and counted inflight')

  t.equal((await gw.admin('POST', '/admin/upstreams/active', { color: 'green' })).status, 200)
  await waitFor('green active', async () => (await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active === 'green' ? true : undefined)

  const second = await send()
  t.equal(second.status, 502, 'blue resets again: still unknown')
  t.equal(blue.posts.get('reset-1'), 2, 'the retry went to blue, the owner')
  t.equal((await green.stats()).accepted, 0, 'never to green')

  blue.answer.on = true
  const third = await send()
  t.equal(third.status, 200, JSON.stringify(third.body))
  t.equal(third.body.id, `stub-${intent.nonce}`, 'blue\'s answer binds the record')
  t.equal(blue.posts.get('reset-1'), 3)
  const bound = await gw.admin<Array<{ id: string | null, phase: string }>>('GET', '/admin/inflight')
  t.match(bound.body, [{ id: `stub-${intent.nonce}`, phase: 'pending' }], 'bound to blue\'s intent id')
  const replay = await send()
  t.equal(replay.headers.get('idempotent-replayed'), 'true', 'later retries are replays')
  t.equal(blue.posts.get('reset-1'), 3, 'not forwarded again')
  t.equal((await green.stats()).accepted, 0)
})
