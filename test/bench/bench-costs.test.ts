/**
 * The bench's per-intent cost parts (issues 10, 12, 13), where a mistake would make a figure lie: Redis's INFO
 * text misread, a script's inner commands counted twice, a signed body that does not verify (the verified row
 * would measure 401s), bodies repeated (replays look fast), and the --check guard passing what it should fail.
 */
import t from 'tap'
import http from 'node:http'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createVersionCatalog } from '../../src/versions/index.js'
import { Secp256k1, Secp256k1Signature } from '@cosmjs/crypto'
import { fromBase64 } from '@cosmjs/encoding'
import { signingDigest } from '../../src/versions/canonical.js'
import type { JsonObject } from '../../src/versions/spec.js'
import { ceilingPerCore, infoNumber, parseCommandStats, parseInfo, redisCpuSeconds, redisTimePerRequest, scriptCommandNames } from '../../bench/lib/info.js'
import { storeScriptSources } from '../../bench/lib/redis.js'
import { makeBenchSigner, signedIntentV1, SignedBodies } from '../../bench/lib/signed.js'
import { NonceRanges } from '../../bench/lib/intents.js'
import { parseWrkOutput, wrkScript } from '../../bench/load/wrk.js'
import { checkRatio, GUARDED, recordedRatio } from '../../bench/report/check.js'
import { computeRatios } from '../../bench/report/ratios.js'
import { formatRuntimes } from '../../bench/report/print.js'
import { phase } from '../../bench/cases/redis-memory.js'
import { parseOptions, UsageError } from '../../bench/options.js'
import type { CaseResult } from '../../bench/cases/context.js'

const COMMANDSTATS = `# Commandstats\r
cmdstat_evalsha:calls=2000,usec=60000,usec_per_call=30.00,rejected_calls=0,failed_calls=0\r
cmdstat_hset:calls=4000,usec=8000,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r
cmdstat_get:calls=6000,usec=3000,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r
cmdstat_hgetall:calls=10,usec=5000,usec_per_call=500.00,rejected_calls=0,failed_calls=0\r
cmdstat_exec:calls=5,usec=400,usec_per_call=80.00,rejected_calls=0,failed_calls=0\r
cmdstat_info:calls=3,usec=900,usec_per_call=300.00,rejected_calls=0,failed_calls=0\r
cmdstat_config|resetstat:calls=1,usec=100,usec_per_call=100.00,rejected_calls=0,failed_calls=0\r
`

t.test('INFO text: fields by name, CRLF and section headers ignored, a missing field is NaN', async (t) => {
  const fields = parseInfo('# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n\r\n# CPU\r\nused_cpu_sys:1.5\r\nused_cpu_user:2.25\r\n')
  t.equal(infoNumber(fields, 'used_memory'), 1_048_576)
  t.equal(fields.get('used_memory_human'), '1.00M')
  t.ok(Number.isNaN(infoNumber(fields, 'used_memory_peak')))
  t.equal(redisCpuSeconds(fields), 3.75, 'no main-thread figures: the whole process')
  t.equal(redisCpuSeconds(parseInfo('used_cpu_sys:9\nused_cpu_user:9\nused_cpu_sys_main_thread:0.5\nused_cpu_user_main_thread:1\n')), 1.5, 'the main thread when Redis reports it')
})

t.test('commandstats: every command with calls and usec, subcommands kept, most called first', async (t) => {
  const stats = parseCommandStats(COMMANDSTATS)
  t.equal(stats.length, 7)
  t.same(stats[0], { command: 'get', calls: 6000, usec: 3000 })
  t.same(stats.find((s) => s.command === 'config|resetstat'), { command: 'config|resetstat', calls: 1, usec: 100 })
})

