import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, envNameOf } from '../../src/config/load.js'
import { ConfigError } from '../../src/errors.js'
import { withDefaults, withRedisDefaults } from '../../src/config/schema.js'

const dir = mkdtempSync(join(tmpdir(), 'ig-config-'))
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const MINIMAL = '[upstreams.blue]\nurl = "http://127.0.0.1:7001"\n'

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

t.test('defaults fill every section the file leaves out, and the result is frozen', async (t) => {
  const c = loadConfig({ file: file('min.toml', MINIMAL), env: {} })
  t.equal(c.proxy.intent_path, '/intents')
  t.equal(c.proxy.max_body_bytes, 65536)
  t.equal(c.admin.listen, '127.0.0.1:9090')
  t.equal(c.redis.namespace, 'default')
  t.equal(c.redis.url, undefined, 'no url means the embedded store')
  t.same(c.upstreams.blue?.versions, ['1.0'])
  t.equal(c.upgrade.drain_timeout_secs, 1800, "the design's defaults")
  t.equal(c.rollback.max_rollback_attempts, 3)
  t.same(c.health_checks.pre_checks, ['settlement_store', 'ibc_relayer', 'contract_state'])
  t.ok(Object.isFrozen(c.proxy))
  t.throws(() => { (c.proxy as { listen: string }).listen = 'x' })
})

t.test('a section built in code gets the loader\'s defaults, from the same schema', async (t) => {
  const c = loadConfig({ file: file('min-code.toml', MINIMAL), env: {} })
  t.same(withRedisDefaults({}), c.redis, 'a store built in code reads what a loaded file gives')
  t.same(
    { wait_replicas: c.redis.wait_replicas, wait_timeout_ms: c.redis.wait_timeout_ms, tls: c.redis.tls },
    { wait_replicas: 0, wait_timeout_ms: 500, tls: false }
  )
  t.same(withDefaults('chain', { rpc_url: 'http://127.0.0.1:1' }), { ...c.chain, rpc_url: 'http://127.0.0.1:1' })
  t.equal(withDefaults('chain', {}).tx_timeout_blocks, 20)
})

t.test('environment overrides win over the file and are typed by the schema', async (t) => {
  const c = loadConfig({
    file: file('env.toml', MINIMAL + '[proxy]\nmax_body_bytes = 10\n'),
    env: {
      INTENT_GATE_PROXY_MAX_BODY_BYTES: '2048',
      INTENT_GATE_PROXY_LISTEN: '127.0.0.1:0',
      INTENT_GATE_UPSTREAMS_GREEN_URL: 'http://127.0.0.1:7002',
      INTENT_GATE_UPSTREAMS_GREEN_VERSIONS: '2.0',
      INTENT_GATE_UPGRADE_FORCE_AFTER_TIMEOUT: 'true',
      INTENT_GATE_IBC_CHANNELS: '["channel-0","channel-7"]',
      INTENT_GATE_ADMIN_TOKEN: 'not a config key: ignored'
    }
  })
  t.equal(c.proxy.max_body_bytes, 2048)
  t.equal(c.proxy.listen, '127.0.0.1:0')
  t.equal(c.upstreams.green?.url, 'http://127.0.0.1:7002')
  t.same(c.upstreams.green?.versions, ['2.0'])
  t.equal(c.upgrade.force_after_timeout, true)
  t.same(c.ibc.channels, ['channel-0', 'channel-7'])
  t.equal(envNameOf(['upstreams', 'blue', 'health_path']), 'INTENT_GATE_UPSTREAMS_BLUE_HEALTH_PATH')
})

t.test('every bad key is named at once: unknown keys, wrong types, bad values', async (t) => {
  const problems = problemsOf(() => loadConfig({
    file: file('bad.toml', MINIMAL + '[proxy]\nlisten = 8080\nmax_body_bytes = "big"\nlisn = "x"\n[upgrade]\nforce_after_timeout = "yes"\n[nonsense]\na = 1\n'),
    env: { INTENT_GATE_PROXY_INITIAL_ACTIVE: 'purple' }
  }))
  const text = problems.join('\n')
  t.match(text, /proxy\.listen: must be string/)
  t.match(text, /proxy\.max_body_bytes: must be integer/)
  t.match(text, /proxy\.lisn: unknown key/)
  t.match(text, /upgrade\.force_after_timeout: must be boolean/)
  t.match(text, /nonsense: unknown key/)
  t.match(text, /proxy\.initial_active: must be one of "blue", "green" \(from INTENT_GATE_PROXY_INITIAL_ACTIVE\)/)
})

