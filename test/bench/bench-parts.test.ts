/**
 * The bench's own parts, where a mistake would make its figures lie: request bodies the gateway would refuse, a
 * nonce repeated (deduplicated submissions look fast), a misread wrk summary, a ratio marked met when it is not,
 * refused answers counted as speed, answers put in the wrong swap window, a backend that accepts a version it
 * should refuse. The figures themselves are never asserted (speed is measured, not tested).
 */
import t from 'tap'
import http from 'node:http'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createVersionCatalog } from '../../src/versions/index.js'
import { fillTemplate, intentV1Template, NonceRanges } from '../../bench/lib/intents.js'
import { parseWrkOutput, wrkScript } from '../../bench/load/wrk.js'
import { parseOptions, UsageError } from '../../bench/options.js'
import { computeRatios, cpuOf } from '../../bench/report/ratios.js'
import { medianRound } from '../../bench/report/rounds.js'
import { windowStats } from '../../bench/cases/swap.js'
import { percentile } from '../../bench/lib/stats.js'
import type { CaseResult } from '../../bench/cases/context.js'
import type { LoadResult } from '../../bench/load/types.js'

t.test('options: defaults, --quick, and a bad flag named in the error', async (t) => {
  const defaults = parseOptions([])
  t.match(defaults, { durationSec: 6, warmupSec: 2, connections: 64, rounds: 1, load: 'auto', out: 'bench/results/latest.json' })
  t.match(parseOptions(['--quick']), { durationSec: 2, warmupSec: 1 })
  t.equal(parseOptions(['--help']), null)
  t.same([...(parseOptions(['--only', 'submit,swap'])?.only ?? [])], ['submit', 'swap'])
  t.throws(() => parseOptions(['--connections', '0']), new UsageError("--connections must be a positive integer, got '0'"))
  t.throws(() => parseOptions(['--only', 'submit,nope']), /--only: unknown case 'nope'/)
  t.throws(() => parseOptions(['--load', 'ab']), /--load must be auto, wrk or autocannon/)
  try {
    parseOptions(['--bogus'])
    t.fail('an unknown flag must be refused')
  } catch (err) {
    t.ok(err instanceof UsageError, 'a usage error (exit 2)')
    t.match((err as Error).message, /--bogus/)
  }
})

t.test('the bench intent is a valid 1.0 intent whose nonce is the one filled in, and translates to 2.0', async (t) => {
  const catalog = createVersionCatalog()
  const template = intentV1Template()
  const body = JSON.parse(fillTemplate(template, 4_000_000_000_123)) as Record<string, unknown>
  const checked = catalog.validateIntent('1.0', body)
  t.ok(checked.ok, JSON.stringify(checked.ok ? '' : checked.errors))
  if (!checked.ok) return
  t.equal(checked.identity.nonce, '4000000000123')
  const v2 = catalog.translateIntent(checked.intent, '1.0', '2.0')
  t.equal(v2.nonce, '4000000000123')
  t.ok(catalog.validateIntent('2.0', v2).ok)
})

t.test('nonce ranges never overlap and stay below 2^53', async (t) => {
  const ranges = new NonceRanges()
  const a = ranges.take()
  const b = ranges.take()
  t.ok(b - a >= 1e12, 'each run gets 10^12 nonces')
  t.ok(b + 1e12 < Number.MAX_SAFE_INTEGER)
})

t.test('wrk summary line is read as req/s and milliseconds; connection errors and bad statuses are counted', async (t) => {
  const out = 'Running 6s test\nBENCH-RESULT {"requests":60000,"duration_us":6000000,"connect":1,"read":2,"write":0,"status":5,"timeout":3,"p50":1500,"p90":2500,"p99":9000,"max":20000}\n'
  t.same(parseWrkOutput(out), { generator: 'wrk', requests: 60000, durationSec: 6, rps: 10000, p50Ms: 1.5, p90Ms: 2.5, p99Ms: 9, maxMs: 20, badStatus: 5, errors: 6 })
  t.throws(() => parseWrkOutput('wrk: connection refused\n'), /no result line/)
})