t.test('Redis time per request counts a script once: its inner commands and the bench\'s own are left out', async (t) => {
  const inside = scriptCommandNames(["local x = redis.call('GET', KEYS[1])\nredis.call( \"HSET\", KEYS[2], ARGV[1], ARGV[2])\nredis.pcall('hdel', KEYS[3], ARGV[1])"])
  t.same([...inside].sort(), ['get', 'hdel', 'hset'])
  const time = redisTimePerRequest(parseCommandStats(COMMANDSTATS), inside, 1000)
  t.equal(time.scriptCallsPerRequest, 2)
  t.equal(time.scriptUsecPerRequest, 60)
  t.equal(time.otherUsecPerRequest, 5, 'HGETALL is top-level; EXEC\'s commands are on their own lines; INFO and CONFIG are the bench\'s')
  t.equal(time.totalUsecPerRequest, 65)
  t.same(time.countedInsideScripts.sort(), ['get', 'hset'])
  t.equal(ceilingPerCore(25), 40_000, '25 us per intent: 40,000 intents/s per core')
  t.ok(Number.isNaN(ceilingPerCore(0)))
  t.equal(redisTimePerRequest([], new Set(), 0).totalUsecPerRequest, 0, 'no requests: no division by zero')
})

t.test('the store\'s own Lua scripts are found and their commands named', async (t) => {
  const sources = storeScriptSources()
  t.ok(sources.length > 0, 'scripts under src/store')
  const names = scriptCommandNames(sources)
  t.ok(names.has('hset') && names.has('get'), [...names].join(','))
  t.notOk(names.has('evalsha'))
})

t.test('memory per intent is the growth of used_memory and keys over the intents', async (t) => {
  const p = phase({ usedMemory: 1_000_000, keys: 10, cpuSec: 0 }, { usedMemory: 18_860_000, keys: 20_010, cpuSec: 1 }, 10_000)
  t.same(p, { usedMemory: 18_860_000, keys: 20_010, bytesPerIntent: 1786, keysPerIntent: 2 })
})

/**
 * docs/specification.md section 8 checked independently of the gateway's verifier: secp256k1 over SHA-256 of the
 * canonical unsigned bytes.
 */
function signatureHolds (intent: Record<string, unknown>): boolean {
  const { signature, ...unsigned } = intent
  return Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(fromBase64(String(signature))), signingDigest(unsigned as JsonObject), fromBase64(String(intent['public_key'])))
}

t.test('signed bench intents are valid 1.0 intents whose signature covers what docs/specification.md section 8 says, and another nonce is not covered', async (t) => {
  const catalog = createVersionCatalog()
  const signer = await makeBenchSigner()
  const deadline = Math.floor(Date.now() / 1000) + 3600
  for (const nonce of [1, 2, 4_000_000_000_123]) {
    const intent = JSON.parse(signedIntentV1(signer, nonce, deadline)) as Record<string, unknown>
    const checked = catalog.validateIntent('1.0', intent)
    t.ok(checked.ok, JSON.stringify(checked.ok ? '' : checked.errors))
    t.ok(signatureHolds(intent), `nonce ${nonce} verifies (${signer.library})`)
    t.notOk(signatureHolds({ ...intent, nonce: nonce + 1 }), 'another nonce is not what was signed')
    const s = Buffer.from(String(intent['signature']), 'base64').subarray(32)
    t.ok(BigInt('0x' + s.toString('hex')) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0n, 'low s')
  }
})

t.test('signed bodies: one file per run, sized for its duration, every nonce fresh across files', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ig-bench-test-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const bodies = new SignedBodies(await makeBenchSigner(), dir, new NonceRanges(), 4)
  bodies.observe({ rps: 100 })
  const a = await bodies.prepare(0.5)
  t.equal(a.count, Math.ceil(3000 * 0.5 * 1.5) + 4, 'the first guess (3000/s) stays until a faster run is seen')
  bodies.observe({ rps: 4000 })
  const b = await bodies.prepare(0.25)
  t.equal(b.count, Math.ceil(4000 * 0.25 * 1.5) + 4)
  const nonces = new Set<number>()
  for (const f of [a, b]) {
    const lines = (await readFile(f.file, 'utf8')).split('\n').filter((l) => l !== '')
    t.equal(lines.length, f.count)
    for (const l of lines) nonces.add((JSON.parse(l) as { nonce: number }).nonce)
  }
  t.equal(nonces.size, a.count + b.count, 'no nonce twice')
})

const hasWrk = spawnSync('wrk', ['--version']).error === undefined

