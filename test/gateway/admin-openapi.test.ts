// GET /admin/openapi.json of a running gateway: a valid OpenAPI 3.1 document (checked against the OpenAPI
// schemas), describing every admin route with its schemas; docs/admin-api.md names exactly the routes the
// gateway serves; the live answers match their documented response schemas; and the Host rule of docs/specification.md
// section 5 (admin routes and the status page only under this listener's names, probes under any).
import t from 'tap'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { gatewayToml, startGateway, startService, TEST_TOKEN } from '../helpers/gateway.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const METHODS = ['get', 'post', 'put', 'delete'] as const

interface Operation {
  summary?: string
  security?: unknown[]
  requestBody?: unknown
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>
}
type Doc = {
  openapi: string
  paths: Record<string, Partial<Record<typeof METHODS[number], Operation>>>
  components: Record<string, unknown>
}

/** `GET /admin/inflight/<id>/complete` in the docs, `{id}` in OpenAPI, `:id` in routes: one spelling. */
const normal = (method: string, p: string): string => `${method.toUpperCase()} ${p.replace(/<([a-z_]+)>|:([a-z_]+)|\{([a-z_]+)\}/g, '{$1$2$3}')}`

t.test('the admin API\'s OpenAPI document', async (t) => {
  const blue = await startService(t, { versions: '1.0' })
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url, extra: '' }) })
  const res = await fetch(`${gw.adminUrl}/admin/openapi.json`)
  t.equal(res.status, 200, 'open: no token needed')
  t.match(res.headers.get('content-type'), /^application\/json/)
  const doc = await res.json() as Doc

  t.test('is a valid OpenAPI 3.1 document', async (t) => {
    const validator = new Validator()
    const result = await validator.validate(structuredClone(doc))
    t.ok(result.valid, JSON.stringify(result.errors, null, 1)?.slice(0, 2000))
    t.equal(validator.version, '3.1')
    // A broken copy is refused: the validation is not a formality.
    const broken = structuredClone(doc) as unknown as Record<string, unknown>
    delete broken.info
    t.notOk((await new Validator().validate(broken)).valid)
  })

  const operations = Object.entries(doc.paths).flatMap(([p, ops]) => METHODS
    .filter((m) => ops[m] !== undefined)
    .map((m) => ({ key: normal(m, p), path: p, method: m, op: ops[m] as Operation })))

  t.test('describes every route with a summary, its answers, and the bearer token on /admin/*', async (t) => {
    t.ok(operations.length >= 18, `${operations.length} operations`)
    for (const { key, path: p, op } of operations) {
      t.ok(op.summary !== undefined && op.summary.length > 10, `${key} has a summary`)
      t.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${key} documents its success`)
      if (p.startsWith('/admin/')) {
        t.same(op.security, [{ bearer: [] }], `${key} needs the token`)
        t.ok(op.responses['4XX'] !== undefined, `${key} documents its problem answers`)
      }
    }
    const start = doc.paths['/admin/drain/start']?.post
    t.ok(start?.requestBody !== undefined, 'request bodies are described')
    // Client generators name their methods after operationIds: every operation has one, each different.
    const ids = operations.map(({ op }) => (op as { operationId?: string }).operationId)
    t.ok(ids.every((id) => typeof id === 'string' && /^[a-z]+[A-Za-z0-9]*$/.test(id)), 'every operation has an operationId')
    t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
    t.equal((doc.paths['/admin/drain/status']?.get as { operationId?: string }).operationId, 'getDrainStatus')
    const upgrade = JSON.stringify((doc.paths['/admin/upgrade/start']?.post as { requestBody?: unknown }).requestBody)
    for (const field of ['force_contract_version', 'force', 'reason', 'rollback']) t.match(upgrade, `"${field}"`, `upgrade start documents ${field}`)
  })

  t.test('docs/admin-api.md names exactly the routes the gateway serves', async (t) => {
    const md = readFileSync(path.join(ROOT, 'docs/admin-api.md'), 'utf8')
    const documented = new Set([...md.matchAll(/`(GET|POST|PUT|DELETE) (\/[^`\s[?]*)/g)].map((m) => normal(m[1] as string, m[2] as string)))
    const served = new Set([...operations.map((o) => o.key), 'GET /admin/openapi.json'])
    t.same([...served].filter((r) => !documented.has(r)).sort(), [], 'served but not in docs/admin-api.md')
    t.same([...documented].filter((r) => !served.has(r)).sort(), [], 'in docs/admin-api.md but not served')
  })

  t.test('live answers match their documented schemas', async (t) => {
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    ajv.addSchema({ ...doc, $id: 'doc' } as never)
    const pointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1')
    const simpleGets = operations.filter((o) => o.method === 'get' && !o.path.includes('{') && o.path.startsWith('/admin/'))
    t.ok(simpleGets.length >= 7)
    for (const o of simpleGets) {
      const answer = await gw.admin('GET', o.path)
      const schema = o.op.responses[String(answer.status)]?.content?.['application/json']?.schema
      t.ok(schema !== undefined, `${o.key} answered ${answer.status}, a documented status`)
      if (schema === undefined) continue
      const check = ajv.compile({ $ref: `doc#/paths/${pointer(o.path)}/get/responses/${answer.status}/content/application~1json/schema` })
      t.ok(check(answer.body), `${o.key}: ${JSON.stringify(check.errors)}`)
    }
    // A refusal is the documented problem shape.
    const bad = await gw.admin<any>('POST', '/admin/drain/start', { deadline_secs: 0, extra: 1 })
    t.equal(bad.status, 400)
    const problem = ajv.compile({ $ref: 'doc#/paths/~1admin~1drain~1start/post/responses/4XX/content/application~1json/schema' })
    t.ok(problem(bad.body), JSON.stringify(problem.errors))
    t.equal(bad.body.type, 'urn:intent-gate:problem:invalid-request')
    t.same([...bad.body.errors].sort((a: { field: string }, b: { field: string }) => a.field.localeCompare(b.field)), [
      { field: '/deadline_secs', message: 'must be at least 1' },
      { field: '/extra', message: 'unknown field (known: deadline_secs, reason)' }
    ])
    // The upgrade request is checked by the schema the document shows: a bad field is named, nothing starts.
    const upgrade = await gw.admin<any>('POST', '/admin/upgrade/start', { target_version: '2.0', force_contract_version: 'yes' })
    t.equal(upgrade.status, 400)
    const upgradeProblem = ajv.compile({ $ref: 'doc#/paths/~1admin~1upgrade~1start/post/responses/4XX/content/application~1json/schema' })
    t.ok(upgradeProblem(upgrade.body), JSON.stringify(upgradeProblem.errors))
    t.equal(upgrade.body.type, 'urn:intent-gate:problem:invalid-request')
    t.same(upgrade.body.errors, [{ field: '/force_contract_version', message: 'must be true or false' }])
    t.equal(upgrade.body.detail, 'force_contract_version: must be true or false')
    t.equal((await gw.admin<{ state: string }>('GET', '/admin/upgrade/status')).body.state, 'idle', 'nothing started')
    // A color the schema knows but this gateway has no upstream for: the same 400, naming the field.
    const noGreen = await gw.admin<any>('POST', '/admin/upstreams/active', { color: 'green' })
    t.equal(noGreen.status, 400)
    t.equal(noGreen.body.type, 'urn:intent-gate:problem:invalid-request')
    t.same(noGreen.body.errors, [{ field: '/color', message: 'no [upstreams.green] section is configured' }])
    t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue', 'nothing swapped')
  })
})

