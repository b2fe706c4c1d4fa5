#!/usr/bin/env node
/**
 * `npm run bench`: every case of docs/benchmarks.md in one run on this machine, side by side. Starts the
 * backends, the reference proxies, a Redis on a free port and one gateway process per gateway row; prints the
 * table, the ratios the issues aim at, the per-intent costs (Redis time and memory, translation, verification,
 * status reads under load), the swap windows and the checkpoint timings; writes the same as JSON
 * (bench/results/latest.json by default). With --check, compares the submission/pass-through CPU ratios with the
 * ones docs/benchmarks.md records (exit 1 on a fall of more than 20%). Everything it started is stopped at the
 * end, on an error and on Ctrl-C.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { backendDirect, backendSubmitDirect, bareHttpProxy, bareUndiciProxy } from './cases/baseline.js'
import { checkpointCase, type CheckpointResult } from './cases/checkpoint-timing.js'
import type { BenchContext, CaseResult } from './cases/context.js'
import { NotYetError, passThrough, passThroughPost, submit, submitTranslated, submitVerified, submitWaitReplicas, type GatewayCaseResult, type GatewayEnv } from './cases/gateway.js'
import { redisMemoryCase, type RedisMemoryResult } from './cases/redis-memory.js'
import { formatRedisScripts, redisScriptsCase, type RedisScriptsResult } from './cases/redis-scripts.js'
import { statusLoadCase, type StatusLoadResult } from './cases/status-load.js'
import { verifyCost, type VerifyCost } from './cases/verify-cost.js'
import { swapCase, type SwapResult } from './cases/swap.js'
import { translationCost, type TranslationCost } from './cases/translation-cost.js'
import { formatJournalCost, journalCost, type JournalCost } from './cases/journal-cost.js'
import { gatewayBuilt, GATEWAY_MAIN } from './lib/gateway.js'
import { prepareRuntime, probeRuntime, type Runtime } from './lib/runtimes.js'
import { intentV1Template, NonceRanges } from './lib/intents.js'
import { startRedis, type BenchRedis } from './lib/redis.js'
import { Resources } from './lib/resources.js'
import { startBackend } from './lib/servers.js'
import { straceAvailable } from './lib/syscalls.js'
import { perfAvailable } from './lib/perf.js'
import { selectLoadGenerator } from './load/select.js'
import { parseOptions, USAGE, UsageError, type BenchOptions, type CaseId } from './options.js'
import { CHECK_TOLERANCE, checkRatio, GUARDED, recordedRatio, type CheckOutcome } from './report/check.js'
import { formatMemory, formatRedisCost, formatStatusLoad, formatTranslationCost, formatVerifyCost, statusP99 } from './report/costs.js'
import { computeRatios, cpuOf } from './report/ratios.js'
import { medianRound } from './report/rounds.js'
import { formatCheckpoint, formatHeader, formatRuntimes, formatProfiles, formatRatios, formatPerf, formatSyscalls, formatRows, formatSwap, type RunHeader } from './report/print.js'

const log = (line: string): void => { process.stderr.write(`[bench] ${line}\n`) }

function wrkVersion (): string | null {
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
  return out.error === undefined ? (/wrk (\S+)/.exec(out.stdout + out.stderr)?.[1] ?? 'unknown') : null
}

/** A row that cannot run in this checkout (the gateway not built yet): reported as skipped, not failed. */
class SkipError extends Error {}

/** Where --check finds the recorded ratio. */
const CHECK_DOC = 'docs/benchmarks.md'

const GATEWAY_ROWS: CaseId[] = ['pass-through', 'pass-through-post', 'submit', 'submit-translated', 'submit-verified', 'submit-wait-replicas', 'redis-memory', 'status-under-load']

async function runRow (id: CaseId, title: string, fn: () => Promise<CaseResult>): Promise<CaseResult> {
  log(`${title} ...`)
  try {
    const row = await fn()
    if (row.result !== undefined) log(`  ${Math.round(row.result.rps)} req/s, p50 ${row.result.p50Ms.toFixed(2)} ms, p99 ${row.result.p99Ms.toFixed(2)} ms`)
    return row
  } catch (err) {
    if (err instanceof SkipError || err instanceof NotYetError) {
      log(`  ${err.message}`)
      return { id, title, what: '', skipped: err.message }
    }
    log(`  FAILED: ${(err as Error).message.split('\n')[0] ?? ''}`)
    return { id, title, what: '', error: (err as Error).stack ?? String(err) }
  }
}

