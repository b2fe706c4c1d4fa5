/**
 * Submissions around blue-green swaps (issue 4): steady submission load through one gateway with two 1.0
 * upstreams, both warmed up first; three swaps (blue -> green -> blue -> green) 3 s apart through the admin API
 * (`POST /admin/upstreams/active`; `SET intent-gate:{ns}:active <color>` in Redis when that route is missing).
 * Each answer is put in a window by the time its request was sent: the second before a swap, the second that
 * starts with it, and the second after that; the three swaps are pooled, so one burst of someone else's load on
 * the machine weighs a third. autocannon drives this case whatever --load says: it is the generator that reports
 * each answer's latency as it comes.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startGateway, type Gateway } from '../lib/gateway.js'
import type { BenchRedis } from '../lib/redis.js'
import { backendSubmissions, startBackend } from '../lib/servers.js'
import { percentile } from '../lib/stats.js'
import { timedRun, type Sample } from '../load/autocannon.js'
import type { LoadResult } from '../load/types.js'
import { INTENT_PATH, warmUp, type BenchContext } from './context.js'

const execFileAsync = promisify(execFile)

export interface SwapWindow {
  name: 'before' | 'during' | 'after'
  /** ms from the swap's start to the window's start and end. */
  fromMs: number
  toMs: number
  answers: number
  rps: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  non2xx: number
}

export interface SwapResult {
  id: 'swap'
  title: string
  what: string
  generator: 'autocannon'
  /** How the swaps were made, and how long the slowest call took. */
  method?: 'admin' | 'redis'
  swapCallMs?: number
  /** How many swaps the windows pool (answers and req/s are per swap; latencies over all of them). */
  swaps?: number
  /** Answers per second over the whole timed run (by send time): a drift shows here, a swap's dip stands out. */
  perSecond?: number[]
  /** ms into the run at which each swap started. */
  swapTimesMs?: number[]
  /** Each swap's own windows. */
  perSwap?: SwapWindow[][]
  windows?: SwapWindow[]
  /** 100 ms slices from 1 s before the swap to 2 s after: answers and p99, to see where a dip sits. */
  timeline?: Array<{ fromMs: number, answers: number, p99Ms: number }>
  overall?: LoadResult
  /** Submissions each backend accepted during the timed run: both > 0 shows the swaps took effect. */
  accepted?: { blue: number, green: number }
  skipped?: string
  error?: string
}

const WINDOWS: Array<{ name: SwapWindow['name'], fromMs: number, toMs: number }> = [
  { name: 'before', fromMs: -1000, toMs: 0 },
  { name: 'during', fromMs: 0, toMs: 1000 },
  { name: 'after', fromMs: 1000, toMs: 2000 }
]

export function timeline (samples: Sample[], swapAtMs: number): NonNullable<SwapResult['timeline']> {
  const slices: NonNullable<SwapResult['timeline']> = []
  for (let from = -1000; from < 2000; from += 100) {
    const inside = samples.filter((s) => s.sentAtMs >= swapAtMs + from && s.sentAtMs < swapAtMs + from + 100).map((s) => s.latencyMs)
    slices.push({ fromMs: from, answers: inside.length, p99Ms: percentile(inside, 99) })
  }
  return slices
}

export function windowStats (samples: Sample[], swapAtMs: number): SwapWindow[] {
  return WINDOWS.map((w) => {
    const inside = samples.filter((s) => s.sentAtMs >= swapAtMs + w.fromMs && s.sentAtMs < swapAtMs + w.toMs)
    const latencies = inside.map((s) => s.latencyMs)
    return {
      ...w,
      answers: inside.length,
      rps: inside.length / ((w.toMs - w.fromMs) / 1000),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: percentile(latencies, 100),
      non2xx: inside.filter((s) => s.status < 200 || s.status > 299).length
    }
  })
}

async function swapTo (color: 'blue' | 'green', gateway: Gateway, redis: BenchRedis, namespace: string): Promise<'admin' | 'redis'> {
  const res = await fetch(`${gateway.adminUrl}/admin/upstreams/active`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gateway.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ color })
  })
  const text = await res.text()
  if (res.ok) return 'admin'
  if (res.status !== 404) throw new Error(`the admin API refused the swap to ${color}: ${res.status} ${text}`)
  // The admin route is not there (yet): the Redis key is the other way docs/specification.md section 4 gives operators.
  await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), 'SET', `intent-gate:{${namespace}}:active`, color])
  return 'redis'
}

