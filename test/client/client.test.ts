// intent-gate/client on its own, against scripted HTTP servers (real sockets, answers chosen per test): what it
// rejects with for each kind of answer, the abort signal, a gateway that is down and then back (same key), the
// event stream across a reconnect, and the signers (checked by the gateway's own verifier).
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import {
  IntentClient, InvalidIntentError, NetworkError, ProblemError, SignatureInvalidError, SignerError, UnavailableError,
  secp256k1Signer, signIntent, walletSigner, type GatewayStatus
} from '../../src/client/index.js'
import { withJitter } from '../../src/client/retry.js'
import { createVersionCatalog } from '../../src/versions/index.js'
import { verifyIntent } from '../../src/versions/verify.js'
import { cosmjsWallet } from '../helpers/wallet.js'

interface Seen { method: string, url: string, key: string | undefined, body: string }
type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void

async function server (t: Test, handle: Handler, port = 0): Promise<{ url: string, port: number, seen: Seen[], close: () => void }> {
  const seen: Seen[] = []
  const s = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      const one = { method: req.method ?? '', url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined, body }
      seen.push(one)
      handle(req, res, one)
    })
  })
  s.listen(port, '127.0.0.1')
  await once(s, 'listening')
  const close = (): void => { s.closeAllConnections(); s.close() }
  t.teardown(close)
  const bound = (s.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${bound}`, port: bound, seen, close }
}

function json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

const problem = (name: string, status: number, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ type: `urn:intent-gate:problem:${name}`, title: name, status, detail: `${name} detail`, request_id: 'r-1', ...extra })

const INTENT = { version: '2.0', nonce: '1' }

t.test('each problem type rejects with its class, carrying type, status, detail and the body', async (t) => {
  const answers: Array<[number, Record<string, unknown> | string]> = [
    [401, problem('signature-invalid', 401)],
    [400, problem('invalid-intent', 400, { errors: [{ field: '/nonce', message: 'is required' }] })],
    [400, { type: 'urn:intent-service:problem:bad-signature', title: 'Bad signature', status: 400, detail: 'no' }],
    [500, 'not json']
  ]
  let i = 0
  const s = await server(t, (_req, res) => {
    const [status, body] = answers[i++] as [number, Record<string, unknown> | string]
    if (typeof body === 'string') { res.writeHead(status); res.end(body) } else json(res, status, body)
  })
  const client = new IntentClient({ url: s.url })
  const errs = []
  for (let n = 0; n < answers.length; n++) errs.push(await client.submit(INTENT).catch((e: unknown) => e))
  t.type(errs[0], SignatureInvalidError)
  t.match(errs[0], { status: 401, type: 'urn:intent-gate:problem:signature-invalid', detail: 'signature-invalid detail', attempts: 1, problem: { request_id: 'r-1' } })
  t.type(errs[1], InvalidIntentError)
  t.same((errs[1] as ProblemError).problem['errors'], [{ field: '/nonce', message: 'is required' }])
  t.ok(errs[2] instanceof ProblemError && !(errs[2] instanceof SignatureInvalidError), "another service's type stays a plain ProblemError")
  t.match(errs[3], { status: 500, type: 'about:blank', detail: 'not json' })
  t.equal(s.seen.length, 4, 'none of them retried')
})

t.test('a 409 without Retry-After is final; with it, waited out and retried with the same key and bytes', async (t) => {
  let n = 0
  const s = await server(t, (_req, res) => {
    n++
    if (n === 1) return json(res, 409, { type: 'urn:intent-service:problem:nonce-reused', title: 'Nonce reused', status: 409, detail: 'x' })
    if (n === 2) return json(res, 409, problem('duplicate-in-progress', 409), { 'retry-after': '1' })
    json(res, 202, { intent_id: 'int_1', status: 'accepted', version: '2.0' }, { 'intent-version': '2.0' })
  })
  const client = new IntentClient({ url: s.url, random: () => 0 })
  t.match(await client.submit(INTENT).catch((e: unknown) => e), { status: 409, attempts: 1 })
  const started = Date.now()
  const answer = await client.submit(INTENT, { idempotencyKey: 'k-409' })
  t.ok(Date.now() - started >= 990, 'waited the Retry-After second')
  t.match(answer, { intentId: 'int_1', status: 'accepted', httpStatus: 202, version: '2.0', attempts: 2, idempotencyKey: 'k-409' })
  t.same(s.seen.slice(1).map((x) => x.key), ['k-409', 'k-409'])
  t.equal(s.seen[1]?.body, s.seen[2]?.body)
})

t.test('the abort signal ends a submission while it waits', async (t) => {
  const s = await server(t, (_req, res) => json(res, 503, problem('draining', 503), { 'retry-after': '30' }))
  const client = new IntentClient({ url: s.url })
  const abort = new AbortController()
  const started = Date.now()
  const err = await client.submit(INTENT, { signal: abort.signal, onRetry: () => abort.abort(new Error('the user left')) }).catch((e: unknown) => e)
  t.match(err, { message: 'the user left' })
  t.ok(Date.now() - started < 5000, 'at once, not after the 30 s')
  // Without the signal, the 30 s Retry-After is beyond a 10 s bound: the typed error at once.
  t.type(await client.submit(INTENT, { maxWaitMs: 10_000 }).catch((e: unknown) => e), UnavailableError)
})

t.test('a gateway that is down, then back on its port: the same key and bytes get through', async (t) => {
  const probe = await server(t, () => {})
  const port = probe.port
  probe.close()
  const client = new IntentClient({ url: `http://127.0.0.1:${port}` })
  let back: Awaited<ReturnType<typeof server>> | undefined
  const answer = await client.submit(INTENT, {
    idempotencyKey: 'k-down',
    onRetry: async (r) => {
      t.equal(r.reason, 'network')
      back ??= await server(t, (_req, res) => json(res, 202, { intent_id: 'int_2', status: 'accepted', version: '2.0' }), port)
    }
  })
  t.match(answer, { intentId: 'int_2', idempotencyKey: 'k-down' })
  t.ok(answer.attempts >= 2)
  t.equal(back?.seen[0]?.key, 'k-down')
  t.match(await client.submit(INTENT, { maxWaitMs: 0 }).catch(() => null), { intentId: 'int_2' })
  back?.close()
  t.type(await client.submit(INTENT, { maxWaitMs: 300 }).catch((e: unknown) => e), NetworkError, 'no answer within the bound')
})

