/**
 * Submissions per second with and without 1,000 anonymous `/status/events` readers (docs/benchmarks.md, "Cheap
 * attacks"). The stream caps are raised to let 1,000 in: what is measured is what a reader costs once admitted
 * (one shared snapshot a second), not the cap that refuses them by default.
 *
 *   npm run build && npx tsx bench/attacks/status-readers.ts [--readers N] [--seconds S]
 *
 * Real processes: the gateway on a Redis of its own, the sample service (no signature check, as the gateway's
 * `verify_signatures = false` here: the figure is the status page's cost, not a verify's), wrk as the load
 * generator, and the readers in a Node process of their own.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import readline from 'node:readline'
import { parseArgs } from 'node:util'
import { since, snapshot } from '../lib/cpu.js'
import { intentV1Template } from '../lib/intents.js'
import { startRedis } from '../lib/redis.js'
import { Resources, urlLine } from '../lib/resources.js'
import { Wrk } from '../load/wrk.js'
import { rssMb, SANDBOX_MAIN, startGateway } from './gateway.js'

const { values } = parseArgs({ options: { readers: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '15' } } })
const READERS = Number(values.readers)
const SECONDS = Number(values.seconds)

/** A process holding `count` event streams open; resolves once every stream has had its first event. */
async function startReaders (url: string, count: number): Promise<() => void> {
  const source = `
    const http = require('node:http')
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
    let first = 0
    for (let i = 0; i < ${count}; i++) {
      http.get(${JSON.stringify(url)}, { agent }, (res) => {
        let seen = false
        res.on('data', () => { if (!seen) { seen = true; if (++first === ${count}) console.log('ready') } })
      }).on('error', (err) => { console.log('error ' + err.message); process.exit(1) })
    }`
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = readline.createInterface({ input: child.stdout })
  const [line] = await once(lines, 'line') as [string]
  if (line !== 'ready') throw new Error(`the readers did not all connect: ${line}`)
  return () => { child.kill('SIGKILL') }
}

const resources = new Resources()
try {
  const { ready: service } = await resources.start('sample service', process.execPath, [SANDBOX_MAIN, 'service', '--listen', '127.0.0.1:0', '--versions', '1.0', '--no-verify'], { ready: urlLine })
  if (service === undefined) throw new Error('the sample service printed no URL')
  const redis = await startRedis(resources)
  const gw = await startGateway(resources, {
    redisUrl: redis.url,
    service,
    verifySignatures: false,
    admin: `max_event_streams = ${READERS + 10}\nmax_event_streams_per_peer = ${READERS + 10}\n`
  })
  const wrk = new Wrk(resources, await resources.tempDir('wrk'))
  const template = intentV1Template()
  let nonceBase = 1
  const measure = async (name: string): Promise<void> => {
    const before = snapshot(resources.pids(), [gw.child.proc.pid ?? 0])
    const result = await wrk.run({ url: gw.url, method: 'POST', path: '/intents', body: { template, nonceBase }, connections: 32, durationSec: SECONDS })
    const cpu = since(before)
    nonceBase += 1e9
    console.log(JSON.stringify({
      run: name,
      rps: Math.round(result.rps),
      p50_ms: result.p50Ms,
      p99_ms: result.p99Ms,
      bad: result.badStatus,
      errors: result.errors,
      gateway_rss_mb: Math.round(await rssMb(gw.child)),
      cpu
    }))
  }
  // Warm-up, not reported: the JIT and the pools, so the two measured runs start alike.
  await wrk.run({ url: gw.url, method: 'POST', path: '/intents', body: { template, nonceBase: 9e12 }, connections: 32, durationSec: 5 })
  await measure('no status reader')
  const stop = await startReaders(`${gw.adminUrl}/status/events`, READERS)
  try {
    await measure(`${READERS} anonymous /status/events readers`)
  } finally {
    stop()
  }
} finally {
  await resources.close()
}
