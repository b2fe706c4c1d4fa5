// The [redis] keys of issue 12 (cluster_nodes, username, password_env, tls, tls_ca_file, wait_replicas,
// wait_timeout_ms): defaults, environment overrides, and the cross-key checks, each naming its key.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'
import { ConfigError } from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'ig-config-redis-'))
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const MINIMAL = '[upstreams.blue]\nurl = "http://127.0.0.1:7001"\n'
const problems = (text: string, env: Record<string, string> = {}): string => {
  try {
    loadConfig({ file: file(`${Math.random()}.toml`, MINIMAL + text), env })
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n')
    throw err
  }
  return ''
}

t.test('defaults, and overrides from the environment', async (t) => {
  const c = loadConfig({ file: file('d.toml', MINIMAL), env: {} })
  t.match(c.redis, { password_env: '', tls: false, tls_ca_file: '', wait_replicas: 0, wait_timeout_ms: 500, username: '' })
  t.equal(c.redis.cluster_nodes, undefined)
  const e = loadConfig({
    file: file('e.toml', MINIMAL),
    env: { INTENT_GATE_REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001', INTENT_GATE_REDIS_WAIT_REPLICAS: '1', INTENT_GATE_REDIS_TLS: 'true' }
  })
  t.same(e.redis.cluster_nodes, ['127.0.0.1:7000', '127.0.0.1:7001'])
  t.equal(e.redis.wait_replicas, 1)
  t.equal(e.redis.tls, true)
})

t.test('cross-key checks name the key', async (t) => {
  t.match(problems('[redis]\nurl = "redis://127.0.0.1:6379"\ncluster_nodes = ["127.0.0.1:7000"]\n'), /redis\.cluster_nodes: set one of url, sentinels and cluster_nodes/)
  t.match(problems('[redis]\nurl = "rediss://127.0.0.1:6379"\ntls_ca_file = "/nonexistent/ca.pem"\n'), /redis\.tls_ca_file: no such file '\/nonexistent\/ca\.pem'/)
  t.match(problems('[redis]\nurl = "redis://127.0.0.1:6379"\npassword_env = "IG_TEST_PW"\n'), /redis\.password_env: the environment variable IG_TEST_PW is not set/)
  t.equal(problems('[redis]\nurl = "redis://127.0.0.1:6379"\npassword_env = "IG_TEST_PW"\n', { IG_TEST_PW: 'secret' }), '', 'set: accepted')
  t.match(problems('[redis]\nurl = "redis://127.0.0.1:6379"\nwait_replicas = 1\nwait_timeout_ms = 1000\ncommand_timeout_ms = 1000\n'),
    /redis\.wait_timeout_ms: must be below redis\.command_timeout_ms/)
  t.match(problems('[redis]\npassword_env = "not a name"\n'), /redis\.password_env: must match pattern/)
  t.match(problems('[redis]\ncluster_nodes = ["no-port"]\n'), /redis\.cluster_nodes\/0: must match pattern|redis\.cluster_nodes\.0: must match pattern/)
})
