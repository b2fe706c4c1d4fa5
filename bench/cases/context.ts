/**
 * What every case gets from the runner, and the one way a case measures a target: a warm-up run (discarded),
 * then the measured run, with the machine's CPU use recorded around it.
 */
import { since, snapshot, type CpuUse } from '../lib/cpu.js'
import type { NonceRanges, BodyTemplate } from '../lib/intents.js'
import type { Resources } from '../lib/resources.js'
import type { LoadGenerator, LoadResult, LoadSpec } from '../load/types.js'
import type { BenchOptions, CaseId } from '../options.js'

export interface BenchContext {
  options: BenchOptions
  resources: Resources
  load: LoadGenerator
  nonces: NonceRanges
  /** A 1.0 intent around a nonce: every submission case sends it. */
  intentV1: BodyTemplate
  log: (line: string) => void
}

export interface CaseResult {
  id: CaseId
  title: string
  /** What the row measures, for the report and docs. */
  what: string
  result?: LoadResult
  cpu?: CpuUse
  /** Why the case did not run (a part not built yet), or why it failed. */
  skipped?: string
  error?: string
  /** The unmeasured load before the measured run. */
  warmup?: Warmup
  /** With --rounds N: every round's result, in order (the row shows the median round). */
  rounds?: Array<{ result: LoadResult | null, cpu: CpuUse | null, cpuUsPerRequest: number | null }>
}

export type Request = { method: 'GET', path: string } | { method: 'POST', path: string, intent: BodyTemplate }

/**
 * Warm-up, then the measured run against `url`, all with the options' connection count. `targetPid` is the
 * process under test (its CPU per request is reported).
 */
export async function measure (ctx: BenchContext, url: string, targetPid: number, request: Request, beforeMeasured?: () => Promise<void>): Promise<{ result: LoadResult, cpu: CpuUse, warmup: Warmup }> {
  const warmup = await warmUp(ctx, url, request)
  await beforeMeasured?.()
  const before = snapshot(ctx.resources.pids(), [targetPid])
  const result = await ctx.load.run(loadSpec(ctx, url, request, ctx.options.durationSec))
  return { result, cpu: since(before), warmup }
}

export function loadSpec (ctx: BenchContext, url: string, request: Request, durationSec: number): LoadSpec {
  return {
    url,
    method: request.method,
    path: request.path,
    body: request.method === 'POST' ? { template: request.intent, nonceBase: ctx.nonces.take() } : undefined,
    connections: ctx.options.connections,
    durationSec
  }
}

export interface Warmup { requests: number, seconds: number }

/**
 * Load that is not measured, until the target has served `--warmup-requests` (V8 optimises a function after
 * enough calls, not after enough seconds: on a busy machine a few seconds can leave the gateway half compiled,
 * its optimising compiler then taking a third of its CPU in the measured run) and `--warmup` seconds have passed,
 * or `--warmup-max` seconds, whichever comes first.
 */
export async function warmUp (ctx: BenchContext, url: string, request: Request): Promise<Warmup> {
  const started = performance.now()
  const elapsed = (): number => (performance.now() - started) / 1000
  let requests = (await ctx.load.run(loadSpec(ctx, url, request, ctx.options.warmupSec))).requests
  while (requests < ctx.options.warmupRequests && elapsed() + 1 <= ctx.options.warmupMaxSec) {
    requests += (await ctx.load.run(loadSpec(ctx, url, request, 1))).requests
  }
  return { requests, seconds: elapsed() }
}

/** The path every pass-through row requests: not the intent path, so the gateway passes it through. */
export const PASS_THROUGH_PATH = '/bench/pass-through'
export const INTENT_PATH = '/intents'
