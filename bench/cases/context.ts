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
  /** With --rounds N: every round's result, in order (the row shows the median round). */
  rounds?: Array<LoadResult | null>
}

export type Request = { method: 'GET', path: string } | { method: 'POST', path: string, intent: BodyTemplate }

/**
 * Warm-up, then the measured run against `url`, all with the options' connection count. `targetPid` is the
 * process under test (its CPU per request is reported).
 */
export async function measure (ctx: BenchContext, url: string, targetPid: number, request: Request, beforeMeasured?: () => Promise<void>): Promise<{ result: LoadResult, cpu: CpuUse }> {
  const spec = (durationSec: number): LoadSpec => ({
    url,
    method: request.method,
    path: request.path,
    body: request.method === 'POST' ? { template: request.intent, nonceBase: ctx.nonces.take() } : undefined,
    connections: ctx.options.connections,
    durationSec
  })
  await ctx.load.run(spec(ctx.options.warmupSec))
  await beforeMeasured?.()
  const before = snapshot(ctx.resources.pids(), [targetPid])
  const result = await ctx.load.run(spec(ctx.options.durationSec))
  return { result, cpu: since(before) }
}

/** The path every pass-through row requests: not the intent path, so the gateway passes it through. */
export const PASS_THROUGH_PATH = '/bench/pass-through'
export const INTENT_PATH = '/intents'
