// Attacks 2 and 5 of issue 24: event streams that cost the gateway per reader. Many anonymous `/status/events`
// readers share one snapshot per interval (every reader gets the same snapshot, so the same `at`); the anonymous
// view carries no upstream URL, error text, upgrade history or checkpoints, the token's view does; both ports cap
// their streams overall and per client address with 503 + Retry-After, while honest submissions, the health
// probe and a plain status read are served beside the full set of streams.
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { gatewayToml, metricValue, request, startGateway, startService, TEST_TOKEN } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'

t.setTimeout(360_000)

interface Stream { events: Array<{ name: string, data: any }>, close: () => void, status: number, headers: Headers }

/** Opens an SSE stream with fetch and collects its events until closed. */
async function open (url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const abort = new AbortController()
  const res = await fetch(url, { headers, signal: abort.signal })
  const events: Stream['events'] = []
  if (res.ok && res.body !== null) {
    ;(async () => {
      let buffer = ''
      const decoder = new TextDecoder()
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk)
        let end
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const name = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (name !== undefined && data !== undefined) events.push({ name, data: JSON.parse(data) })
        }
      }
    })().catch(() => {})
  } else {
    await res.text()
  }
  return { events, close: () => abort.abort(), status: res.status, headers: res.headers }
}

const until = async (what: string, pred: () => boolean, ms = 30_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('status page streams: one shared snapshot, a public view, caps on both ports', async (t) => {
  const redis = await startRedis(t)
  const service = await startService(t, { versions: '1.0', settleMs: 600_000 })
  let config = gatewayToml({ redisUrl: redis.url, blue: service.url })
  config = config.replace('[admin]\n', '[admin]\nmax_event_streams = 24\nmax_event_streams_per_peer = 24\n')
  config = config.replace('[proxy]\n', '[proxy]\nmax_event_streams = 30\nmax_event_streams_per_peer = 5\n')
  const gw = await startGateway(t, { config })
  const streams: Stream[] = []
  t.teardown(() => { for (const s of streams) s.close() })

  // 23 anonymous readers and one with the token: the admin port's cap of 24.
  for (let i = 0; i < 23; i++) streams.push(await open(`${gw.adminUrl}/status/events`))
  const operator = await open(`${gw.adminUrl}/status/events`, { authorization: `Bearer ${TEST_TOKEN}` })
  streams.push(operator)
  t.ok(streams.every((s) => s.status === 200), 'all 24 streams open')
  const snapshots = (s: Stream): any[] => s.events.filter((e) => e.name === 'snapshot').map((e) => e.data)
  await until('three snapshots on every stream', () => streams.every((s) => snapshots(s).length >= 3))
  const ats = new Set(streams.flatMap((s) => snapshots(s).slice(0, 3).map((x) => x.at)))
  // Built per reader, 24 streams x 3 snapshots would be ~72 distinct times; shared, one per interval (a reader
  // that joined while a snapshot was out gets that one first, so a few more than 3 at most).
  t.ok(ats.size <= 6, `24 readers saw ${ats.size} distinct snapshots in their first three each`)

  const anonymous = snapshots(streams[0] as Stream)[0]
  t.equal(anonymous.full, false)
  t.equal(anonymous.history, null, 'no upgrade history without the token')
  t.equal(anonymous.checkpoints, null, 'no checkpoints without the token')
  t.equal(anonymous.upstreams.upstreams[0].color, 'blue')
  t.equal(anonymous.upstreams.upstreams[0].health, 'healthy')
  t.notOk('url' in anonymous.upstreams.upstreams[0], 'no upstream URL without the token')
  t.notOk('last_error' in anonymous.upstreams.upstreams[0], 'no upstream error text without the token')
  t.notOk(JSON.stringify(anonymous).includes(service.url), 'the service address appears nowhere')
  const full = snapshots(operator)[0]
  t.equal(full.upstreams.upstreams[0].url, service.url, 'the token shows the upstream URL')
  t.ok(full.history !== null && full.checkpoints !== null, 'and the history and checkpoints')

  const refused = await fetch(`${gw.adminUrl}/status/events`)
  t.equal(refused.status, 503, 'the 25th stream is past [admin] max_event_streams')
  t.equal(refused.headers.get('retry-after'), '10')
  t.match(await refused.json(), { type: 'urn:intent-gate:problem:too-many-streams', status: 503 })

  // Honest work beside the full set of streams.
  t.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200, 'the health probe answers')
  const submitted = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(submitted.status, 202, 'a submission is served')

  // The proxy port: 5 streams per address (all of this test's come from 127.0.0.1).
  const clientStreams: Stream[] = []
  for (let i = 0; i < 5; i++) clientStreams.push(await open(`${gw.proxyUrl}/.well-known/intent-gate/events`))
  streams.push(...clientStreams)
  t.ok(clientStreams.every((s) => s.status === 200))
  const sixth = await fetch(`${gw.proxyUrl}/.well-known/intent-gate/events`)
  t.equal(sixth.status, 503, 'a sixth stream from one address is past max_event_streams_per_peer')
  t.equal(sixth.headers.get('retry-after'), '10')
  t.match(await sixth.json(), { type: 'urn:intent-gate:problem:too-many-streams' })
  t.equal((await fetch(`${gw.proxyUrl}/.well-known/intent-gate/status`)).status, 200, 'the plain status read still answers')

  // A slot comes back when a stream closes.
  // The close reaches the gateway a moment later: ask again until it has (each refusal is another 503).
  clientStreams[0]?.close()
  let reopened = await open(`${gw.proxyUrl}/.well-known/intent-gate/events`)
  for (let i = 0; i < 100 && reopened.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    reopened = await open(`${gw.proxyUrl}/.well-known/intent-gate/events`)
  }
  streams.push(reopened)
  t.equal(reopened.status, 200, 'once one closes, a new stream is admitted')

  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.equal(metricValue(metrics, 'intent_gate_stream_refusals_total', 'port="admin"'), 1, 'refusals counted per port')
  t.ok((metricValue(metrics, 'intent_gate_stream_refusals_total', 'port="proxy"') ?? 0) >= 1)
  t.equal(metricValue(metrics, 'intent_gate_event_streams', 'port="admin"'), 24)
})