/** Every swap's answers, shifted so each swap is at 0: windows and timeline over all swaps at once. */
export function pooled (samples: Sample[], swapTimes: number[]): Sample[] {
  return swapTimes.flatMap((at) => samples
    .filter((s) => s.sentAtMs >= at - 1000 && s.sentAtMs < at + 2000)
    .map((s) => ({ ...s, sentAtMs: s.sentAtMs - at })))
}

/** Per-second figures over `swaps` swaps: answers and req/s averaged per swap, latencies pooled. */
function averaged (windows: SwapWindow[], swaps: number): SwapWindow[] {
  return windows.map((w) => ({ ...w, answers: w.answers / swaps, rps: w.rps / swaps, non2xx: w.non2xx }))
}

const SWAPS: Array<'green' | 'blue'> = ['green', 'blue', 'green']
const FIRST_SWAP_MS = 2000
/** Each swap's three windows (3 s) fit between it and the next. */
const SWAP_SPACING_MS = 3000

export async function swapCase (ctx: BenchContext, redis: BenchRedis): Promise<SwapResult> {
  const base = {
    id: 'swap' as const,
    title: 'submissions around a blue-green swap',
    what: `steady POST /intents load (autocannon) through one gateway; ${SWAPS.length} swaps (blue -> green -> blue -> green) ${SWAP_SPACING_MS / 1000} s apart; answers grouped by the second their request was sent in, relative to each swap, and pooled`,
    generator: 'autocannon' as const
  }
  const scope = ctx.resources.scope()
  const namespace = 'bench-swap'
  try {
    const blueUrl = (await startBackend(scope, 'backend blue', ['1.0'])).url
    const greenUrl = (await startBackend(scope, 'backend green', ['1.0'])).url
    const gateway = await startGateway(scope, {
      name: 'intent-gate (swap)',
      redisUrl: redis.url,
      namespace,
      blue: { url: blueUrl, versions: ['1.0'] },
      green: { url: greenUrl, versions: ['1.0'] },
      connections: ctx.options.connections
    })
    // A fresh Node backend runs its first thousands of requests unoptimised; warm green directly, so the dip the
    // windows show is the gateway's swap (its pool to green still starts without a single connection).
    await warmUp(ctx, greenUrl, { method: 'POST', path: INTENT_PATH, intent: ctx.intentV1 })
    await warmUp(ctx, gateway.url, { method: 'POST', path: INTENT_PATH, intent: ctx.intentV1 })
    const before = { blue: await backendSubmissions(blueUrl), green: await backendSubmissions(greenUrl) }
    const methods: Array<'admin' | 'redis'> = []
    const run = await timedRun({
      url: gateway.url,
      method: 'POST',
      path: INTENT_PATH,
      body: { template: ctx.intentV1, nonceBase: ctx.nonces.take() },
      connections: ctx.options.connections,
      durationSec: (FIRST_SWAP_MS + SWAPS.length * SWAP_SPACING_MS) / 1000
    }, SWAPS.map((color, i) => ({
      name: `swap to ${color}`,
      atMs: FIRST_SWAP_MS + i * SWAP_SPACING_MS,
      run: async () => { methods.push(await swapTo(color, gateway, redis, namespace)) }
    })))
    const failed = run.actions.find((a) => a.error !== undefined)
    if (failed !== undefined || methods.length !== SWAPS.length) {
      return { ...base, overall: run.result, error: `a swap failed: ${failed?.error ?? 'not every swap ran'}` }
    }
    const swapTimes = run.actions.map((a) => a.startedMs)
    const all = pooled(run.samples, swapTimes)
    return {
      ...base,
      method: methods[0],
      swapCallMs: Math.max(...run.actions.map((a) => a.endedMs - a.startedMs)),
      swaps: SWAPS.length,
      windows: averaged(windowStats(all, 0), SWAPS.length),
      perSwap: swapTimes.map((at) => windowStats(run.samples, at)),
      perSecond: Array.from({ length: Math.ceil(run.result.durationSec) }, (_, sec) => {
        return run.samples.filter((s) => s.sentAtMs >= sec * 1000 && s.sentAtMs < (sec + 1) * 1000).length
      }),
      swapTimesMs: swapTimes,
      timeline: timeline(all, 0).map((s) => ({ ...s, answers: s.answers / SWAPS.length })),
      overall: run.result,
      accepted: { blue: await backendSubmissions(blueUrl) - before.blue, green: await backendSubmissions(greenUrl) - before.green }
    }
  } finally {
    await scope.close()
  }
}