t.test('events(): status objects across a dropped connection, closed when the loop is left', async (t) => {
  let connections = 0
  const open = new Set<ServerResponse>()
  const s = await server(t, (_req, res) => {
    connections++
    open.add(res)
    res.on('close', () => open.delete(res))
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const status: GatewayStatus = { accepting: connections > 1, mode: connections > 1 ? 'accepting' : 'draining', retry_after_secs: null, upgrade: null, drain: null }
    res.write(`retry: 50\n\n: comment\nevent: status\ndata: ${JSON.stringify(status)}\n\n`)
    // The first connection is cut by the server (a gateway restarting).
    if (connections === 1) setTimeout(() => res.end(), 20)
  })
  const client = new IntentClient({ url: s.url })
  const seen: string[] = []
  for await (const status of client.events()) {
    seen.push(status.mode)
    if (seen.length === 2) break
  }
  t.same(seen, ['draining', 'accepting'])
  t.equal(connections, 2, 'reconnected once')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(open.size, 0, 'leaving the loop closed the stream')
})

t.test('signers: what they sign verifies with the gateway\'s verifier; a lying wallet and a 1.0 wallet draft are refused', async (t) => {
  const catalog = createVersionCatalog()
  const key = secp256k1Signer('0x' + '42'.repeat(32))
  const v1 = await signIntent(key, {
    version: '1.0',
    input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1' },
    output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '1', recipient: (await key.account()).address },
    deadline: 1_900_000_000,
    nonce: 3
  })
  t.same(verifyIntent(catalog, '1.0', v1), { ok: true })
  const draft = {
    origin_chain_id: 'cosmoshub-4',
    inputs: [{ chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1' }],
    outputs: [{ chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '1', recipient: v1.user }],
    fill_deadline: 1_900_000_000,
    nonce: '3'
  }
  const v2 = await signIntent(key, draft)
  t.match(v2, { version: '2.0', owner: v1.user, auth: { scheme: 'secp256k1', signed_version: '2.0' } })
  t.same(verifyIntent(catalog, '2.0', v2), { ok: true })
  t.equal(secp256k1Signer('42'.repeat(32), { prefix: 'osmo' }).scheme, 'secp256k1')
  t.match((await secp256k1Signer('42'.repeat(32), { prefix: 'osmo' }).account()).address, /^osmo1/)
  t.throws(() => secp256k1Signer('abc'), SignerError)

  const wallet = await cosmjsWallet()
  const viaWallet = await signIntent(walletSigner(wallet, 'cosmoshub-4'), draft)
  t.match(viaWallet, { owner: wallet.address, auth: { scheme: 'adr036', public_key: wallet.publicKey } })
  t.same(verifyIntent(catalog, '2.0', viaWallet), { ok: true })
  await t.rejects(signIntent(walletSigner(wallet, 'cosmoshub-4'), { ...v1, version: '1.0' }), SignerError)
  const other = await cosmjsWallet()
  const lying = { getKey: wallet.getKey, signArbitrary: other.signArbitrary }
  await t.rejects(signIntent(walletSigner(lying, 'cosmoshub-4'), { ...draft, owner: other.address }), SignerError, 'a wallet that signs with another key than it reported')
})

t.test('jitter never shortens the wait and adds at most a fifth (at least 250 ms of spread)', async (t) => {
  t.equal(withJitter(1000, () => 0), 1000)
  t.ok(withJitter(1000, () => 0.999) < 1250)
  t.ok(withJitter(10_000, () => 0.999) < 12_000 && withJitter(10_000, () => 0.999) > 11_900)
})