t.test('cross-key checks name the key', async (t) => {
  t.match(problemsOf(() => loadConfig({ env: {} })).join('\n'), /upstreams: at least one/)
  t.match(problemsOf(() => loadConfig({ file: file('g.toml', MINIMAL), env: { INTENT_GATE_PROXY_INITIAL_ACTIVE: 'green' } })).join('\n'),
    /proxy\.initial_active: 'green' has no \[upstreams\.green\] section/)
  t.match(problemsOf(() => loadConfig({ file: file('s.toml', MINIMAL + '[redis]\nsentinels = ["127.0.0.1:26379"]\n'), env: {} })).join('\n'),
    /redis\.sentinels: sentinels and sentinel_name go together/)
  t.match(problemsOf(() => loadConfig({ file: file('v.toml', MINIMAL + '[versions]\naccepted = ["1.0", "9.9"]\n'), env: {}, knownVersions: ['1.0', '2.0'] })).join('\n'),
    /versions\.accepted: unknown version '9\.9'/)
})

t.test('an unknown health check name is refused at load, naming the key and the known names', async (t) => {
  const text = problemsOf(() => loadConfig({
    file: file('hc.toml', MINIMAL + '[health_checks]\npre_checks = ["settlement_store", "ibc_relayr"]\npost_checks = ["api_endpoint"]\n'),
    env: {}
  })).join('\n')
  t.match(text, /health_checks\.pre_checks: unknown health check 'ibc_relayr' \(known: settlement_store, ibc_relayer, contract_state, api_endpoints, upstreams\)/)
  t.match(text, /health_checks\.post_checks: unknown health check 'api_endpoint' \(known: /)
  t.notMatch(text, /'settlement_store'/, 'known names pass')
  t.match(problemsOf(() => loadConfig({ file: file('hc-env.toml', MINIMAL), env: { INTENT_GATE_HEALTH_CHECKS_POST_CHECKS: 'upstreams,nope' } })).join('\n'),
    /health_checks\.post_checks: unknown health check 'nope'/, 'from the environment too')
  const every = loadConfig({ file: file('hc-all.toml', MINIMAL + '[health_checks]\npost_checks = ["settlement_store", "ibc_relayer", "contract_state", "api_endpoints", "upstreams"]\n'), env: {} })
  t.equal(every.health_checks.post_checks.length, 5, 'every known name loads')
})

t.test('an unreadable or malformed file is a ConfigError naming the file', async (t) => {
  t.match(problemsOf(() => loadConfig({ file: join(dir, 'missing.toml'), env: {} }))[0], /missing\.toml: cannot read the configuration file \(ENOENT\)/)
  t.match(problemsOf(() => loadConfig({ file: file('broken.toml', '[proxy\nlisten='), env: {} }))[0], /broken\.toml: not valid TOML/)
})

t.test('INTENT_GATE_* variables that are no key are refused; the secrets the configuration names by variable are not', async (t) => {
  const problems = problemsOf(() => loadConfig({
    file: file('vars.toml', MINIMAL + '[admin]\ntoken_env = "INTENT_GATE_OPS_TOKEN"\n[redis]\npassword_env = "INTENT_GATE_REDIS_SECRET"\n'),
    env: { INTENT_GATE_REDIS_NAMESPCE: 'x', INTENT_GATE_OPS_TOKEN: 't', INTENT_GATE_REDIS_SECRET: 'p', INTENT_GATE_ADMIN_TOKEN: 't', INTENT_GATE_SIGNER_MNEMONIC: 'm', INTENT_GATE_ADMIN_URL: 'u', INTENT_GATE_SANDBOX_SETTLER_MNEMONIC: 'the other binary\'s' }
  }))
  t.same(problems, ['INTENT_GATE_REDIS_NAMESPCE: unknown environment variable (no configuration key has this name; did you mean INTENT_GATE_REDIS_NAMESPACE?)'])
  const far = problemsOf(() => loadConfig({ file: file('far.toml', MINIMAL), env: { INTENT_GATE_SOMETHING_ELSE_ENTIRELY: '1' } }))
  t.same(far, ['INTENT_GATE_SOMETHING_ELSE_ENTIRELY: unknown environment variable (no configuration key has this name)'], 'no far-fetched suggestion')
  t.doesNotThrow(() => loadConfig({ file: file('ok.toml', MINIMAL), env: { INTENT_GATE_UPSTREAMS_BLUE_HEALTH_PATH: '/ready', INTENT_GATE_VERSIONS_ACCEPTED: '1.0' } }))
})
