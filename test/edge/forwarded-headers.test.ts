// Attack: `X-Forwarded-Proto: https`, `X-Forwarded-Host: evil.example` and `X-Forwarded-For: 6.6.6.6` from any
// client used to reach the upstream as the truth. From a peer outside `[proxy] trusted_proxies` they are
// replaced by the gateway's own (the peer's address, the listener's scheme, the request's Host), on submissions
// and pass-through alike; from a trusted proxy they are kept and the peer appended to X-Forwarded-For.
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { gatewayToml, spawnServe } from '../helpers/gateway.js'
import { startUpstream, type Received } from '../proxy/upstream.js'
import { rawRequest, startEdge } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

const SPOOFED = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }

function forwarded (r: Received | undefined): Record<string, unknown> {
  return { for: r?.headers['x-forwarded-for'], proto: r?.headers['x-forwarded-proto'], host: r?.headers['x-forwarded-host'] }
}

t.test('from an untrusted peer the X-Forwarded trio is the gateway\'s own', async (t) => {
  const stub = await startUpstream(t, '1.0', 'stub')
  const edge = await startEdge(t, { upstream: stub.url })
  const { host } = new URL(edge.gw.proxyUrl)
  const own = { for: '127.0.0.1', proto: 'http', host }

  t.equal((await rawRequest(edge.gw.proxyUrl, 'POST', '/intents', JSON.stringify(signIntentV1(makeSigner())), SPOOFED)).status, 202)
  t.same(forwarded(stub.submissions().at(-1)), own, 'a submission')
  t.equal((await rawRequest(edge.gw.proxyUrl, 'GET', '/other', undefined, { ...SPOOFED, 'X-Forwarded-For': '7.7.7.7' })).status, 200)
  t.same(forwarded(stub.received.at(-1)), own, 'a pass-through, the header repeated in another case')
  const id = (JSON.parse((await rawRequest(edge.gw.proxyUrl, 'POST', '/intents', JSON.stringify(signIntentV1(makeSigner())))).body) as { id: string }).id
  t.equal((await rawRequest(edge.gw.proxyUrl, 'GET', `/intents/${id}`, undefined, SPOOFED)).status, 200)
  t.same(forwarded(stub.received.at(-1)), own, 'a status read')
})

t.test('from a peer in trusted_proxies they are kept, the peer appended', async (t) => {
  const stub = await startUpstream(t, '1.0', 'stub')
  const edge = await startEdge(t, { upstream: stub.url, proxy: 'trusted_proxies = ["127.0.0.1/32"]' })
  const kept = { for: '6.6.6.6, 127.0.0.1', proto: 'https', host: 'evil.example' }
  t.equal((await rawRequest(edge.gw.proxyUrl, 'POST', '/intents', JSON.stringify(signIntentV1(makeSigner())), SPOOFED)).status, 202)
  t.same(forwarded(stub.submissions().at(-1)), kept, 'a submission')
  t.equal((await rawRequest(edge.gw.proxyUrl, 'GET', '/other', undefined, SPOOFED)).status, 200)
  t.same(forwarded(stub.received.at(-1)), kept, 'a pass-through')
})

t.test('a trusted range that does not hold the peer trusts nothing', async (t) => {
  const stub = await startUpstream(t, '1.0', 'stub')
  const edge = await startEdge(t, { upstream: stub.url, proxy: 'trusted_proxies = ["10.0.0.0/8", "::1/128"]' })
  t.equal((await rawRequest(edge.gw.proxyUrl, 'GET', '/other', undefined, SPOOFED)).status, 200)
  t.same(forwarded(stub.received.at(-1)), { for: '127.0.0.1', proto: 'http', host: new URL(edge.gw.proxyUrl).host })
})

t.test('a trusted_proxies entry that is not an address or CIDR: no start, exit 2 naming the entry', async (t) => {
  const config = gatewayToml({ blue: 'http://127.0.0.1:1' }).replace('[proxy]\n', '[proxy]\ntrusted_proxies = ["10.0.0.0/8", "10.0.0.0/33"]\n')
  const p = await spawnServe(t, { config })
  t.same(await p.exited, { code: 2, signal: null })
  t.match(p.stderr(), /proxy\.trusted_proxies\[1\]: '10\.0\.0\.0\/33' is not an IPv4 or IPv6 address or CIDR/)
  t.equal(p.stdout(), '', 'nothing printed as listening')
})
