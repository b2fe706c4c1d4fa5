// Bad input answered as docs/specification.md section 3 says: oversized 413, not JSON 400 (neither reaches the upstream nor is
// registered), no token 401 on admin routes, and a bad configuration or a missing token env var refusing to
// start with exit status 2 and a message naming the key or variable.
import t from 'tap'
import { GATEWAY_BIN, gatewayToml, request, spawnNode, spawnServe, startGateway, startService } from '../helpers/gateway.js'

t.test('bad submissions never reach the upstream', async (t) => {
  const blue = await startService(t, { versions: '1.0' })
  // The embedded store (no [redis] url): a single instance needs no Redis.
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url, maxBodyBytes: 1024 }) })

  const big = await request(`${gw.proxyUrl}/intents`, { raw: JSON.stringify({ version: '1.0', pad: 'x'.repeat(4096) }) })
  t.equal(big.status, 413)
  t.equal(big.headers.get('content-type'), 'application/problem+json')
  t.equal(big.body.type, 'urn:intent-gate:problem:payload-too-large')

  const notJson = await request(`${gw.proxyUrl}/intents`, { raw: '{"version": "1.0", ' })
  t.equal(notJson.status, 400)
  t.equal(notJson.headers.get('content-type'), 'application/problem+json')
  t.type(notJson.body.request_id, 'string')

  const invalid = await request(`${gw.proxyUrl}/intents`, { body: { version: '1.0', user: 42 } })
  t.equal(invalid.status, 400)
  t.ok(Array.isArray(invalid.body.errors) && invalid.body.errors.some((e: { field: string }) => e.field === '/user'), 'the failing field is named')

  t.equal((await blue.stats()).accepted, 0, 'nothing reached the upstream')
  const status = await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')
  t.equal(status.body.inflight_settlements, 0, 'nothing was registered')
})

t.test('admin routes need the token; health routes are open', async (t) => {
  const blue = await startService(t, { versions: '1.0' })
  const gw = await startGateway(t, { config: gatewayToml({ blue: blue.url }) })
  for (const route of ['/admin/drain/status', '/admin/inflight', '/admin/upstreams', '/admin/versions']) {
    const res = await fetch(`${gw.adminUrl}${route}`)
    t.equal(res.status, 401, `${route} without a token`)
    t.equal(res.headers.get('content-type'), 'application/problem+json')
    const wrong = await fetch(`${gw.adminUrl}${route}`, { headers: { authorization: 'Bearer nope' } })
    t.equal(wrong.status, 401, `${route} with a wrong token`)
  }
  const drain = await fetch(`${gw.adminUrl}/admin/drain/start`, { method: 'POST' })
  t.equal(drain.status, 401)
  t.equal((await gw.admin('GET', '/admin/drain/status')).status, 200, 'the right token passes')
  t.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200)
  t.equal((await fetch(`${gw.adminUrl}/readyz`)).status, 200)
  t.match(await (await fetch(`${gw.adminUrl}/metrics`)).text(), /# TYPE inflight_settlements gauge/)
})

t.test('a bad configuration refuses to start with exit 2 naming every bad key', async (t) => {
  const config = gatewayToml({ blue: 'http://127.0.0.1:1' }).replace('[proxy]\n', '[proxy]\nupstream_timeout_ms = "big"\nlisten_backlog = 5\n')
  const p = await spawnServe(t, { config })
  t.same(await p.exited, { code: 2, signal: null })
  t.match(p.stderr(), /proxy\.upstream_timeout_ms/)
  t.match(p.stderr(), /proxy\.listen_backlog: unknown key/)
  t.equal(p.stdout(), '', 'nothing printed as listening')
})

t.test('a bad environment override names the key and the variable', async (t) => {
  const p = await spawnServe(t, { config: gatewayToml({ blue: 'http://127.0.0.1:1' }), env: { INTENT_GATE_PROXY_SHUTDOWN_GRACE_SECS: 'soon' } })
  t.same(await p.exited, { code: 2, signal: null })
  t.match(p.stderr(), /proxy\.shutdown_grace_secs.*INTENT_GATE_PROXY_SHUTDOWN_GRACE_SECS/)
})