/** `recorded`: with --check, the ratios docs/benchmarks.md records, in GUARDED's order (null without --check). */
async function bench (options: BenchOptions, resources: Resources, recorded: number[] | null): Promise<void> {
  const startedAt = new Date()
  const scratch = await resources.tempDir('run')
  const load = selectLoadGenerator(options.load, resources, scratch, log)
  const ctx: BenchContext = { options, resources, load, nonces: new NonceRanges(), intentV1: intentV1Template(), log }
  const header: RunHeader = {
    rounds: options.rounds,
    startedAt: startedAt.toISOString(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    generator: load.name === 'wrk' ? `wrk ${wrkVersion() ?? ''}`.trim() : 'autocannon (in the bench process)',
    connections: options.connections,
    durationSec: options.durationSec,
    warmupSec: options.warmupSec,
    warmupRequests: options.warmupRequests,
    warmupMaxSec: options.warmupMaxSec,
    loadAvg: os.loadavg()
  }
  log(formatHeader(header))
  const wants = (id: CaseId): boolean => options.only.has(id)
  const backend = await startBackend(resources, 'backend 1.0', ['1.0'])
  const needsGateway = GATEWAY_ROWS.some((id) => wants(id)) || wants('swap')
  const notBuilt = `the gateway is not built yet (${path.relative(process.cwd(), GATEWAY_MAIN)})`
  let redis: BenchRedis | undefined
  if (needsGateway && gatewayBuilt()) {
    redis = await startRedis(resources)
    log(`redis-server ${redis.version} on ${redis.url}`)
  }
  const env: GatewayEnv | undefined = redis === undefined ? undefined : { redis, backendUrl: backend.url, profileRoot: path.resolve(path.dirname(options.out), 'profiles') }
  const gatewayRow = (fn: (env: GatewayEnv) => Promise<GatewayCaseResult>, runtime?: Runtime) => async (): Promise<CaseResult> => {
    if (env === undefined) throw new SkipError(notBuilt)
    return await fn({ ...env, runtime })
  }
  const runtimes: Array<Runtime | undefined> = []
  for (const node of options.runtimes) {
    if (env === undefined || resources.closing()) break
    const runtime = await prepareRuntime(node, resources, log)
    log(`runtime: ${node}, Node ${runtime.version}${runtime.main === GATEWAY_MAIN ? '' : ` (its own tree: ${path.dirname(path.dirname(path.dirname(runtime.main)))})`}`)
    runtimes.push(runtime)
  }
  if (runtimes.length === 0) runtimes.push(undefined)
  type PlanRow = [CaseId, string, () => Promise<CaseResult>, string]
  const onEach = (id: CaseId, title: string, fn: (env: GatewayEnv) => Promise<GatewayCaseResult>): PlanRow[] =>
    runtimes.map((r) => [id, r === undefined ? title : `${title} on Node ${r.version}`, gatewayRow(fn, r), r === undefined ? id : `${id}@${r.node}`])
  const plan: Array<[CaseId, string, () => Promise<CaseResult>, string?]> = [
    ['backend', 'backend, direct', async () => await backendDirect(ctx, backend)],
    ['backend-submit', 'backend, direct POST /intents', async () => await backendSubmitDirect(ctx, backend)],
    ['http-proxy', 'bare http-proxy', async () => await bareHttpProxy(ctx, backend)],
    ['undici-proxy', 'bare undici pool', async () => await bareUndiciProxy(ctx, backend)],
    // With --runtimes, each in turn under every runtime: the same load, interleaved, for the comparison.
    ...onEach('pass-through', 'intent-gate pass-through', async (e) => await passThrough(ctx, e)),
    ['pass-through-post', 'intent-gate pass-through, POST', gatewayRow(async (e) => await passThroughPost(ctx, e))],
    ...onEach('submit', 'intent-gate submit (Redis)', async (e) => await submit(ctx, e)),
    ['submit-translated', 'intent-gate submit, translated', gatewayRow(async (e) => await submitTranslated(ctx, e))],
    ['submit-verified', 'intent-gate submit, signatures verified', gatewayRow(async (e) => await submitVerified(ctx, e))],
    ['submit-wait-replicas', 'intent-gate submit, wait_replicas = 1', gatewayRow(async (e) => await submitWaitReplicas(ctx, e))]
  ]
  // Rounds go through every row in turn, so a burst of someone else's load hits one round of each, not one row.
  const rounds = new Map<string, CaseResult[]>()
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) log(`round ${round} of ${options.rounds}`)
    for (const [id, title, fn, key = id] of plan) {
      if (!wants(id) || resources.closing()) continue
      rounds.set(key, [...(rounds.get(key) ?? []), await runRow(id, title, fn)])
    }
  }
  const rows = [...rounds.values()].map((results) => medianRound(results, log))

  let swap: SwapResult | undefined
  if (wants('swap')) {
    log('submissions around a blue-green swap ...')
    if (redis === undefined) swap = { id: 'swap', title: 'submissions around a blue-green swap', what: '', generator: 'autocannon', skipped: notBuilt }
    else {
      const r = redis
      swap = await swapCase(ctx, r).catch((err: Error) => ({ id: 'swap' as const, title: 'submissions around a blue-green swap', what: '', generator: 'autocannon' as const, error: err.stack ?? String(err) }))
    }
  }

  let translation: TranslationCost | undefined
  if (wants('translation-cost')) {
    log('translation cost, in process ...')
    translation = translationCost(ctx.intentV1, options.quick)
  }

  let verify: VerifyCost | undefined
  if (wants('verify-cost')) {
    log('signature verification, in process ...')
    verify = await verifyCost(options.quick)
  }

  let journal: JournalCost | undefined
  if (wants('journal-cost')) {
    log('admission journal cost, in process ...')
    journal = await journalCost(options.quick)
  }

  let memory: RedisMemoryResult | undefined
  if (wants('redis-memory') && !resources.closing()) {
    log('Redis memory per intent ...')
    memory = env === undefined ? { id: 'redis-memory', title: 'Redis memory per intent', skipped: notBuilt } : await redisMemoryCase(ctx, env.backendUrl)
  }

  let scripts: RedisScriptsResult | undefined
  if (wants('redis-scripts') && !resources.closing()) {
    log('Redis time per submission, admission and bind alone ...')
    scripts = await redisScriptsCase(ctx)
  }

  let status: StatusLoadResult | undefined
  if (wants('status-under-load') && !resources.closing()) {
    log('submissions with many intents inflight, with and without a status poller ...')
    status = env === undefined ? { id: 'status-under-load', title: 'status reads under load', skipped: notBuilt } : await statusLoadCase(ctx, env.backendUrl)
  }

  let checkpoint: CheckpointResult | undefined
  if (wants('checkpoint')) {
    log('checkpoint write / validate ...')
    checkpoint = checkpointCase()
  }

  const submitRedis = (rows.find((r) => r.id === 'submit' && r.result !== undefined) as GatewayCaseResult | undefined)?.redis
  const ratios = computeRatios(rows, translation, {
    redisUsecPerSubmission: submitRedis?.totalUsecPerRequest,
    redisUsecAlone: scripts?.time?.totalUsecPerRequest,
    memory: memory?.inflight === undefined || memory.ended === undefined
      ? undefined
      : { inflightBytes: memory.inflight.bytesPerIntent, endedBytes: memory.ended.bytesPerIntent },
    statusP99: statusP99(status),
    verifyUs: verify?.gateway?.error === undefined ? verify?.gateway?.usPerVerify : undefined
  })
  const out = [formatHeader(header)]
  if (rows.length > 0) out.push('', formatRows(rows), '', formatRatios(ratios))
  if (options.runtimes.length > 0) out.push('', 'Runtimes (the same rows under each node, interleaved, in this run):', formatRuntimes(rows))
  const redisLines = formatRedisCost(rows)
  if (redisLines !== '') out.push('', 'Redis during the measured runs (INFO commandstats; INFO cpu):', redisLines)
  if (wants('submit-translated') || wants('translation-cost')) out.push('', 'Translation cost:', formatTranslationCost(rows, translation))
  if (wants('submit-verified') || wants('verify-cost')) out.push('', 'Verification cost:', formatVerifyCost(rows, verify))
  if (journal !== undefined) out.push('', 'Admission journal per intent (in process):', formatJournalCost(journal))
  if (scripts !== undefined) out.push('', 'Redis time per submission with Redis on a core of its own (INFO commandstats):', formatRedisScripts(scripts))
  if (memory !== undefined) out.push('', 'Redis memory per intent (INFO memory used_memory, DBSIZE; a Redis of its own):', formatMemory(memory))
  if (status !== undefined) out.push('', `${status.title} (wrk; a Redis of its own):`, formatStatusLoad(status))
  const syscallLines = formatSyscalls(rows)
  if (syscallLines !== '') out.push('', 'Gateway syscalls per request (strace -c; req/s above are slowed by strace):', syscallLines)
  if (swap !== undefined) out.push('', 'Submissions around blue-green swaps (autocannon; windows by the time each request was sent, pooled over the swaps):', formatSwap(swap))
  if (checkpoint !== undefined) out.push('', 'Checkpoints:', formatCheckpoint(checkpoint))
  const perfLines = formatPerf(rows)
  if (perfLines !== '') out.push('', perfLines)
  const profiles = formatProfiles(rows)
  if (profiles !== '') out.push('', profiles)
  let check: CheckOutcome[] | undefined
  if (recorded !== null) {
    check = GUARDED.map((g, i) => {
      const base = cpuOf(rows, g.base)
      const row = cpuOf(rows, g.row)
      return checkRatio(base === undefined || row === undefined ? null : base / row, recorded[i] as number, CHECK_TOLERANCE, g.name)
    })
    out.push('', ...check.map((c) => c.message))
    if (check.some((c) => !c.ok)) process.exitCode = 1
  }
  process.stdout.write(out.join('\n') + '\n')

  const json = {
    header,
    options: { ...options, only: [...options.only] },
    rows,
    ratios,
    swap: swap ?? null,
    translation: translation ?? null,
    verify: verify ?? null,
    journal: journal ?? null,
    memory: memory ?? null,
    scripts: scripts ?? null,
    status: status ?? null,
    checkpoint: checkpoint ?? null,
    check: check ?? null,
    finishedAt: new Date().toISOString()
  }
  await mkdir(path.dirname(path.resolve(options.out)), { recursive: true })
  await writeFile(options.out, JSON.stringify(json, null, 2) + '\n')
  log(`wrote ${options.out}`)
}