const hasWrk = spawnSync('wrk', ['--version']).error === undefined

t.test('wrk with the generated script sends valid bodies, each with its own nonce', { skip: hasWrk ? false : 'wrk is not installed' }, async (t) => {
  const catalog = createVersionCatalog()
  const nonces = new Set<string>()
  let invalid = 0
  let received = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received++
      const checked = catalog.validateIntent('1.0', JSON.parse(Buffer.concat(chunks).toString()))
      if (checked.ok) nonces.add(checked.identity.nonce)
      else invalid++
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ig-bench-test-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const script = path.join(dir, 'post.lua')
  const port = (server.address() as { port: number }).port
  await writeFile(script, wrkScript({ url: '', method: 'POST', path: '/intents', body: { template: intentV1Template(), nonceBase: 7e12 }, connections: 4, durationSec: 1 }))
  const wrk = spawn('wrk', ['-t2', '-c4', '-d1s', '-s', script, `http://127.0.0.1:${port}/intents`])
  let output = ''
  wrk.stdout.on('data', (c: Buffer) => { output += c.toString() })
  await new Promise((resolve) => wrk.once('exit', resolve))
  const result = parseWrkOutput(output)
  t.ok(received > 0, 'requests arrived')
  t.equal(invalid, 0, 'every body is a valid 1.0 intent')
  t.equal(nonces.size, received, 'no nonce was sent twice (two wrk threads included)')
  t.ok(result.requests > 0 && result.requests <= received)
})

