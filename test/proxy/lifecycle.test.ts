/**
 * The proxy's life around the requests: upstream health checks and their thresholds, graceful close (open
 * exchanges finish, idle keep-alive connections close, the grace period is a hard limit), the run-time versions
 * policy, and an `active` value naming an upstream that is not configured.
 */
import net from 'node:net'
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { ConfigError } from '../../src/errors.js'
import { call, startGateway, waitFor } from './harness.js'
import { startUpstream } from './upstream.js'

t.test('active health checks: thresholds, last check, versions', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { proxy } = await startGateway(t, { blue })
  const upstream = proxy.upstreams.get('blue')!
  await waitFor(() => upstream.state().status === 'healthy')
  const healthy = proxy.upstreams.states()[0]!
  t.match(healthy, { color: 'blue', url: blue.url, versions: ['2.0'], healthy: true, last_error: null })
  t.type(healthy.last_check_at_ms, 'number')

  blue.setUnhealthy(true)
  const first = await upstream.check()
  // unhealthy_threshold = 2 in the test configuration: one failure is not enough (unless the timer ran one too).
  t.ok(first.consecutive_failures >= 1)
  await waitFor(() => upstream.state().status === 'unhealthy')
  t.equal(upstream.state().last_error, 'status 503')
  t.equal(upstream.state().healthy, false)

  blue.setUnhealthy(false)
  await waitFor(() => upstream.state().status === 'healthy')
  t.pass('healthy again after healthy_threshold successes')
})

t.test('close(): open exchanges finish, idle keep-alive connections close, new connections are refused', async (t) => {
  const blue = await startUpstream(t, '2.0')
  blue.delaySubmissions(300)
  const { proxy, client, store, url } = await startGateway(t, { blue })
  const { port } = new URL(url)

  // An idle keep-alive connection: one exchange, then nothing.
  const idle = net.connect(Number(port), '127.0.0.1')
  t.teardown(() => idle.destroy())
  await new Promise<void>((resolve) => {
    idle.write('GET /idle HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n')
    idle.once('data', () => resolve())
  })
  const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()))

  const submission = call(client, 'POST', '/intents', signIntentV2(makeSigner()))
  await blue.waitForRequest('/intents')
  const closing = proxy.close()
  await idleClosed
  t.pass('the idle keep-alive connection was closed')

  const answer = await submission
  t.equal(answer.status, 202, 'the open exchange finished')
  t.ok(await store.inflightById(answer.json.intent_id), 'and its record was bound before close() returned')
  await closing
  await t.rejects(new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(null) })
    s.once('error', reject)
  }), { code: 'ECONNREFUSED' }, 'no new connections')
})

t.test('close(): the grace period ends exchanges that do not finish', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { proxy, client } = await startGateway(t, { blue, proxy: { shutdown_grace_secs: 1 } })
  const hanging = client.request({ method: 'GET', path: '/hang' }).then(() => null, (err: Error) => err)
  await blue.waitForRequest('/hang')
  const started = Date.now()
  await proxy.close()
  const took = Date.now() - started
  t.ok(took >= 900 && took < 8000, `close() waited for the grace period (${took} ms)`)
  t.type(await hanging, Error, 'the hanging exchange was cut')
})

t.test('the versions policy changes at run time and refuses what cannot be used', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { proxy, client } = await startGateway(t, { blue })
  t.equal((await call(client, 'POST', '/intents', signIntentV1(makeSigner()))).status, 202)

  proxy.setVersionsPolicy({ accepted: ['2.0'], default: '2.0', deprecated: {} })
  const refused = await call(client, 'POST', '/intents', signIntentV1(makeSigner()))
  t.equal(refused.status, 400)
  t.equal(refused.json.type, 'urn:intent-gate:problem:version-unsupported')
  t.same(refused.json.accepted, ['2.0'])
  t.equal((await call(client, 'POST', '/intents', signIntentV2(makeSigner()))).status, 202)

  t.throws(() => proxy.setVersionsPolicy({ accepted: ['9.9'], default: '2.0', deprecated: {} }), ConfigError)
  try {
    proxy.setVersionsPolicy({ accepted: ['2.0'], default: '2.0', deprecated: { '2.0': { since: 'yesterday', sunset: '2027-01-01T00:00:00Z', link: 'https://x' } } })
  } catch (err) {
    t.match((err as ConfigError).problems, [/versions\.deprecated\."2\.0"\.since/])
  }
  t.same(proxy.versionsPolicy().accepted, ['2.0'], 'a refused policy changes nothing')
})

t.test('an active color without an upstream section is ignored and reported; the last good one stays', async (t) => {
  const blue = await startUpstream(t, '2.0')
  const { proxy, client, store, logs } = await startGateway(t, { blue })
  await store.setActive('green')
  await waitFor(() => proxy.controlState()?.active === 'green')
  t.equal(proxy.activeColor(), 'blue')
  t.ok(logs.some((l) => l.level === 40 && /no such upstream/.test(l.msg)), 'reported in the log')
  t.equal((await call(client, 'POST', '/intents', signIntentV2(makeSigner()))).status, 202)
  t.equal(blue.submissions().length, 1)
})
