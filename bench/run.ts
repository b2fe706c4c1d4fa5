#!/usr/bin/env node
/**
 * `npm run bench`: every case of docs/benchmarks.md in one run on this machine, side by side. Starts the
 * backends, the reference proxies, a Redis on a free port and one gateway process per gateway row; prints the
 * table, the ratios the issues aim at, the swap windows and the checkpoint timings; writes the same as JSON
 * (bench/results/latest.json by default). Everything it started is stopped at the end, on an error and on Ctrl-C.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { backendDirect, backendSubmitDirect, bareHttpProxy, bareUndiciProxy } from './cases/baseline.js'
import { checkpointCase, type CheckpointResult } from './cases/checkpoint-timing.js'
import type { BenchContext, CaseResult } from './cases/context.js'
import { passThrough, submit, submitTranslated, type GatewayCaseResult, type GatewayEnv } from './cases/gateway.js'
import { swapCase, type SwapResult } from './cases/swap.js'
import { gatewayBuilt, GATEWAY_MAIN } from './lib/gateway.js'
import { intentV1Template, NonceRanges } from './lib/intents.js'
import { startRedis, type BenchRedis } from './lib/redis.js'
import { Resources } from './lib/resources.js'
import { startBackend } from './lib/servers.js'
import { selectLoadGenerator } from './load/select.js'
import { parseOptions, USAGE, UsageError, type BenchOptions, type CaseId } from './options.js'
import { computeRatios } from './report/ratios.js'
import { formatCheckpoint, formatHeader, formatProfiles, formatRatios, formatRedis, formatRows, formatSwap, type RunHeader } from './report/print.js'

const log = (line: string): void => { process.stderr.write(`[bench] ${line}\n`) }

function wrkVersion (): string | null {
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
  return out.error === undefined ? (/wrk (\S+)/.exec(out.stdout + out.stderr)?.[1] ?? 'unknown') : null
}

async function runRow (id: CaseId, title: string, fn: () => Promise<CaseResult>): Promise<CaseResult> {
  log(`${title} ...`)
  try {
    const row = await fn()
    if (row.result !== undefined) log(`  ${Math.round(row.result.rps)} req/s, p50 ${row.result.p50Ms.toFixed(2)} ms, p99 ${row.result.p99Ms.toFixed(2)} ms`)
    return row
  } catch (err) {
    log(`  FAILED: ${(err as Error).message.split('\n')[0] ?? ''}`)
    return { id, title, what: '', error: (err as Error).stack ?? String(err) }
  }
}

async function bench (options: BenchOptions, resources: Resources): Promise<void> {
  const startedAt = new Date()
  const scratch = await resources.tempDir('run')
  const load = selectLoadGenerator(options.load, resources, scratch, log)
  const ctx: BenchContext = { options, resources, load, nonces: new NonceRanges(), intentV1: intentV1Template(), log }
  const header: RunHeader = {
    startedAt: startedAt.toISOString(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    generator: load.name === 'wrk' ? `wrk ${wrkVersion() ?? ''}`.trim() : 'autocannon (in the bench process)',
    connections: options.connections,
    durationSec: options.durationSec,
    warmupSec: options.warmupSec,
    loadAvg: os.loadavg()
  }
  log(formatHeader(header))
  const wants = (id: CaseId): boolean => options.only.has(id)
  const backend = await startBackend(resources, 'backend 1.0', ['1.0'])
  const rows: CaseResult[] = []

  if (wants('backend')) rows.push(await runRow('backend', 'backend, direct', async () => await backendDirect(ctx, backend)))
  if (wants('backend-submit')) rows.push(await runRow('backend-submit', 'backend, direct POST /intents', async () => await backendSubmitDirect(ctx, backend)))
  if (wants('http-proxy')) rows.push(await runRow('http-proxy', 'bare http-proxy', async () => await bareHttpProxy(ctx, backend)))
  if (wants('undici-proxy')) rows.push(await runRow('undici-proxy', 'bare undici pool', async () => await bareUndiciProxy(ctx, backend)))

  const gatewayRows: Array<[CaseId, string, (env: GatewayEnv) => Promise<GatewayCaseResult>]> = [
    ['pass-through', 'intent-gate pass-through', async (env) => await passThrough(ctx, env)],
    ['submit', 'intent-gate submit (Redis)', async (env) => await submit(ctx, env)],
    ['submit-translated', 'intent-gate submit, translated', async (env) => await submitTranslated(ctx, env)]
  ]
  const needsGateway = gatewayRows.some(([id]) => wants(id)) || wants('swap')
  const notBuilt = `the gateway is not built yet (${path.relative(process.cwd(), GATEWAY_MAIN)})`
  let redis: BenchRedis | undefined
  if (needsGateway && gatewayBuilt()) {
    redis = await startRedis(resources)
    log(`redis-server ${redis.version} on ${redis.url}`)
  }
  const env: GatewayEnv | undefined = redis === undefined ? undefined : { redis, backendUrl: backend.url, profileRoot: path.resolve(path.dirname(options.out), 'profiles') }
  for (const [id, title, fn] of gatewayRows) {
    if (!wants(id)) continue
    if (env === undefined) rows.push({ id, title, what: '', skipped: notBuilt })
    else rows.push(await runRow(id, title, async () => await fn(env)))
  }

  let swap: SwapResult | undefined
  if (wants('swap')) {
    log('submissions around a blue-green swap ...')
    if (redis === undefined) swap = { id: 'swap', title: 'submissions around a blue-green swap', what: '', generator: 'autocannon', skipped: notBuilt }
    else {
      const r = redis
      swap = await swapCase(ctx, r).catch((err: Error) => ({ id: 'swap' as const, title: 'submissions around a blue-green swap', what: '', generator: 'autocannon' as const, error: err.stack ?? String(err) }))
    }
  }

  let checkpoint: CheckpointResult | undefined
  if (wants('checkpoint')) {
    log('checkpoint write / validate ...')
    checkpoint = checkpointCase()
  }

  const ratios = computeRatios(rows)
  const out = [formatHeader(header)]
  if (rows.length > 0) out.push('', formatRows(rows), '', formatRatios(ratios))
  const redisLines = formatRedis(rows)
  if (redisLines !== '') out.push('', 'Redis during the measured runs:', redisLines)
  if (swap !== undefined) out.push('', 'Submissions around a blue-green swap (autocannon, windows by the time each request was sent):', formatSwap(swap))
  if (checkpoint !== undefined) out.push('', 'Checkpoints:', formatCheckpoint(checkpoint))
  const profiles = formatProfiles(rows)
  if (profiles !== '') out.push('', profiles)
  process.stdout.write(out.join('\n') + '\n')

  const json = { header, options: { ...options, only: [...options.only] }, rows, ratios, swap: swap ?? null, checkpoint: checkpoint ?? null, finishedAt: new Date().toISOString() }
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
  const resources = new Resources()
  const interrupt = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping everything the bench started ...`)
    resources.close().finally(() => process.exit(130)).catch(() => {})
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    await bench(options, resources)
  } finally {
    await resources.close()
  }
}

await main()
