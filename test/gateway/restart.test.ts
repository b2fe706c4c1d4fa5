// Restarts: inflight records live in Redis and survive a gateway restart (the new process reconciles them), and
// SIGTERM (a leave: readiness off at once) lets open exchanges (a pass-through and a submission) finish before the
// process exits 0.
import t from 'tap'
import http from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

interface Row { id: string | null, key: string, upstream: string, phase: string }

t.test('inflight records survive a gateway restart and the new process ends them', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 100 })
  const first = await startGateway(t, { config })
  const signer = makeSigner()
  const answers = await Promise.all(Array.from({ length: 20 }, async () => await request(`${first.proxyUrl}/intents`, { body: signIntentV1(signer) })))
  t.same([...new Set(answers.map((a) => a.status))], [202])
  const before = (await first.admin<Row[]>('GET', '/admin/inflight')).body
  t.equal(before.length, 20)

  t.same(await first.stop('SIGINT'), { code: 0, signal: null }, 'exits 0 on SIGINT')
  const second = await startGateway(t, { config })
  const after = (await second.admin<Row[]>('GET', '/admin/inflight')).body
  t.same(after.map((r) => [r.id, r.key, r.upstream]).sort(), before.map((r) => [r.id, r.key, r.upstream]).sort(), 'the same records')

  // The upstream settles five of them; the new process's reconciler sees it and ends exactly those.
  const settled = after.slice(0, 5).map((r) => r.id as string)
  for (const id of settled) {
    const res = await request(`${blue.url}/sandbox/intents/${encodeURIComponent(id)}`, { body: { status: 'settled' } })
    t.equal(res.status, 200)
  }
  const remaining = await waitFor('the reconciler to end the settled five', async () => {
    const rows = (await second.admin<Row[]>('GET', '/admin/inflight')).body
    return rows.length === 15 ? rows : undefined
  })
  t.notOk(remaining.some((r) => settled.includes(r.id as string)))
  const metrics = await (await fetch(`${second.adminUrl}/metrics`)).text()
  t.match(metrics, /intent_gate_intents_ended_total\{status="settled",via="reconciler"\} 5/)
})

t.test('SIGTERM lets open exchanges finish, then exits 0', async (t) => {
  const redis = await startRedis(t)
  // An upstream that holds requests until the test releases them.
  const held: Array<() => void> = []
  const arrived: string[] = []
  const upstream = http.createServer((req, res) => {
    if (req.url !== '/slow' && req.url !== '/intents') { res.end('quick'); return }
    arrived.push(`${req.method ?? ''} ${req.url ?? ''}`)
    req.resume()
    held.push(() => {
      if (req.method === 'POST') {
        res.writeHead(202, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: 'held-1', status: 'pending', version: '1.0' }))
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('slow answer, complete')
      }
    })
    upstream.emit('held')
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.closeAllConnections(); upstream.close() })
  const blueUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  const config = gatewayToml({ redisUrl: redis.url, blue: blueUrl, shutdownGraceSecs: 10 })
  const gw = await startGateway(t, { config })

  const passThrough = request(`${gw.proxyUrl}/slow`)
  const submission = request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  while (held.length < 2) await once(upstream, 'held')
  t.same(arrived.sort(), ['GET /slow', 'POST /intents'])

  const stopped = gw.stop('SIGTERM')
  // SIGTERM is a leave: readiness turns 503 at once while the two exchanges are still open.
  await waitFor('/readyz 503 after the signal', async () => ((await fetch(`${gw.adminUrl}/readyz`)).status === 503 ? true : undefined))
  t.equal(gw.child.exitCode, null, 'still running while exchanges are open')
  for (const release of held) release()
  const [slow, submitted] = await Promise.all([passThrough, submission])
  t.equal(slow.status, 200)
  t.equal(slow.body, 'slow answer, complete')
  t.equal(submitted.status, 202)
  t.same(await stopped, { code: 0, signal: null }, 'exit 0 after the exchanges finished')

  // The submission finished by the stopping process was bound in the store before it exited.
  const next = await startGateway(t, { config })
  const rows = (await next.admin<Row[]>('GET', '/admin/inflight')).body
  t.same(rows.map((r) => r.id), ['held-1'])
})

t.test('a second signal aborts open exchanges and exits 1', async (t) => {
  const upstream = http.createServer((req, res) => {
    if (req.url !== '/slow') { res.end('quick'); return }
    upstream.emit('held', res)
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.closeAllConnections(); upstream.close() })
  const config = gatewayToml({ blue: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, shutdownGraceSecs: 60 })
  const gw = await startGateway(t, { config })
  const slow = request(`${gw.proxyUrl}/slow`).then((a) => a.status, (err: unknown) => err)
  await once(upstream, 'held')
  gw.child.kill('SIGTERM')
  await waitFor('/readyz 503 after the first signal', async () => ((await fetch(`${gw.adminUrl}/readyz`)).status === 503 ? true : undefined))
  gw.child.kill('SIGTERM')
  t.same(await gw.exited, { code: 1, signal: null }, 'exit 1 without waiting for the 60 s grace')
  const outcome = await slow
  t.ok(outcome instanceof Error || outcome === 502, `the held exchange was aborted (${String(outcome)})`)
})
