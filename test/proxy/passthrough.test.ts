/**
 * Pass-through (docs/specification.md section 3, "everything else"): headers as a reverse proxy should set them, bodies both
 * ways, WebSocket upgrades that survive a swap, client aborts that leave no upstream socket behind, and an
 * upstream dying mid-body that ends the client's response instead of leaving it hanging.
 */
import http from 'node:http'
import t from 'tap'
import WebSocket from 'ws'
import { call, startGateway, waitFor } from './harness.js'
import { startUpstream } from './upstream.js'

t.test('headers: hop-by-hop dropped, X-Forwarded-* set, X-Request-Id kept or made', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { client, url } = await startGateway(t, { blue })
  const proxyHost = new URL(url).host

  // node:http, not undici: undici refuses to send hop-by-hop headers at all.
  const r = await new Promise<{ status: number, headers: http.IncomingHttpHeaders, json: any }>((resolve, reject) => {
    http.get(`${url}/anything/here?x=1`, {
      agent: false,
      headers: {
        connection: 'keep-alive, x-drop-me',
        'x-drop-me': '1',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic c2VjcmV0',
        te: 'trailers',
        'x-forwarded-for': '10.0.0.1',
        'x-keep': 'yes'
      }
    }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }))
    }).on('error', reject)
  })
  t.equal(r.status, 200)
  const seen = r.json.headers as Record<string, string>
  t.equal(r.json.url, '/anything/here?x=1', 'path and query unchanged')
  t.equal(seen['x-keep'], 'yes', 'end-to-end headers pass')
  t.notOk(seen['x-drop-me'], 'a header named in Connection is dropped')
  t.notOk(seen['keep-alive'])
  t.notOk(seen['proxy-authorization'])
  t.notOk(seen.te)
  t.equal(seen['x-forwarded-for'], '127.0.0.1', "a peer that is not a trusted proxy: the gateway's own value, not the client's")
  t.equal(seen['x-forwarded-proto'], 'http')
  t.equal(seen['x-forwarded-host'], proxyHost)
  t.equal(seen.host, new URL(blue.url).host)
  t.match(seen['x-request-id'], /^[0-9a-f-]{36}$/, 'a request id is made')
  t.equal(r.headers['x-request-id'], seen['x-request-id'], 'and returned to the client')

  const kept = await call(client, 'GET', '/x', undefined, { 'x-request-id': 'abc-123' })
  t.equal(kept.json.headers['x-request-id'], 'abc-123', 'a client request id is kept')
  t.equal(kept.headers['x-request-id'], 'abc-123')
})

t.test('bodies pass both ways; an unreachable upstream is a 502 problem', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { client } = await startGateway(t, { blue })
  const payload = 'x'.repeat(200_000)
  const r = await call(client, 'PUT', '/upload', payload, { 'content-type': 'text/plain' })
  t.equal(r.status, 200)
  t.equal(r.json.method, 'PUT')
  t.equal(r.json.body.length, payload.length)

  await blue.close()
  const down = await call(client, 'GET', '/after')
  t.equal(down.status, 502)
  t.equal(down.headers['content-type'], 'application/problem+json')
  t.equal(down.json.type, 'urn:intent-gate:problem:upstream-unavailable')
})

t.test('a client that goes away leaves no upstream socket and no running exchange', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { url, proxy, config } = await startGateway(t, { blue })
  const pool = proxy.upstreams.get('blue')!.pool

  // Three rounds of ten streams that never end upstream, each client hanging up after the first chunk.
  for (let round = 0; round < 3; round++) {
    const streams = 10
    const closed = Array.from({ length: streams }, async () => await blue.streamClosed())
    await Promise.all(Array.from({ length: streams }, async () => await new Promise<void>((resolve, reject) => {
      const req = http.get(`${url}/stream`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    })))
    await Promise.all(closed)
  }
  t.pass('every upstream exchange ended when its client went away')
  // (a health check may be running at any moment; it ends on its own within milliseconds)
  await waitFor(() => pool.stats.running === 0)
  t.equal(pool.stats.running, 0, 'no request is left running in the pool')
  // Idle keep-alive connections may stay pooled for reuse; none is held by an abandoned exchange.
  t.ok(blue.openSockets() <= config.upstreams.blue!.connections, `upstream sockets ${blue.openSockets()} within the pool size`)
})

t.test('an upstream that dies mid-body ends the client response', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { client } = await startGateway(t, { blue })
  const res = await client.request({ method: 'GET', path: '/die-mid-body' })
  t.equal(res.statusCode, 200, 'the headers had been sent')
  await t.rejects(res.body.text(), 'the body ends in an error, not a hang')

  // Dying before any body byte (the proxy holds the head back until then) is still a clean 502.
  const early = await call(client, 'GET', '/die-before-body')
  t.equal(early.status, 502)
  t.equal(early.json.type, 'urn:intent-gate:problem:upstream-unavailable')
})

t.test('WebSocket upgrades pass through; open ones stay on their color across a swap', async (t) => {
  const blue = await startUpstream(t, '2.0', 'blue')
  const green = await startUpstream(t, '2.0', 'green')
  const { url, proxy, store } = await startGateway(t, { blue, green })
  const wsUrl = url.replace('http:', 'ws:') + '/ws'

  const open = async (): Promise<{ ws: WebSocket, echo: (m: string) => Promise<string> }> => {
    const ws = new WebSocket(wsUrl)
    t.teardown(() => ws.terminate())
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const echo = async (m: string): Promise<string> => await new Promise((resolve) => {
      ws.once('message', (data) => resolve(data.toString()))
      ws.send(m)
    })
    return { ws, echo }
  }

  const first = await open()
  t.equal(await first.echo('hi'), 'blue:hi')
  await store.setActive('green')
  await waitFor(() => proxy.activeColor() === 'green')
  t.equal(await first.echo('still'), 'blue:still', 'the open connection stays with blue after the swap')
  const second = await open()
  t.equal(await second.echo('new'), 'green:new', 'a new connection goes to the active color')

  first.ws.terminate()
  await waitFor(() => blue.openWebSockets() === 0)
  t.equal(blue.openWebSockets(), 0, 'a client closing its WebSocket closes the upstream one')
})

t.test('an upstream URL with a path puts every forwarded path under it', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { client } = await startGateway(t, { blue: `${blue.url}/svc/` })
  const r = await call(client, 'GET', '/x?y=1')
  t.equal(r.json.url, '/svc/x?y=1')
  await blue.waitForRequest('/svc/healthz')
  t.pass('the health check goes under it too')
})

t.test('a body sent after Expect: 100-continue (curl does this above 1 KiB) passes through', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { url } = await startGateway(t, { blue })
  const payload = 'y'.repeat(4096)
  const answer = await new Promise<{ status: number, json: any }>((resolve, reject) => {
    const req = http.request(`${url}/upload`, {
      method: 'POST',
      agent: false,
      headers: { expect: '100-continue', 'content-type': 'text/plain', 'content-length': String(payload.length) }
    }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
    })
    req.on('continue', () => req.end(payload))
    req.on('error', reject)
  })
  t.equal(answer.status, 200)
  t.equal(answer.json.body.length, payload.length)
  t.notOk(answer.json.headers.expect)
})
