// deploy/kubernetes/redis-sentinel's start scripts, run as the kubelet would run its pods but on loopback ports:
// a real Redis and Sentinel per "pod", started in order. Pod 0 is the first primary, the others its replicas;
// a gateway configured as deploy/kubernetes/with-sentinel configures it admits through the Sentinels; pod 0's
// Redis killed, a replica is promoted, the gateway follows, and pod 0 restarted joins as a replica of the
// promoted one (never a second primary).
import t from 'tap'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { request, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { freePort } from '../helpers/redis.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const scripts = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/kubernetes/redis-sentinel/redis-configmap.yaml'), 'utf8'))[0]?.toJS().data as Record<string, string>

t.test('the Sentinel set\'s start scripts run a real Redis and Sentinel set, and survive a failover', async (t) => {
  t.setTimeout(300_000)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-k8s-sentinel-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  for (const [name, text] of Object.entries(scripts)) writeFileSync(path.join(dir, name), text)
  const password = 'k8s-sentinel-test-password'
  const ports = await Promise.all(Array.from({ length: 6 }, async () => await freePort()))
  const pods = [0, 1, 2].map((i) => ({ redis: ports[i] as number, sentinel: ports[3 + i] as number }))
  const common = {
    SCRIPTS: dir,
    POD_HOST: '127.0.0.1',
    SENTINELS: pods.map((p) => `127.0.0.1:${p.sentinel}`).join(' '),
    FIRST: `127.0.0.1:${pods[0]?.redis ?? 0}`,
    SENTINEL_NAME: 'intent-gate',
    QUORUM: '2',
    DOWN_AFTER_MS: '1000',
    // The pods' 60 s retries a split election after 120 s, past the wait below; 5 s retries it within 10 s.
    FAILOVER_TIMEOUT_MS: '5000',
    REDIS_PASSWORD: password
  }
  const running = new Map<string, ChildProcess>()
  t.teardown(() => { for (const child of running.values()) child.kill('SIGKILL') })
  const cli = async (port: number, ...args: string[]): Promise<string> =>
    await new Promise((resolve) => execFile('redis-cli', ['-p', String(port), '-a', password, '--no-auth-warning', ...args], (_err, out) => resolve(String(out).trim())))
  const start = async (script: 'redis.sh' | 'sentinel.sh', i: number): Promise<void> => {
    const p = pods[i] as { redis: number, sentinel: number }
    const podDir = path.join(dir, `pod-${i}`)
    mkdirSync(path.join(podDir, 'data'), { recursive: true })
    // Each process logs to a file of its pod (appended across restarts): what a failure below quotes.
    const log = openSync(path.join(podDir, `${script}.log`), 'a')
    const child = spawn('/bin/sh', [path.join(dir, script)], {
      env: { ...process.env, ...common, REDIS_PORT: String(p.redis), SENTINEL_PORT: String(p.sentinel), DATA_DIR: path.join(podDir, 'data'), CONF_DIR: path.join(podDir, script === 'redis.sh' ? 'conf-redis' : 'conf-sentinel') },
      stdio: ['ignore', log, log]
    })
    closeSync(log)
    running.set(`${script}:${i}`, child)
    const port = script === 'redis.sh' ? p.redis : p.sentinel
    await waitFor(`pod ${i}'s ${script} answers`, async () => ((await cli(port, 'PING')) === 'PONG' ? true : undefined), 30_000)
  }
  // The kubelet starts the pods in order (OrderedReady), each with its Redis and its Sentinel.
  for (const i of [0, 1, 2]) {
    await start('redis.sh', i)
    await start('sentinel.sh', i)
  }
  const primaryOf = async (sentinelPort: number): Promise<string> => (await cli(sentinelPort, 'SENTINEL', 'get-master-addr-by-name', 'intent-gate')).split('\n').join(':')
  t.equal(await primaryOf(pods[2]?.sentinel ?? 0), `127.0.0.1:${pods[0]?.redis ?? 0}`, 'pod 0 is the primary')
  await waitFor('two replicas in sync', async () => (/connected_slaves:2/.test(await cli(pods[0]?.redis ?? 0, 'INFO', 'replication')) ? true : undefined), 60_000)
  await waitFor('each Sentinel knows the other two', async () => {
    const counts = await Promise.all(pods.map(async (p) => (await cli(p.sentinel, 'SENTINEL', 'sentinels', 'intent-gate')).split('\n').filter((l) => l === 'name').length))
    return counts.every((n) => n === 2) ? true : undefined
  }, 60_000)

  // The gateway as with-sentinel configures it (the Sentinels' addresses are the test's).
  const [blue] = await Promise.all([startService(t, { versions: '1.0', settleMs: 60_000 })])
  const gwConfig = `
[proxy]
listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
[redis]
poll_interval_ms = 50
[chain]
enabled = false
[upstreams.blue]
url = "${blue.url}"
versions = ["1.0"]
health_interval_ms = 100
healthy_threshold = 1
[log]
level = "warn"
`
  const gw = await startGateway(t, {
    config: gwConfig,
    env: { INTENT_GATE_REDIS_SENTINELS: common.SENTINELS.replaceAll(' ', ','), INTENT_GATE_REDIS_SENTINEL_NAME: 'intent-gate', INTENT_GATE_REDIS_PASSWORD_ENV: 'REDIS_PASSWORD', REDIS_PASSWORD: password }
  })
  const signer = makeSigner()
  const before = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(before.status, 202, 'the gateway admits through the Sentinels')

  // Pod 0's Redis dies: the Sentinels promote a replica, the gateway follows, and pod 0 restarted by the kubelet
  // joins as a replica of the promoted one (never a second primary).
  running.get('redis.sh:0')?.kill('SIGKILL')
  const promoted = await waitFor('a replica promoted', async () => {
    const now = await primaryOf(pods[1]?.sentinel ?? 0)
    return now !== '' && now !== `127.0.0.1:${pods[0]?.redis ?? 0}` ? now : undefined
  }, 60_000).catch((err: Error) => {
    // Sentinel's own account (elections, votes, TILT mode on a stalled machine) says why no replica was promoted.
    const tails = [0, 1, 2].map((i) => {
      const file = path.join(dir, `pod-${i}`, 'sentinel.sh.log')
      const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-25) : []
      return `pod ${i}'s Sentinel:\n${lines.join('\n')}`
    })
    throw new Error(`${err.message}\n${tails.join('\n')}`)
  })
  const after = await waitFor('the gateway admits again', async () => {
    const r = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
    return r.status === 202 ? r : undefined
  }, 60_000, 250)
  t.equal(after.status, 202, `admitted through the promoted primary ${promoted}`)
  await start('redis.sh', 0)
  t.match(await cli(pods[0]?.redis ?? 0, 'INFO', 'replication'), new RegExp(`role:slave[\\s\\S]*master_port:${promoted.split(':')[1] ?? ''}`), 'pod 0 came back as a replica of the promoted primary')
  t.equal(await primaryOf(pods[0]?.sentinel ?? 0), promoted, 'and the Sentinels still name the promoted one')
})