t.test('wrk walks through a file of signed bodies from the top, each sent once while the file lasts', { skip: hasWrk ? false : 'wrk is not installed' }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ig-bench-test-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const bodies = new SignedBodies(await makeBenchSigner(), dir, new NonceRanges(), 2)
  const prepared = await bodies.prepare(1)
  const received: string[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString())
      // Slow enough that wrk cannot wrap around the file within its run.
      setTimeout(() => res.end('{}'), 5)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const script = path.join(dir, 'signed.lua')
  await writeFile(script, wrkScript({ url: '', method: 'POST', path: '/intents', bodies: prepared, connections: 2, durationSec: 1 }))
  const port = (server.address() as { port: number }).port
  const wrk = spawn('wrk', ['-t1', '-c2', '-d1s', '-s', script, `http://127.0.0.1:${port}/intents`])
  let output = ''
  wrk.stdout.on('data', (c: Buffer) => { output += c.toString() })
  await new Promise((resolve) => wrk.once('exit', resolve))
  t.ok(parseWrkOutput(output).requests > 0)
  const lines = (await readFile(prepared.file, 'utf8')).split('\n').filter((l) => l !== '')
  t.ok(received.length > 0 && received.length < lines.length, `${received.length} of ${lines.length} bodies`)
  t.equal(new Set(received).size, received.length, 'no body sent twice')
  // Two connections: arrivals may swap places, and up to one request per connection was still on its way at the end.
  const firstLines = new Set(lines.slice(0, received.length + 2))
  t.ok(received.every((body) => firstLines.has(body)), 'the bodies as signed, taken from the top of the file')
})

t.test('--check: the recorded ratio is read from its marked line; a fall of more than 20% fails', async (t) => {
  const docs = '# Benchmarks\n\nSome text with ratio = 0.9 that is not the line.\nbench-check: submission/pass-through CPU ratio = 0.38 (recorded 2026-12-01)\n'
  t.equal(recordedRatio(docs), 0.38)
  t.equal(recordedRatio('no such line\n'), null)
  t.equal(recordedRatio('  bench-check: submission/pass-through CPU ratio = 0.38\n'), null, 'only at the start of a line')
  t.equal(recordedRatio('bench-check: submission/pass-through CPU ratio = 0\n'), null, 'zero is no record')
  t.match(checkRatio(0.38, 0.38), { ok: true, floor: 0.38 * 0.8 })
  t.match(checkRatio(0.305, 0.38), { ok: true }, '19.7% below: within the tolerance')
  t.match(checkRatio(0.30, 0.38), { ok: false, message: /check FAILED: .*0\.30 against 0\.38.*-21\.1%.*below 0\.30/ })
  t.match(checkRatio(0.6, 0.38), { ok: true, message: /check passed/ })
  t.match(checkRatio(null, 0.38), { ok: false, measured: null, message: /did not both measure/ })
  t.match(checkRatio(Number.NaN, 0.38), { ok: false })
  // The verified path has a line of its own; each line is read by its whole name.
  const both = docs + 'bench-check: verified submission/pass-through CPU ratio = 0.25\n'
  t.equal(recordedRatio(both, 'verified submission/pass-through'), 0.25)
  t.equal(recordedRatio(both, 'submission/pass-through'), 0.38, 'the plain line is not read from the verified one')
  t.equal(recordedRatio(docs, 'verified submission/pass-through'), null)
  t.match(checkRatio(0.19, 0.25, 0.2, 'verified submission/pass-through'), { ok: false, message: /check FAILED: verified submission\/pass-through CPU ratio 0\.19 against 0\.25/ })
})

t.test('--check runs only the rows of its ratios and refuses --only', async (t) => {
  t.same([...(parseOptions(['--check'])?.only ?? [])], ['pass-through', 'submit', 'submit-verified'])
  t.equal(parseOptions(['--check'])?.check, true)
  t.equal(parseOptions(['--check'])?.rounds, 3, 'medians of 3 rounds by default')
  t.equal(parseOptions(['--check', '--rounds', '5'])?.rounds, 5)
  t.equal(parseOptions([])?.check, false)
  t.throws(() => parseOptions(['--check', '--only', 'submit']), new UsageError('--check runs its own rows; it does not take --only'))
})

