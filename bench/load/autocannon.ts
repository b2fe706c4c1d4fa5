/**
 * autocannon as the fallback load generator (when wrk cannot be installed), and the timed generator of the swap
 * case: it runs in the bench's own process and reports every answer with its latency, so answers can be sorted
 * into time windows. Its figures are lower than wrk's on 2 cores (a Node load generator competes with the
 * servers for CPU); compare rows measured by the same generator only.
 */
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { fillTemplate } from '../lib/intents.js'
import type { LoadGenerator, LoadResult, LoadSpec } from './types.js'

/** One answer: when its request was sent (ms since the run started), how long it took, its status. */
export interface Sample { sentAtMs: number, latencyMs: number, status: number }

export interface TimedRun {
  result: LoadResult
  samples: Sample[]
  /** performance.now() at the start of the run, the origin of `sentAtMs`. */
  startedAt: number
}

function requestsFor (spec: LoadSpec): autocannon.Request[] | undefined {
  if (spec.bodies !== undefined) {
    const lines = readFileSync(spec.bodies.file, 'utf8').split('\n').filter((l) => l !== '')
    let next = 0
    return [{
      method: spec.method,
      path: spec.path,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: lines[next++ % lines.length] })
    }]
  }
  const body = spec.body
  if (body === undefined) return undefined
  let counter = 0
  return [{
    method: spec.method,
    path: spec.path,
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({ ...req, body: fillTemplate(body.template, body.nonceBase + (++counter)) })
  }]
}

async function runAutocannon (spec: LoadSpec, onSample?: (s: Sample) => void, started = performance.now()): Promise<LoadResult> {
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: spec.url + spec.path,
      method: spec.method,
      connections: spec.connections,
      duration: spec.durationSec,
      timeout: 10,
      requests: requestsFor(spec)
    }, (err: unknown, result) => {
      if (err instanceof Error) reject(err)
      else if (err !== null && err !== undefined) reject(new Error(String(err)))
      else resolve(result)
    })
    if (onSample !== undefined) {
      instance.on('response', (_client: unknown, status: number, _bytes: number, latencyMs: number) => {
        const now = performance.now() - started
        onSample({ sentAtMs: now - latencyMs, latencyMs, status })
      })
    }
  })
  const durationSec = r.duration
  return {
    generator: 'autocannon',
    requests: r.requests.total,
    durationSec,
    rps: r.requests.total / durationSec,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    badStatus: r.non2xx,
    errors: r.errors + r.timeouts
  }
}

export class Autocannon implements LoadGenerator {
  readonly name = 'autocannon'
  async run (spec: LoadSpec): Promise<LoadResult> {
    return await runAutocannon(spec)
  }
}

/** Something to do at a fixed time into a timed run (the swap). */
export interface TimedAction {
  name: string
  atMs: number
  run: () => Promise<void>
}

export interface ActionTiming { name: string, startedMs: number, endedMs: number, error?: string }

/** A run that keeps every answer's send time and latency, and runs `actions` at their times into the run. */
export async function timedRun (spec: LoadSpec, actions: TimedAction[] = []): Promise<TimedRun & { actions: ActionTiming[] }> {
  const samples: Sample[] = []
  const startedAt = performance.now()
  const timings: Array<Promise<ActionTiming>> = actions.map(async (action) => {
    await new Promise((resolve) => setTimeout(resolve, action.atMs))
    const startedMs = performance.now() - startedAt
    try {
      await action.run()
      return { name: action.name, startedMs, endedMs: performance.now() - startedAt }
    } catch (err) {
      return { name: action.name, startedMs, endedMs: performance.now() - startedAt, error: (err as Error).message }
    }
  })
  const result = await runAutocannon(spec, (s) => samples.push(s), startedAt)
  return { result, samples, startedAt, actions: await Promise.all(timings) }
}
