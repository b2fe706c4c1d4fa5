/**
 * The bench's command line: `node dist/bench/run.js [--quick] [--duration S] [--warmup S] [--warmup-requests N]
 * [--warmup-max S] [--connections N] [--rounds N] [--load auto|wrk|autocannon] [--only ID,...] [--runtimes NODE,...]
 * [--profile] [--perf] [--syscalls] [--out FILE] [--check]`. Bad flags exit 2 naming the flag.
 */
import { parseArgs } from 'node:util'

export const CASE_IDS = [
  'backend', 'backend-submit', 'http-proxy', 'undici-proxy', 'pass-through', 'pass-through-post', 'submit', 'submit-translated', 'submit-verified', 'submit-wait-replicas',
  'translation-cost', 'verify-cost', 'journal-cost', 'redis-memory', 'redis-scripts', 'status-under-load', 'swap', 'checkpoint'
] as const

/** What `--runtimes` runs under each runtime. */
export const RUNTIME_CASES: readonly CaseId[] = ['pass-through', 'submit']

/** What `--check` runs: the rows of the ratios it guards (bench/report/check.ts). */
export const CHECK_CASES: readonly CaseId[] = ['pass-through', 'submit', 'submit-verified']
export type CaseId = typeof CASE_IDS[number]

export interface BenchOptions {
  durationSec: number
  warmupSec: number
  /** Keep warming up until the target served this many requests ... */
  warmupRequests: number
  /** ... or this many seconds of warm-up passed. */
  warmupMaxSec: number
  connections: number
  load: 'auto' | 'wrk' | 'autocannon'
  only: Set<CaseId>
  /** Run the gateway cases with `node --cpu-prof` and summarise where the time went. */
  profile: boolean
  out: string
  quick: boolean
  /** Count the gateway's syscalls per request with strace (slows it down: figures not comparable). */
  syscalls: boolean
  /** Profile the gateway's measured run with Linux perf (on-CPU samples). */
  perf: boolean
  /** Runs of every row, interleaved; each row reports its median round. */
  rounds: number
  /** Regression guard: run the pass-through, submit and verified rows only and compare their CPU ratios with the docs'. */
  check: boolean
  /** Node binaries to run the pass-through and submit rows under, each in turn (empty: the bench's own). */
  runtimes: string[]
}

export const USAGE = `usage: npm run bench -- [options]     (or: node dist/bench/run.js [options])
  --quick              2 s per case after a warm-up of 1 s and 8000 requests (at most 8 s)
  --duration S         seconds measured per case
  --warmup S           at least S seconds of warm-up load before each measured run (default 2; not counted)
  --warmup-requests N  and at least N requests of it (default 25000: V8 optimises by calls, not seconds)
  --warmup-max S       but no more than S seconds of warm-up (default 30)
  --connections N      client connections, the same for every case (default 64)
  --rounds N           run every row N times, in turn, and report each row's median round (default 1)
  --load GEN           auto (wrk, installed when missing; autocannon if that fails) | wrk | autocannon
  --only IDS           comma-separated cases: ${CASE_IDS.join(', ')}
  --profile            run the gateway under node --cpu-prof and print where its time goes
  --perf               profile each gateway's measured run with Linux perf (CPU really used, by kind and function)
  --syscalls           count the gateway's syscalls per request with strace (slows it: req/s not comparable)
  --out FILE           where the JSON goes (default bench/results/latest.json)
  --runtimes A,B       run the ${RUNTIME_CASES.join(' and ')} rows under each of these node binaries, in turn, in one run
                       (e.g. /usr/bin/node and Node 24 from tools/node/fetch.sh); alone, only those rows
  --check              regression guard: only the ${CHECK_CASES.join(', ')} rows (3 rounds unless --rounds); exit 1
                       when a CPU ratio (pass-through us / submit us, pass-through us / verified submit us, medians)
                       falls more than 20% below the one recorded in docs/benchmarks.md. Not comparable with --quick
  -h, --help           this text`

export class UsageError extends Error {}

function positiveInt (flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got '${value}'`)
  return n
}

/** Parses argv; returns null when help was asked for. */
export function parseOptions (argv: string[]): BenchOptions | null {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        'warmup-requests': { type: 'string' },
        'warmup-max': { type: 'string' },
        connections: { type: 'string' },
        rounds: { type: 'string' },
        load: { type: 'string', default: 'auto' },
        only: { type: 'string' },
        profile: { type: 'boolean', default: false },
        syscalls: { type: 'boolean', default: false },
        perf: { type: 'boolean', default: false },
        out: { type: 'string', default: 'bench/results/latest.json' },
        check: { type: 'boolean', default: false },
        runtimes: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false }
      },
      strict: true,
      allowPositionals: false
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const v = parsed.values
  if (v.help) return null
  if (v.load !== 'auto' && v.load !== 'wrk' && v.load !== 'autocannon') {
    throw new UsageError(`--load must be auto, wrk or autocannon, got '${v.load}'`)
  }
  if (v.check && v.only !== undefined) throw new UsageError('--check runs its own rows; it does not take --only')
  const runtimes = v.runtimes === undefined ? [] : v.runtimes.split(',').map((s) => s.trim())
  if (v.runtimes !== undefined && (runtimes.length === 0 || runtimes.some((r) => r === ''))) throw new UsageError(`--runtimes takes node binaries separated by commas, got '${v.runtimes}'`)
  if (v.check && runtimes.length > 0) throw new UsageError('--check compares with the recorded ratio on one runtime; it does not take --runtimes')
  const only = new Set<CaseId>()
  for (const id of (v.only ?? (v.check ? CHECK_CASES : runtimes.length > 0 ? RUNTIME_CASES : CASE_IDS).join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(CASE_IDS as readonly string[]).includes(id)) throw new UsageError(`--only: unknown case '${id}' (cases: ${CASE_IDS.join(', ')})`)
    only.add(id as CaseId)
  }
  return {
    quick: v.quick,
    durationSec: positiveInt('duration', v.duration, v.quick ? 2 : 6),
    warmupSec: positiveInt('warmup', v.warmup, v.quick ? 1 : 2),
    warmupRequests: positiveInt('warmup-requests', v['warmup-requests'], v.quick ? 8000 : 25_000),
    warmupMaxSec: positiveInt('warmup-max', v['warmup-max'], v.quick ? 8 : 30),
    connections: positiveInt('connections', v.connections, 64),
    // The guard compares medians: one round on a shared machine swings by a third.
    rounds: positiveInt('rounds', v.rounds, v.check ? 3 : 1),
    load: v.load,
    only,
    profile: v.profile,
    syscalls: v.syscalls,
    perf: v.perf,
    out: v.out,
    check: v.check,
    runtimes
  }
}
