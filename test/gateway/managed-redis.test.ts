// Managed Redis (issue 12): a gateway process on a Redis that speaks only TLS, with a CA of the test's own and one
// ACL user (the default user is off). The user comes from the rediss:// URL, the CA from redis.tls_ca_file, the
// password from the env var named by redis.password_env. Intents are served and counted in that Redis, and no
// line the gateway writes (at debug level) holds the password; a wrong password fails closed without logging it.
import t from 'tap'
import { startTlsRedis } from '../helpers/redis-tls.js'
import { gatewayToml, request, spawnServe, startGateway, startService } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { StoreUnavailableError } from '../../src/errors.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { record } from '../store/conformance.js'

const PASSWORD_ENV = 'IG_TEST_REDIS_PASSWORD'

function tlsConfig (url: string, caFile: string, blue: string): string {
  return gatewayToml({ blue, reconcileIntervalMs: 600_000 })
    .replace('[redis]\n', `[redis]\nurl = "${url}"\ntls_ca_file = "${caFile}"\npassword_env = "${PASSWORD_ENV}"\n`)
    .replace('level = "warn"', 'level = "debug"')
}

t.test('TLS, an ACL user and a password from the environment: intents served, the password never logged', async (t) => {
  const redis = await startTlsRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = tlsConfig(`rediss://${redis.user}@127.0.0.1:${redis.port}`, redis.caFile, blue.url)
  const gw = await startGateway(t, { config, env: { [PASSWORD_ENV]: redis.password } })

  const signer = makeSigner()
  const answers = await Promise.all(Array.from({ length: 20 }, async () => await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })))
  t.same([...new Set(answers.map((a) => a.status))], [202], 'every intent admitted')
  t.equal(await redis.cli('HLEN', 'intent-gate:{default}:inflight'), '20', 'counted in the TLS Redis')
  t.equal((await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 20)
  t.equal((await gw.admin('GET', '/readyz')).status, 200)
  const clients = await redis.cli('CLIENT', 'LIST')
  t.match(clients, new RegExp(`user=${redis.user} `), 'the gateway is connected as the ACL user')

  t.same(await gw.stop('SIGTERM'), { code: 0, signal: null })
  const logged = gw.stdout() + gw.stderr()
  t.ok(logged.length > 0, 'the gateway logged something')
  t.notOk(logged.includes(redis.password), 'no log line holds the password')
})

t.test('a wrong password: the store fails closed, and neither password reaches its log or its errors', async (t) => {
  const redis = await startTlsRedis(t)
  const wrong = `wrong-${redis.password}`
  const lines: string[] = []
  const logger = {
    info: (o: object, m: string) => lines.push(JSON.stringify(o) + m),
    warn: (o: object, m: string) => lines.push(JSON.stringify(o) + m),
    error: (o: object, m: string) => lines.push(JSON.stringify(o) + m)
  }
  const url = `rediss://${redis.user}@127.0.0.1:${redis.port}`
  const config = { url, namespace: 'default', tls_ca_file: redis.caFile, password_env: PASSWORD_ENV, poll_interval_ms: 100, command_timeout_ms: 500 }
  const store = new RedisStore(config, { logger, env: { [PASSWORD_ENV]: wrong } })
  t.teardown(async () => await store.close())
  const error = await store.admit({ record: record(), idempotencyTtlSecs: 60 }).catch((err: unknown) => err)
  t.type(error, StoreUnavailableError, 'refused: fail closed')
  t.equal(store.health(), 'unavailable')
  const said = [...lines, String(error), JSON.stringify(error), (error as Error).stack ?? ''].join('\n')
  t.notOk(said.includes(redis.password), 'the password is not in any log line or error')
  t.notOk(said.includes(wrong), 'nor the wrong one')
})

t.test('password_env naming an unset variable: refused at start, naming the key', async (t) => {
  const redis = await startTlsRedis(t)
  const config = tlsConfig(`rediss://${redis.user}@127.0.0.1:${redis.port}`, redis.caFile, 'http://127.0.0.1:9')
  const p = await spawnServe(t, { config, env: { [PASSWORD_ENV]: '' } })
  const exit = await p.exited
  t.equal(exit.code, 2)
  t.match(p.stderr(), /redis\.password_env: the environment variable IG_TEST_REDIS_PASSWORD is not set/)
})
