// The admin listener itself: bearer auth on /admin/* only, problem+json errors (401, 404, 405, 400 naming
// fields, 413), JSON in and out, and the token never written to the log.
import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from '../../src/log.js'
import { Type } from '@sinclair/typebox'
import { createAdminServer, route } from '../../src/admin/server.js'

const TOKEN = 's3cret-token-for-admin'

async function start (t: Test): Promise<{ url: string, logs: () => string }> {
  let logs = ''
  const destination = new Writable({ write (chunk, _enc, cb) { logs += String(chunk); cb() } })
  const logger = createLogger({ level: 'debug', destination })
  const admin = createAdminServer({ listen: '127.0.0.1:0', token: TOKEN, logger, maxBodyBytes: 1024 })
  admin.register({
    name: 'test',
    routes: [
      { method: 'GET', path: '/healthz', handler: () => ({ body: { status: 'ok' } }) },
      route({
        method: 'POST',
        path: '/admin/things/:id',
        schema: {
          summary: 'a test route with a body schema',
          body: Type.Object({ n: Type.Integer({ minimum: 1 }), name: Type.Optional(Type.String()) }, { additionalProperties: false })
        },
        handler: (req) => {
          const { n, name } = req.body
          logger.info({ headers: { authorization: `Bearer ${TOKEN}` }, token: TOKEN }, 'a handler that logs carelessly')
          return { status: 201, body: { id: req.params.id, n, name } }
        }
      }),
      { method: 'GET', path: '/admin/things/:id', handler: (req) => ({ body: { id: req.params.id } }) },
      { method: 'GET', path: '/admin/boom', handler: () => { throw new Error('internal detail that must not leak') } }
    ]
  })
  await admin.listen()
  t.teardown(admin.close)
  return { url: admin.url(), logs: () => logs }
}

async function call (
  url: string,
  init: RequestInit & { token?: string | null } = {}
): Promise<{ status: number, body: any, headers: Headers }> {
  const headers = new Headers(init.headers)
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? TOKEN}`)
  const res = await fetch(url, { ...init, headers })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers }
}

t.test('admin routes need the bearer token; open routes do not', async (t) => {
  const { url } = await start(t)
  const none = await call(`${url}/admin/things/a`, { token: null })
  t.equal(none.status, 401)
  t.equal(none.headers.get('content-type'), 'application/problem+json')
  t.equal(none.body.type, 'urn:intent-gate:problem:unauthorized')
  t.match(none.headers.get('www-authenticate'), /^Bearer/)
  t.type(none.body.request_id, 'string')
  t.equal((await call(`${url}/admin/things/a`, { token: 'wrong' })).status, 401)
  t.equal((await call(`${url}/admin/things/a`, { token: TOKEN + 'x' })).status, 401, 'a longer token is refused too')
  t.equal((await call(`${url}/admin/nothing-here`, { token: null })).status, 401, 'unknown admin paths do not reveal themselves')
  const ok = await call(`${url}/admin/things/a%20b`)
  t.equal(ok.status, 200)
  t.same(ok.body, { id: 'a b' })
  t.equal((await call(`${url}/healthz`, { token: null })).status, 200)
})

t.test('bad requests are problem+json naming what is wrong', async (t) => {
  const { url } = await start(t)
  const post = async (body: string): Promise<{ status: number, body: any }> =>
    await call(`${url}/admin/things/x`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })

  const notJson = await post('{"n": ')
  t.equal(notJson.status, 400)
  t.equal(notJson.body.type, 'urn:intent-gate:problem:invalid-request')

  const bad = await post(JSON.stringify({ n: 0, name: 7, extra: true }))
  t.equal(bad.status, 400)
  t.same(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['/extra', '/n', '/name'])
  t.match(bad.body.detail, /n: must be at least 1/)

  const missing = await post('{}')
  t.same(missing.body.errors, [{ field: '/n', message: 'is required' }])

  t.equal((await post('[1]')).status, 400, 'an array is not an object')
  t.equal((await post(JSON.stringify({ n: 1, name: 'x'.repeat(2000) }))).status, 413)

  const created = await post(JSON.stringify({ n: 2, name: 'ok' }))
  t.equal(created.status, 201)
  t.same(created.body, { id: 'x', n: 2, name: 'ok' })
})

t.test('unknown routes are 404 and wrong methods 405 with Allow', async (t) => {
  const { url } = await start(t)
  const missing = await call(`${url}/admin/nope`)
  t.equal(missing.status, 404)
  t.equal(missing.body.type, 'urn:intent-gate:problem:not-found')
  const wrong = await call(`${url}/admin/things/a`, { method: 'DELETE' })
  t.equal(wrong.status, 405)
  t.equal(wrong.headers.get('allow'), 'POST, GET')
})

t.test('an internal failure is a 500 that hides its detail, and the token never reaches the log', async (t) => {
  const { url, logs } = await start(t)
  const boom = await call(`${url}/admin/boom`)
  t.equal(boom.status, 500)
  t.notMatch(boom.body.detail, /internal detail/)
  t.match(logs(), /internal detail that must not leak/, 'logged for the operator')
  await call(`${url}/admin/things/x`, { method: 'POST', body: '{"n":1}' })
  t.match(logs(), /a handler that logs carelessly/)
  t.notOk(logs().includes(TOKEN), 'the token is redacted')
})
