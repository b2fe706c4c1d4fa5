// `intent-gate-sandbox load` (the BUILT dist/sandbox/cli.js, submitting through intent-gate/client) against a
// scripted intent service: a 503 is retried with the same bytes and Idempotency-Key only after its Retry-After,
// accepted intents are followed until they end, a refusal other than 503/409 counts as failed (exit 1), and bad
// flags exit 2 naming the flag.
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { SANDBOX_BIN, spawnNode } from '../helpers/gateway.js'

interface Seen { method: string, url: string, key: string | undefined, body: string, atMs: number }

interface Answer { status: number, headers?: Record<string, string>, body: unknown }

async function scriptedService (t: Test, answer: (req: Seen) => Answer): Promise<{ url: string, seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined, body, atMs: Date.now() }
      seen.push(s)
      const a = answer(s)
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers })
      res.end(JSON.stringify(a.body))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

interface Summary {
  type: string
  sent: number
  accepted: number
  refused_503: number
  intents_refused_503: number
  failed: number
  settled: number
  finished: boolean
  failures: Array<{ status: number }>
}

function summaryOf (stdout: string): Summary {
  const last = stdout.trim().split('\n').map((l) => JSON.parse(l) as Summary).at(-1) as Summary
  if (last.type !== 'summary') throw new Error(`no summary line last:\n${stdout}`)
  return last
}

t.test('a 503 is retried after its Retry-After with the same bytes and key; accepted intents are followed until settled', async (t) => {
  let posts = 0
  const svc = await scriptedService(t, (req): Answer => {
    if (req.method === 'POST') {
      posts++
      if (posts === 1) return { status: 503, headers: { 'retry-after': '1' }, body: { type: 'urn:intent-gate:problem:draining' } }
      return { status: 202, headers: { 'intent-version': '1.0' }, body: { id: `int-${posts}`, status: 'pending', version: '1.0' } }
    }
    return { status: 200, body: { id: req.url.split('/').at(-1), status: 'settled', filled_amount: '1', tx_hash: 'AA' } }
  })
  const load = spawnNode([SANDBOX_BIN, 'load', '--target', svc.url, '--rate', '1', '--duration', '1', '--poll-ms', '50'])
  t.teardown(() => { load.child.kill('SIGKILL') })
  const exit = await load.exited
  t.equal(exit.code, 0, load.stderr())
  const s = summaryOf(load.stdout())
  t.match(s, { sent: 1, accepted: 1, refused_503: 1, intents_refused_503: 1, failed: 0, settled: 1, finished: true })
  const [first, retry] = svc.seen.filter((x) => x.method === 'POST')
  t.ok(first !== undefined && retry !== undefined, 'the intent was sent twice')
  t.equal(retry?.key, first?.key, 'the retry carries the same Idempotency-Key')
  t.ok(first?.key !== undefined && first.key.length > 0)
  t.equal(retry?.body, first?.body, 'the retry sends the same signed bytes')
  t.ok((retry?.atMs ?? 0) - (first?.atMs ?? 0) >= 990, 'the retry waited the Retry-After second')
  t.ok(svc.seen.some((x) => x.method === 'GET' && x.url === '/intents/int-2'), 'the accepted intent was read until settled')
})

t.test('a refusal other than 503/409 is a failed intent: exit 1, reported in the summary', async (t) => {
  const svc = await scriptedService(t, () => ({ status: 400, body: { type: 'urn:intent-service:problem:invalid-intent' } }))
  const load = spawnNode([SANDBOX_BIN, 'load', '--target', svc.url, '--rate', '2', '--duration', '1'])
  t.teardown(() => { load.child.kill('SIGKILL') })
  const exit = await load.exited
  t.equal(exit.code, 1)
  const s = summaryOf(load.stdout())
  t.ok(s.failed > 0 && s.failed === s.sent, `${s.failed} of ${s.sent} failed`)
  t.equal(s.failures[0]?.status, 400)
})

t.test('bad flags exit 2 naming the flag', async (t) => {
  for (const [args, message] of [
    [['--rate', '5'], /--target URL is required/],
    [['--target', 'ftp://x'], /--target: expected an http\(s\) URL/],
    [['--target', 'http://127.0.0.1:1', '--rate', '0'], /--rate: expected a whole number of at least 1/],
    [['--target', 'http://127.0.0.1:1', '--version', '3.0'], /--version: expected 1.0 or 2.0/]
  ] as const) {
    const load = spawnNode([SANDBOX_BIN, 'load', ...args])
    const exit = await load.exited
    t.equal(exit.code, 2, args.join(' '))
    t.match(load.stderr(), message)
  }
})