t.test('an unknown INTENT_GATE_* variable (a misspelt key) refuses to start, naming it and the key it resembles', async (t) => {
  const p = await spawnServe(t, {
    config: gatewayToml({ blue: 'http://127.0.0.1:1' }),
    env: { INTENT_GATE_REDIS_NAMESPCE: 'x', INTENT_GATE_PROXY_LISTN: '0.0.0.0:80', INTENT_GATE_ADMIN_URL: 'http://127.0.0.1:9090', INTENT_GATE_SIGNER_MNEMONIC: 'not read without a chain' }
  })
  t.same(await p.exited, { code: 2, signal: null })
  t.match(p.stderr(), /INTENT_GATE_PROXY_LISTN: unknown environment variable .*did you mean INTENT_GATE_PROXY_LISTEN\?/)
  t.match(p.stderr(), /INTENT_GATE_REDIS_NAMESPCE: unknown environment variable .*did you mean INTENT_GATE_REDIS_NAMESPACE\?/)
  t.notMatch(p.stderr(), /INTENT_GATE_ADMIN_URL|INTENT_GATE_SIGNER_MNEMONIC/, 'variables that are not keys but are read are fine')
  t.equal(p.stdout(), '', 'nothing printed as listening')

  // The CLI refuses it too, before calling anything.
  const cli = spawnNode([GATEWAY_BIN, 'drain', 'status', '--admin', 'http://127.0.0.1:1'], { INTENT_GATE_ADMIN_TOKEN: 'x', INTENT_GATE_ADMIN_URl: 'http://127.0.0.1:1' })
  t.same(await cli.exited, { code: 2, signal: null })
  t.match(cli.stderr(), /INTENT_GATE_ADMIN_URl: unknown environment variable .*did you mean INTENT_GATE_ADMIN_URL\?/)
})

t.test('an unknown health check name: no start, the key and the known names said', async (t) => {
  const config = gatewayToml({ blue: 'http://127.0.0.1:1' }) + '\n[health_checks]\npre_checks = ["settlement_stor"]\n'
  const p = await spawnServe(t, { config })
  t.same(await p.exited, { code: 2, signal: null })
  t.match(p.stderr(), /health_checks\.pre_checks: unknown health check 'settlement_stor' \(known: settlement_store, ibc_relayer/)
  t.equal(p.stdout(), '', 'nothing printed as listening')
})

t.test('no admin token in the environment: no start', async (t) => {
  const p = await spawnServe(t, { config: gatewayToml({ blue: 'http://127.0.0.1:1' }), env: { INTENT_GATE_ADMIN_TOKEN: undefined } })
  t.same(await p.exited, { code: 2, signal: null })
  t.match(p.stderr(), /INTENT_GATE_ADMIN_TOKEN/)

  const renamed = gatewayToml({ blue: 'http://127.0.0.1:1' }).replace('[admin]\n', '[admin]\ntoken_env = "MY_GATEWAY_TOKEN"\n')
  const q = await spawnServe(t, { config: renamed })
  t.same(await q.exited, { code: 2, signal: null })
  t.match(q.stderr(), /MY_GATEWAY_TOKEN/, 'names the variable admin.token_env points at')
})

t.test('a missing configuration file is a configuration error', async (t) => {
  const p = await spawnServe(t, { config: '' })
  const q = spawnNode([GATEWAY_BIN, 'serve', '--config', '/nonexistent/intent-gate.toml'], { INTENT_GATE_ADMIN_TOKEN: 'x' })
  t.same(await q.exited, { code: 2, signal: null })
  t.match(q.stderr(), /\/nonexistent\/intent-gate\.toml/)
  t.same(await p.exited, { code: 2, signal: null }, 'an empty file lacks the required upstreams')
  t.match(p.stderr(), /upstreams/)
})