async function main (): Promise<void> {
  let options: BenchOptions | null
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  if (options === null) {
    process.stdout.write(USAGE + '\n')
    return
  }
  if (options.perf && !perfAvailable()) {
    process.stderr.write('--perf needs Linux perf (Debian: apt-get install -y linux-perf)\n')
    process.exitCode = 2
    return
  }
  if (options.syscalls && !straceAvailable()) {
    process.stderr.write('--syscalls needs strace (Debian: apt-get install -y strace)\n')
    process.exitCode = 2
    return
  }
  for (const node of options.runtimes) {
    try {
      probeRuntime(node)
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`)
      process.exitCode = 2
      return
    }
  }
  let recorded: number[] | null = null
  if (options.check) {
    const docs = await readFile(CHECK_DOC, 'utf8').catch(() => '')
    recorded = []
    for (const g of GUARDED) {
      const ratio = recordedRatio(docs, g.name)
      if (ratio === null) {
        process.stderr.write(`--check: ${CHECK_DOC} has no line 'bench-check: ${g.name} CPU ratio = <ratio>' to compare with\n`)
        process.exitCode = 2
        return
      }
      recorded.push(ratio)
    }
  }
  const resources = new Resources()
  const interrupt = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping everything the bench started ...`)
    resources.close().finally(() => process.exit(130)).catch(() => {})
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    await bench(options, resources, recorded)
  } finally {
    await resources.close()
  }
}

await main()
