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

/** Bodies signed beforehand (lib/signed.ts): each load run gets a file of fresh ones, enough for its duration. */
export interface SignedSource {
  prepare: (durationSec: number) => Promise<{ file: string, count: number }>
  /** After a run: the rate it saw sizes the next file. */
  observe: (result: LoadResult) => void
}

export type Request = { method: 'GET', path: string } | { method: 'POST', path: string, intent: BodyTemplate } | { method: 'POST', path: string, signed: SignedSource }

/** Thrown when a measured run sent more requests than it had signed bodies (the rest would be replays). */
export class BodiesExhaustedError extends Error {}

/**
 * Warm-up, then the measured run against `url`, all with the options' connection count. `targetPid` is the
 * process under test (its CPU per request is reported).
 */
export async function measure (
  ctx: BenchContext,
  url: string,
  targetPid: number,
  request: Request,
  beforeMeasured?: () => Promise<void>
): Promise<{ result: LoadResult, cpu: CpuUse, warmup: Warmup }> {
  const warmup = await warmUp(ctx, url, request)
  const spec = await loadSpec(ctx, url, request, ctx.options.durationSec)
  await beforeMeasured?.()
  const before = snapshot(ctx.resources.pids(), [targetPid])
  const result = await run(ctx, spec, request)
  if (spec.bodies !== undefined && result.requests + spec.connections > spec.bodies.count) {
    const refused = result.badStatus > 0 ? ` (${result.badStatus} answers had a bad status: were the bodies refused?)` : ''
    throw new BodiesExhaustedError(`the measured run sent ${result.requests} requests or more, beyond the ${spec.bodies.count} signed bodies prepared for it${refused}`)
  }
  return { result, cpu: since(before), warmup }
}

/** One load run, telling a signed source the rate it saw. */
export async function run (ctx: BenchContext, spec: LoadSpec, request: Request): Promise<LoadResult> {
  const result = await ctx.load.run(spec)
  if ('signed' in request) request.signed.observe(result)
  return result
}

export async function loadSpec (ctx: BenchContext, url: string, request: Request, durationSec: number): Promise<LoadSpec> {
  return {
    url,
    method: request.method,
    path: request.path,
    body: 'intent' in request ? { template: request.intent, nonceBase: ctx.nonces.take() } : undefined,
    bodies: 'signed' in request ? await request.signed.prepare(durationSec) : undefined,
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
  let requests = (await run(ctx, await loadSpec(ctx, url, request, ctx.options.warmupSec), request)).requests
  while (requests < ctx.options.warmupRequests && elapsed() + 1 <= ctx.options.warmupMaxSec) {
    requests += (await run(ctx, await loadSpec(ctx, url, request, 1), request)).requests
  }
  return { requests, seconds: elapsed() }
}

/** The path every pass-through row requests: not the intent path, so the gateway passes it through. */
export const PASS_THROUGH_PATH = '/bench/pass-through'
export const INTENT_PATH = '/intents'
