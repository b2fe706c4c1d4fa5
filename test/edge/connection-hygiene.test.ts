// Attack 5 of issue 24: what a slow or hostile client costs. Slowloris (a request head never finished) and slow
// bodies are cut at proxy.headers_timeout_ms / request_timeout_ms with 408; past proxy.max_connections a new
// connection is closed at once, and once the slow ones are cut an honest submission is served again; the sample
// service's /sandbox/* control routes do not answer through the gateway; the CLI prints a drain reason's control
// characters as escapes, never raw.
import net from 'node:net'
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { request, runCli, TEST_TOKEN } from '../helpers/gateway.js'
import { startEdgeWithService } from './harness.js'

t.setTimeout(360_000)

/** A raw connection that sends `text` and reports what came back and when it closed. */
async function raw (url: string, text: string): Promise<{ socket: net.Socket, closed: Promise<{ afterMs: number, answer: string }> }> {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const started = performance.now()
  let answer = ''
  socket.on('data', (d: Buffer) => { answer += d.toString() })
  socket.on('error', () => {})
  const closed = new Promise<{ afterMs: number, answer: string }>((resolve) => socket.once('close', () => resolve({ afterMs: performance.now() - started, answer })))
  socket.write(text)
  return { socket, closed }
}

t.test('slow clients are cut, the connection cap holds, honest traffic is served', async (t) => {
  const edge = await startEdgeWithService(t, '1.0', 'headers_timeout_ms = 1000\nrequest_timeout_ms = 2000\nmax_connections = 20')
  const url = edge.gw.proxyUrl

  const slowloris = await raw(url, 'POST /intents HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  const slowBody = await raw(url, 'POST /intents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"version":')
  const honest = await edge.submit(signIntentV1(makeSigner()))
  t.equal(honest.status, 202, 'an honest submission beside them is served')
  // Node checks the timeouts once a second (connectionsCheckingInterval): a cut comes within a second of each.
  const [loris, body] = await Promise.all([slowloris.closed, slowBody.closed])
  t.match(loris.answer, /^HTTP\/1\.1 408/, 'the unfinished head gets 408')
  t.ok(loris.afterMs < 4_000, `and is cut after ${loris.afterMs.toFixed(0)} ms (headers_timeout_ms 1000)`)
  t.ok(body.afterMs >= 1_500 && body.afterMs < 6_000, `the slow body is cut after ${body.afterMs.toFixed(0)} ms (request_timeout_ms 2000)`)

  // 20 connections that send nothing fill the cap: the 21st is closed at once, unanswered.
  const idle = await Promise.all(Array.from({ length: 20 }, async () => await raw(url, '')))
  const over = await raw(url, 'GET /.well-known/intent-gate/status HTTP/1.1\r\nHost: x\r\n\r\n')
  const refused = await over.closed
  t.equal(refused.answer, '', 'past max_connections a new connection is closed without an answer')
  t.ok(refused.afterMs < 1_000, `at once (${refused.afterMs.toFixed(0)} ms)`)
  // The idle ones never send a head: headers_timeout_ms cuts them, and the gateway serves again.
  await Promise.all(idle.map(async (c) => await c.closed))
  const after = await edge.submit(signIntentV1(makeSigner()))
  t.equal(after.status, 202, 'once the idle connections are cut, submissions are served again')
})

t.test('the sample service control routes are off the proxy path; the CLI escapes operator text', async (t) => {
  const edge = await startEdgeWithService(t, '1.0')
  const through = await request(`${edge.gw.proxyUrl}/sandbox/health`, { body: { healthy: false } })
  t.equal(through.status, 404, 'POST /sandbox/health through the gateway does not reach the control route')
  t.equal((await request(`${edge.gw.proxyUrl}/sandbox/stats`)).status, 404, 'nor does /sandbox/stats')
  t.equal((await fetch(`${edge.service.url}/healthz`)).status, 200, 'the service is still healthy')
  t.equal((await request(`${edge.service.url}/sandbox/stats`)).status, 200, 'called directly, the route answers')
  t.equal((await edge.submit(signIntentV1(makeSigner()))).status, 202)

  const env = { INTENT_GATE_ADMIN_TOKEN: TEST_TOKEN }
  const reason = 'maintenance\u001b]0;owned\u0007\u001b[2J\u009b31m\u202egnp.exe'
  const started = await runCli(['drain', 'start', '--reason', reason, '--admin', edge.gw.adminUrl], env)
  t.equal(started.code, 0, started.stderr)
  const status = await runCli(['drain', 'status', '--admin', edge.gw.adminUrl], env)
  t.equal(status.code, 0, status.stderr)
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  t.notOk(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/.test(status.stdout + started.stdout), 'no control character reaches the terminal')
  t.match(status.stdout, /reason\s+maintenance\\x1b\]0;owned\\x07\\x1b\[2J\\x9b31m\\u202egnp\.exe$/m, 'each one shown as an escape')
  const refusal = await request(`${edge.gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(refusal.status, 503)
})