t.test('the Host rule: /admin/* and /status only under this listener\'s names; probes under any', async (t) => {
  const blue = await startService(t, { versions: '1.0' })
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url, extra: '' }), env: { INTENT_GATE_ADMIN_ALLOWED_HOSTS: '["gateway.internal"]' } })
  const port = new URL(gw.adminUrl).port
  const auth = { authorization: `Bearer ${TEST_TOKEN}` }
  // fetch() may not set Host (a forbidden header name): node:http sends it as given.
  const get = async (host: string, route: string): Promise<{ status: number, body: any }> => await new Promise((resolve, reject) => {
    const req = http.get(`${gw.adminUrl}${route}`, { headers: { ...auth, host }, setHost: false }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => { text += d.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: res.headers['content-type']?.includes('json') === true ? JSON.parse(text) : text }) })
    })
    req.on('error', reject)
  })
  const as = async (host: string, route: string): Promise<number> => (await get(host, route)).status
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'gateway.internal', `GATEWAY.internal:${port}`]) {
    t.equal(await as(host, '/admin/drain/status'), 200, `${host} may use the admin API`)
  }
  for (const host of [`evil.example:${port}`, 'rebind.attacker.test', `10.1.2.3:${port}`, '']) {
    const r = await get(host, '/admin/drain/status')
    t.equal(r.status, 403, `Host '${host}' is refused`)
    t.equal(r.body.type, 'urn:intent-gate:problem:host-not-allowed')
    t.equal(await as(host, '/admin/openapi.json'), 403, 'the open document too')
  }
  for (const route of ['/healthz', '/readyz', '/metrics']) {
    t.equal(await as(`10.1.2.3:${port}`, route), 200, `${route} answers the pod's address`)
  }
})
