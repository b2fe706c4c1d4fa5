// Attack: a target that only looks like the intent path (a trailing slash, doubled slashes, `;` parameters,
// percent-encoding, dot segments) or is not in origin form (`POST http://host/intents`, `*`) used to pass
// straight through to the upstream, past the drain, validation and accounting. Each is 400
// invalid-request-target on every method, and the upstream (a stub recording all it receives) never sees it.
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { startUpstream } from '../proxy/upstream.js'
import { rawRequest, startEdge } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

const LOOK_ALIKES = [
  '/intents/', '//intents', '/intents//', '/intents;v=1', '/%69ntents', '/%2569ntents', '/intents%2F', '/./intents',
  '/x/../intents', '/intents/.', '//intents/abc', '/intents/abc/', '/intents/abc;x=1', '/intents/./abc', '/intents/%2e%2e/intents'
]

t.test('look-alikes and non-origin targets are refused and never passed through', async (t) => {
  const stub = await startUpstream(t, '1.0', 'stub')
  const edge = await startEdge(t, { upstream: stub.url })
  const { host } = new URL(edge.gw.proxyUrl)
  const body = JSON.stringify(signIntentV1(makeSigner()))
  const targets = [...LOOK_ALIKES, `http://${host}/intents`, 'http://evil.example/intents', `http://${host}/other`, `HTTP://${host}/intents/abc`]

  for (const target of targets) {
    for (const method of ['POST', 'GET', 'PUT', 'DELETE']) {
      const answer = await rawRequest(edge.gw.proxyUrl, method, target, method === 'POST' || method === 'PUT' ? body : undefined)
      t.equal(answer.status, 400, `${method} ${target}`)
      t.equal(JSON.parse(answer.body).type, 'urn:intent-gate:problem:invalid-request-target', `${method} ${target}: its problem type`)
    }
  }
  const asterisk = await rawRequest(edge.gw.proxyUrl, 'OPTIONS', '*')
  t.equal(asterisk.status, 400, 'OPTIONS * (asterisk form)')
  t.same(stub.received.map((r) => `${r.method} ${r.url}`), [], 'the upstream saw none of them')

  // The canonical routes and unrelated paths still work.
  const submitted = await rawRequest(edge.gw.proxyUrl, 'POST', '/intents', body)
  t.equal(submitted.status, 202)
  const id = JSON.parse(submitted.body).id as string
  t.equal((await rawRequest(edge.gw.proxyUrl, 'GET', `/intents/${id}`)).status, 200)
  t.equal((await rawRequest(edge.gw.proxyUrl, 'GET', '/intents-archive?x=1')).status, 200, 'a different path passes through')
  t.same(stub.received.map((r) => `${r.method} ${r.url}`), ['POST /intents', `GET /intents/${id}`, 'GET /intents-archive?x=1'])
})