t.test('--runtimes: the pass-through and submit rows under each node binary, bad lists refused', async (t) => {
  const o = parseOptions(['--runtimes', '/usr/bin/node, /opt/node24/bin/node'])
  t.same(o?.runtimes, ['/usr/bin/node', '/opt/node24/bin/node'])
  t.same([...(o?.only ?? [])], ['pass-through', 'submit'], 'alone, only the rows it compares')
  t.same([...(parseOptions(['--runtimes', '/usr/bin/node', '--only', 'submit,backend'])?.only ?? [])], ['submit', 'backend'])
  t.same(parseOptions([])?.runtimes, [])
  t.throws(() => parseOptions(['--runtimes', '/usr/bin/node,']), new UsageError("--runtimes takes node binaries separated by commas, got '/usr/bin/node,'"))
  t.throws(() => parseOptions(['--runtimes', '/usr/bin/node', '--check']), /does not take --runtimes/)
  const cpuRow = (id: CaseResult['id'], title: string, rps: number, usPerReq: number): CaseResult => ({
    ...row(id, rps, 10), title, cpu: { seconds: 6, targetCpuSec: rps * 6 * usPerReq / 1e6, benchCores: 0, otherCores: 0 } as unknown as CaseResult['cpu']
  })
  const table = formatRuntimes([
    cpuRow('pass-through', 'intent-gate pass-through on Node 20.20.2', 4000, 200), cpuRow('submit', 'intent-gate submit (Redis) on Node 20.20.2', 1000, 500),
    cpuRow('pass-through', 'intent-gate pass-through on Node 24.22.3', 5000, 150), cpuRow('submit', 'intent-gate submit (Redis) on Node 24.22.3', 1200, 400)
  ])
  t.match(table, /20\.20\.2\s+4,?000\s+200\s+1,?000\s+500\s+0\.40x/)
  t.match(table, /24\.22\.3\s+5,?000\s+150\s+1,?200\s+400\s+0\.38x/)
})

t.test('the docs carry the lines --check reads', async (t) => {
  const docs = await readFile(path.resolve('docs/benchmarks.md'), 'utf8')
  for (const g of GUARDED) {
    const ratio = recordedRatio(docs, g.name)
    t.ok(ratio !== null && ratio > 0 && ratio < 2, `${g.name}: recorded ratio ${String(ratio)}`)
  }
})

const row = (id: CaseResult['id'], rps: number, p99Ms: number): CaseResult => ({
  id, title: id, what: '', result: { generator: 'wrk', requests: rps * 6, durationSec: 6, rps, p50Ms: p99Ms / 3, p90Ms: p99Ms / 2, p99Ms, maxMs: p99Ms * 2, badStatus: 0, errors: 0 }
})

t.test('ratios: Redis time, memory, status polling and p99 aims, met or missed; absent figures leave n/a', async (t) => {
  const ratios = computeRatios([row('pass-through', 10_000, 20), row('submit', 5_000, 45)], undefined, {
    redisUsecPerSubmission: 25,
    memory: { inflightBytes: 1786, endedBytes: 299 },
    statusP99: { polled: 60, quiet: 40 }
  })
  const byName = (prefix: string): unknown => ratios.find((r) => r.name.trim().startsWith(prefix))
  t.match(byName('submit p99 / pass-through p99'), { aim: '<= 2.00x', met: false })
  t.match(byName('Redis time per submission'), { value: 25, aim: '<= 25.0 us', met: true })
  t.match(byName('Redis memory per intent while inflight'), { value: 1786, aim: '<= 800 B', met: false })
  t.match(byName('Redis memory per intent after it ended'), { value: 299, met: true })
  t.match(byName('status polled under load'), { value: 1.5, met: true })
  t.match(byName('verification:'), { value: null, met: null }, 'no verified row: n/a')
  const none = computeRatios([row('submit', 5_000, 45)])
  t.match(none.find((r) => r.name.startsWith('Redis time')), { value: null, met: null })
})
