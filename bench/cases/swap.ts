/**
 * Submissions around a blue-green swap (issue 4): steady submission load through one gateway with two 1.0
 * upstreams, warmed up first; two seconds into the measured run the active color is swapped blue -> green through the admin API
 * (`POST /admin/upstreams/active`; `SET intent-gate:{ns}:active green` in Redis when that route is missing).
 * Each answer is put in a window by the time its request was sent: the second before the swap, the second that
 * starts with it, and the second after that (green is warmed up directly first). autocannon drives this case
 * whatever --load says: it is the generator that reports each answer's latency as it comes.
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
  /** How the swap was made, and how long the call took. */
  method?: 'admin' | 'redis'
  swapCallMs?: number
  windows?: SwapWindow[]
  /** 100 ms slices from 1 s before the swap to 2 s after: answers and p99, to see where a dip sits. */
  timeline?: Array<{ fromMs: number, answers: number, p99Ms: number }>
  overall?: LoadResult
  /** Submissions each backend accepted during the case: green > 0 shows the swap took effect. */
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

async function swapToGreen (gateway: Gateway, redis: BenchRedis, namespace: string): Promise<'admin' | 'redis'> {
  const res = await fetch(`${gateway.adminUrl}/admin/upstreams/active`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gateway.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ color: 'green' })
  })
  const text = await res.text()
  if (res.ok) return 'admin'
  if (res.status !== 404) throw new Error(`the admin API refused the swap: ${res.status} ${text}`)
  // The admin route is not there (yet): the Redis key is the other way INTERFACE section 4 gives operators.
  await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), 'SET', `intent-gate:{${namespace}}:active`, 'green'])
  return 'redis'
}

export async function swapCase (ctx: BenchContext, redis: BenchRedis): Promise<SwapResult> {
  const base = {
    id: 'swap' as const,
    title: 'submissions around a blue-green swap',
    what: 'steady POST /intents load (autocannon) through one gateway; blue -> green swapped 2 s after the warm-up; answers grouped by the second their request was sent in',
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
    const greenWarmup = await backendSubmissions(greenUrl)
    await warmUp(ctx, gateway.url, { method: 'POST', path: INTENT_PATH, intent: ctx.intentV1 })
    const swapAt = 2000
    let method: 'admin' | 'redis' | undefined
    const run = await timedRun({
      url: gateway.url,
      method: 'POST',
      path: INTENT_PATH,
      body: { template: ctx.intentV1, nonceBase: ctx.nonces.take() },
      connections: ctx.options.connections,
      durationSec: 5
    }, [{ name: 'swap', atMs: swapAt, run: async () => { method = await swapToGreen(gateway, redis, namespace) } }])
    const swap = run.actions[0]
    if (swap === undefined || swap.error !== undefined || method === undefined) {
      return { ...base, overall: run.result, error: `the swap failed: ${swap?.error ?? 'it never ran'}` }
    }
    return {
      ...base,
      method,
      swapCallMs: swap.endedMs - swap.startedMs,
      windows: windowStats(run.samples, swap.startedMs),
      timeline: timeline(run.samples, swap.startedMs),
      overall: run.result,
      accepted: { blue: await backendSubmissions(blueUrl), green: await backendSubmissions(greenUrl) - greenWarmup }
    }
  } finally {
    await scope.close()
  }
}