t.test('the bench backend accepts its own versions in their shapes and refuses others with 400', async (t) => {
  const backend = spawn(process.execPath, [path.resolve('dist/bench/servers/backend.js'), '--versions', '2.0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { backend.kill('SIGKILL') })
  const url = await new Promise<string>((resolve, reject) => {
    backend.stdout.once('data', (c: Buffer) => resolve((JSON.parse(c.toString()) as { url: string }).url))
    backend.once('exit', () => reject(new Error('the backend exited; run npm run build first')))
  })
  const post = async (body: unknown): Promise<{ status: number, body: unknown }> => {
    const res = await fetch(`${url}/intents`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
    return { status: res.status, body: await res.json() }
  }
  t.match(await post({ version: '2.0' }), { status: 202, body: { intent_id: /^bench-/, status: 'accepted', version: '2.0' } })
  t.match(await post({ version: '1.0' }), { status: 400, body: { title: 'Unsupported version' } })
  const stats = await (await fetch(`${url}/__bench/stats`)).json()
  t.same(stats, { submissions: 1 }, 'only the accepted submission counts')
})

const load = (rps: number, p50Ms: number): LoadResult => ({ generator: 'wrk', requests: rps * 6, durationSec: 6, rps, p50Ms, p90Ms: p50Ms, p99Ms: p50Ms * 3, maxMs: p50Ms * 5, badStatus: 0, errors: 0 })
const row = (id: CaseResult['id'], rps: number, p50Ms: number): CaseResult => ({ id, title: id, what: '', result: load(rps, p50Ms) })

t.test('ratios: the aims are met or missed by the figures, and a row that did not run leaves its ratio empty', async (t) => {
  const ratios = computeRatios([row('http-proxy', 10_000, 5), row('pass-through', 12_000, 4), row('submit', 7_000, 8), row('submit-translated', 6_800, 8.4)])
  const byName = (prefix: string): unknown => ratios.find((r) => r.name.startsWith(prefix))
  t.match(byName('pass-through req/s'), { value: 1.2, aim: '>= 1.30x', met: false })
  t.match(byName('submit (Redis)'), { aim: '>= 0.50x', met: true })
  t.match(byName('translation: added'), { aim: '< 10%', met: true })
  t.ok(Math.abs((byName('translation: added') as { value: number }).value - 0.05) < 1e-9)
  const missing = computeRatios([row('http-proxy', 10_000, 5)])
  t.match(missing.find((r) => r.name.startsWith('pass-through req/s')), { value: null, met: null })
  const failed = computeRatios([row('http-proxy', 10_000, 5), { ...row('pass-through', 20_000, 2), error: 'boom' }])
  t.match(failed.find((r) => r.name.startsWith('pass-through req/s')), { value: null }, 'a failed row is not used')
})

// A refusal is cheap: a round full of 429s (the owner cap) once read as the fastest submissions of a run.
t.test('rounds: one with bad statuses or errors is logged and left out of the row\'s figures', async (t) => {
  const round = (rps: number, targetCpuSec: number, bad = 0, errors = 0): CaseResult => ({
    ...row('submit', rps, 10),
    result: { ...load(rps, 10), badStatus: bad, errors },
    cpu: { benchCores: 1, otherCores: 0, targetCpuSec, seconds: 6, cores: 2 }
  })
  const logged: string[] = []
  // 3,000/s at 1.8 s of CPU is 100 us a request; the refused round would read 30 us.
  const rounds = [round(3_000, 1.8), round(9_000, 1.62, 54_000), round(2_000, 1.44), round(2_500, 1.5, 0, 3)]
  const picked = medianRound(rounds, (l) => logged.push(l))
  t.equal(picked.result?.rps, 2_000, 'the median of the clean rounds stands for the row (2,000 and 3,000 req/s)')
  t.same(picked.rounds?.map((r) => r.cpuUsPerRequest === null ? null : Math.round(r.cpuUsPerRequest)), [100, null, 120, null], 'refused and failing rounds have no CPU figure')
  t.equal(cpuOf([picked], 'submit'), 100, 'the row\'s CPU is the median of the rounds that count')
  t.equal(logged.length, 2, 'each round not counted is logged')
  t.match(logged[0], /round 2: 54000 bad statuses and 0 errors in 54000 requests; not counted/)

  const allBad = medianRound([round(9_000, 1.62, 54_000), round(8_000, 1.44, 48_000)])
  t.equal(cpuOf([allBad], 'submit'), undefined, 'a row with no clean round has no CPU figure')
  const ratios = computeRatios([row('pass-through', 12_000, 4), allBad])
  t.match(ratios.find((r) => r.name.startsWith('submit (Redis)')), { value: null, met: null }, 'and leaves its ratios empty')
  const single = computeRatios([row('pass-through', 12_000, 4), { ...row('submit', 9_000, 2), result: { ...load(9_000, 2), badStatus: 10 } }])
  t.match(single.find((r) => r.name.startsWith('submit (Redis)')), { value: null, met: null }, 'so does a one-round row with a bad status')
})

t.test('swap windows hold the answers whose requests were sent in them', async (t) => {
  const swapAt = 5000
  const samples = [
    { sentAtMs: 3999, latencyMs: 50, status: 202 }, // before the window before: ignored
    { sentAtMs: 4000, latencyMs: 10, status: 202 }, // before
    { sentAtMs: 4999, latencyMs: 900, status: 202 }, // before, even though it was answered after the swap
    { sentAtMs: 5000, latencyMs: 30, status: 503 }, // during
    { sentAtMs: 6500, latencyMs: 20, status: 202 } // after
  ]
  const [before, during, after] = windowStats(samples, swapAt)
  t.match(before, { name: 'before', answers: 2, rps: 2, maxMs: 900, non2xx: 0 })
  t.match(during, { name: 'during', answers: 1, non2xx: 1, p99Ms: 30 })
  t.match(after, { name: 'after', answers: 1, p50Ms: 20 })
})

t.test('percentile is nearest-rank', async (t) => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1)
  t.equal(percentile(values, 50), 50)
  t.equal(percentile(values, 99), 99)
  t.equal(percentile(values, 100), 100)
  t.ok(Number.isNaN(percentile([], 50)))
})
