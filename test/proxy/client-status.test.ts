// The event stream of /.well-known/intent-gate/events over a real HTTP listener and the embedded store: the status
// on connect, an event on every change (pushed in-process the moment the flag is written), the comment line that
// keeps idle connections open, and streams ended when the proxy closes.
import http from 'node:http'
import t from 'tap'
import { EmbeddedStore } from '../../src/store/index.js'
import { NoticeWatcher } from '../../src/proxy/notice-watcher.js'
import { ClientStatusRoutes, clientStatus, type ClientStatus } from '../../src/proxy/client-status.js'
import type { UpgradeFlag } from '../../src/store/types.js'
import type { UpgradeNotice } from '../../src/notice/notice.js'
import { StreamLimit } from '../../src/http/stream-limit.js'

t.test('status on connect, an event per change, keep-alive comments, ended on close', async (t) => {
  const store = new EmbeddedStore()
  t.teardown(async () => { await store.close() })
  const notices = new NoticeWatcher(store, 1000, (err) => { throw err })
  notices.start()
  t.teardown(() => { notices.close() })
  // One stream per address: the test's second stream from 127.0.0.1 is past the cap.
  const limit = new StreamLimit(10, 1, 'proxy')
  const routes = new ClientStatusRoutes(notices, { holdSecs: 10, fallbackRetrySecs: 5, maxRetrySecs: 60, drainLeft: () => ({ kind: 'unknown', ms: 0 }), now: Date.now },
    limit, (req) => req.socket.remoteAddress ?? '', 100)
  routes.start()
  const server = http.createServer((req, res) => {
    if (!routes.handle(req, res)) { res.writeHead(404); res.end() }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  await new Promise((resolve) => setTimeout(resolve, 50)) // the watcher's first read

  const res = await fetch(`${url}/.well-known/intent-gate/events`)
  t.equal(res.headers.get('content-type'), 'text/event-stream')
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  let text = ''
  const until = async (pred: () => boolean): Promise<void> => {
    while (!pred()) {
      const { value, done } = await reader.read()
      if (done) return
      text += new TextDecoder().decode(value)
    }
  }
  const events = (): ClientStatus[] => text.split('\n\n').filter((b) => b.includes('event: status')).map((b) => JSON.parse((b.split('\n').find((l) => l.startsWith('data: ')) as string).slice(6)) as ClientStatus)
  await until(() => events().length >= 1)
  t.equal(events()[0]?.mode, 'accepting', 'the status on connect')

  const before = Date.now()
  await store.setUpgrade({ id: 'u1', phase: 'draining', resume_estimate_ms: Date.now() + 4200 })
  await until(() => events().length >= 2)
  t.ok(Date.now() - before < 100, 'the change arrives at once (the embedded store notifies in-process)')
  const holding = events()[1] as ClientStatus
  t.same({ ...holding, upgrade: { ...holding.upgrade, estimated_resume_at: null } }, {
    accepting: false,
    mode: 'holding',
    retry_after_secs: 5,
    drain: null,
    upgrade: { id: 'u1', state: 'draining', target_version: null, scheduled_at: null, estimated_resume_at: null }
  })
  await until(() => text.includes(': keep-alive'))
  t.pass('a comment line keeps the stream open')

  await store.setUpgrade(null)
  await until(() => events().length >= 3)
  t.equal(events()[2]?.mode, 'accepting', 'resumed')
  const plain = await (await fetch(`${url}/.well-known/intent-gate/status`)).json() as ClientStatus
  t.same(plain, events()[2], 'the JSON route says the same')
  t.equal((await fetch(`${url}/.well-known/intent-gate/status`, { method: 'POST' })).status, 405)

  const second = await fetch(`${url}/.well-known/intent-gate/events`)
  t.equal(second.status, 503, 'a second stream from the same address is past max_event_streams_per_peer')
  t.equal(second.headers.get('retry-after'), '10')
  t.equal(second.headers.get('content-type'), 'application/problem+json')
  t.match(await second.json(), { type: 'urn:intent-gate:problem:too-many-streams' })
  t.equal((await fetch(`${url}/.well-known/intent-gate/status`)).status, 200, 'the plain status still answers')

  t.equal(routes.size(), 1)
  routes.close()
  await until(() => false)
  t.equal(routes.size(), 0, 'closing ends every stream')
  t.equal(limit.size(), 0, 'and gives their slots back')
})

t.test('each step of an upgrade as the coordinator writes it (the notice, then the flag) reads as the mode it is', async (t) => {
  const options = { holdSecs: 10, fallbackRetrySecs: 5, maxRetrySecs: 60, drainLeft: () => ({ kind: 'unknown' as const, ms: 0 }), now: () => 1_000_000 }
  const notice = (state: string): UpgradeNotice => ({ id: 'u1', state, target_version: '2.0', scheduled_at_ms: null, resume_estimate_ms: null, verifying: null })
  const flag = (phase: string): UpgradeFlag => ({ id: 'u1', phase, resume_estimate_ms: 1_004_000 })
  const read = (n: UpgradeNotice | null, f: UpgradeFlag | null): [string, boolean] => {
    const s = clientStatus({ control: { drain: null, upgrade: f, active: 'blue', invalid: [] }, notice: n }, options)
    return [s.mode, s.accepting]
  }
  t.same([
    read(null, null),
    read(notice('scheduled'), null),
    read(notice('pre_checks'), null),
    read(notice('draining'), null), // the drain's notice is written, its flag not yet seen here
    read(notice('draining'), flag('draining')),
    read(notice('migrating'), flag('migrating')),
    read(notice('verifying'), null),
    read(notice('failed'), flag('failed')),
    read(notice('failed'), null) // an operator removed a failed upgrade's flag
  ], [
    ['accepting', true],
    ['scheduled', true],
    ['scheduled', true],
    ['scheduled', true],
    ['holding', false],
    ['holding', false],
    ['verifying', true],
    ['refusing', false],
    ['accepting', true]
  ])
})
