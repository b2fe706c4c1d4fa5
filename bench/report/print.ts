/**
 * The human side of a run: one table of every row (req/s, p50, p99, errors, and how busy the rest of the machine
 * was), the ratios with their aims, the swap windows, the checkpoint timings and, with --profile, the gateway's
 * hot spots.
 */
import type { CaseResult } from '../cases/context.js'
import type { CheckpointResult } from '../cases/checkpoint-timing.js'
import type { GatewayCaseResult } from '../cases/gateway.js'
import type { SwapResult } from '../cases/swap.js'
import type { TranslationCost } from '../cases/translation-cost.js'
import type { Ratio } from './ratios.js'
import { formatValue } from './units.js'

export interface RunHeader {
  warmupRequests: number
  warmupMaxSec: number
  rounds: number
  startedAt: string
  cores: number
  cpuModel: string
  node: string
  generator: string
  connections: number
  durationSec: number
  warmupSec: number
  loadAvg: number[]
}

const num = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-'
const pad = (s: string, w: number): string => s.length >= w ? s : s + ' '.repeat(w - s.length)
const lpad = (s: string, w: number): string => s.length >= w ? s : ' '.repeat(w - s.length) + s

function table (headers: string[], rows: string[][], leftCols = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i < leftCols ? pad(c, widths[i] ?? 0) : lpad(c, widths[i] ?? 0))).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

/** CPU time the process under test spent per request, in microseconds. */
export function cpuPerRequestUs (r: CaseResult): number {
  if (r.cpu === undefined || r.result === undefined || r.result.requests === 0) return Number.NaN
  // The CPU window spans a little more than the load run: scale the requests to it.
  const requests = r.result.rps * r.cpu.seconds
  return r.cpu.targetCpuSec * 1e6 / requests
}

export function formatPerf (rows: GatewayCaseResult[]): string {
  const out: string[] = []
  const pct = (share: number): string => `${(share * 100).toFixed(1)}%`
  for (const r of rows) {
    if (r.perf === undefined) continue
    out.push(`perf profile of ${r.id} (measured run, ${r.perf.samples} samples of CPU actually used):`)
    out.push('  by kind:   ' + r.perf.byKind.map((k) => `${k.name} ${pct(k.share)}`).join(', '))
    out.push('  JavaScript, inclusive:')
    for (const e of r.perf.inclusiveJs.slice(0, 18)) out.push(`    ${lpad(pct(e.share), 6)}  ${e.name}`)
    out.push('  hottest symbols, self:')
    for (const e of r.perf.self.slice(0, 10)) out.push(`    ${lpad(pct(e.share), 6)}  ${e.name}`)
  }
  return out.join('\n')
}

export function formatSyscalls (rows: GatewayCaseResult[]): string {
  return rows.filter((r) => r.syscalls !== undefined).map((r) =>
    `  ${r.title}: ${(r.syscalls ?? []).map((s) => `${s.name} ${s.perRequest.toFixed(2)}`).join(', ')}`).join('\n')
}

export function formatRows (rows: CaseResult[]): string {
  return table(['case', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'bad status', 'errors', 'cpu us/req (rounds)', 'bench cpu', 'others\' cpu'], rows.map((r) => {
    if (r.result === undefined) return [r.title, r.skipped !== undefined ? (r.skipped.startsWith('n/a') ? r.skipped : `skipped: ${r.skipped}`) : `FAILED: ${(r.error ?? '').split('\n')[0] ?? ''}`]
    const x = r.result
    const roundsCpu = r.rounds === undefined ? '' : ` (${r.rounds.map((x) => x.cpuUsPerRequest === null ? '-' : num(x.cpuUsPerRequest, 0)).join('/')})`
    return [r.title, num(x.rps), num(x.p50Ms, 2), num(x.p99Ms, 2), num(x.maxMs, 1), num(x.badStatus), num(x.errors),
      r.cpu === undefined ? '-' : num(cpuPerRequestUs(r), 0) + roundsCpu,
      r.cpu === undefined ? '-' : `${num(r.cpu.benchCores, 2)} cores`, r.cpu === undefined ? '-' : `${num(r.cpu.otherCores, 2)} cores`]
  }))
}

/** --runtimes: the pass-through and submit rows side by side per Node version (from the rows' `on Node X` titles). */
export function formatRuntimes (rows: CaseResult[]): string {
  const byVersion = new Map<string, { pass?: CaseResult, submit?: CaseResult }>()
  for (const r of rows) {
    const version = / on Node (\S+)$/.exec(r.title)?.[1]
    if (version === undefined || (r.id !== 'pass-through' && r.id !== 'submit')) continue
    const entry = byVersion.get(version) ?? {}
    if (r.id === 'pass-through') entry.pass = r
    else entry.submit = r
    byVersion.set(version, entry)
  }
  const rps = (r?: CaseResult): string => r?.result === undefined ? '-' : num(r.result.rps)
  const cpu = (r?: CaseResult): string => r === undefined ? '-' : num(cpuPerRequestUs(r), 0)
  return table(['Node', 'pass-through req/s', 'pass-through cpu us/req', 'submit req/s', 'submit cpu us/req', 'submit/pass-through by CPU'], [...byVersion].map(([version, e]) => {
    const ratio = e.pass === undefined || e.submit === undefined ? Number.NaN : cpuPerRequestUs(e.pass) / cpuPerRequestUs(e.submit)
    return [version, rps(e.pass), cpu(e.pass), rps(e.submit), cpu(e.submit), Number.isFinite(ratio) ? `${num(ratio, 2)}x` : '-']
  }))
}

export function formatRatios (ratios: Ratio[]): string {
  return table(['ratio (req/s and p50 swing with the machine\'s load; the CPU lines are steadier)', 'value', 'aim', ''], ratios.map((r) => [
    r.name,
    r.value === null ? 'n/a' : formatValue(r.value, r.unit),
    r.aim ?? '',
    r.met === null ? '' : r.met ? 'met' : 'MISSED'
  ]))
}

export function formatSwap (swap: SwapResult): string {
  if (swap.skipped !== undefined) return `swap: skipped: ${swap.skipped}`
  if (swap.windows === undefined) return `swap: FAILED: ${swap.error ?? 'no result'}`
  const lines = [table(['window (by send time)', 'answers/swap', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx'], swap.windows.map((w) => [
    `${w.name} (${w.fromMs / 1000}s .. ${w.toMs / 1000}s)`, num(w.answers), num(w.rps), num(w.p50Ms, 2), num(w.p99Ms, 2), num(w.maxMs, 1), num(w.non2xx)
  ]))]
  if (swap.timeline !== undefined) {
    lines.push('answers per 100 ms from -1 s, per swap (| marks the swap): ' + swap.timeline.map((s) => `${s.fromMs === 0 ? '| ' : ''}${Math.round(s.answers)}`).join(' '))
  }
  lines.push(`${swap.swaps ?? 1} swaps made through ${swap.method === 'admin' ? 'POST /admin/upstreams/active' : 'redis SET ...:active'}, the slowest call ${num(swap.swapCallMs ?? NaN, 1)} ms; ` +
    `accepted during the run by blue ${num(swap.accepted?.blue ?? NaN)}, by green ${num(swap.accepted?.green ?? NaN)}`)
  if (swap.perSecond !== undefined) {
    const marks = (swap.swapTimesMs ?? []).map((ms) => Math.floor(ms / 1000))
    lines.push('answers per second over the run (* = a swap in that second): ' + swap.perSecond.map((n, sec) => `${marks.includes(sec) ? '*' : ''}${n}`).join(' '))
  }
  for (const [i, windows] of (swap.perSwap ?? []).entries()) {
    lines.push(`  swap ${i + 1}: ` + windows.map((w) => `${w.name} ${num(w.rps)} req/s p99 ${num(w.p99Ms, 1)} ms`).join(', '))
  }
  return lines.join('\n')
}

export function formatTranslation (t: TranslationCost): string {
  if (t.error !== undefined) return `translation cost: FAILED: ${t.error.split('\n')[0] ?? ''}`
  return `Translation in process (${num(t.iterations)} submissions, no I/O): ${num(t.translateUsPerSubmission, 1)} us of CPU per submission ` +
    `(1.0 -> 2.0 intent and the answer back, serialised), beside ${num(t.validateUsPerSubmission, 1)} us to validate the 1.0 intent`
}

export function formatCheckpoint (cp: CheckpointResult): string {
  if (cp.rows === undefined) return `checkpoint: FAILED: ${cp.error ?? ''}`
  return table(['checkpoint', 'bytes', 'compressed', 'write ms', 'validate ms'], cp.rows.map((r) => [
    r.name, num(r.bytes), r.compressed ? 'yes' : 'no', num(r.write_ms), num(r.validate_ms)
  ]))
}

export function formatProfiles (rows: GatewayCaseResult[]): string {
  const out: string[] = []
  for (const row of rows) {
    if (row.profile === undefined) continue
    if (row.profile === null) { out.push(`profile of ${row.id}: none written (the gateway did not exit cleanly)`); continue }
    const p = row.profile
    out.push(`profile of ${row.id} (${p.file}; ${num(p.busyMs)} ms on CPU, self time):`)
    out.push('  by area:     ' + p.byArea.map((h) => `${h.name} ${(h.share * 100).toFixed(1)}%`).join(', '))
    out.push('  by caller:   ' + p.byCallerArea.map((h) => `${h.name} ${(h.share * 100).toFixed(1)}%`).join(', '))
    out.push('  by calling function (nearest non-core JavaScript frame):')
    for (const h of p.byCallerFunction.slice(0, 15)) out.push(`    ${lpad((h.share * 100).toFixed(1), 5)}%  ${h.name}`)
    out.push('  by file:')
    for (const h of p.byFile.slice(0, 10)) out.push(`    ${lpad((h.share * 100).toFixed(1), 5)}%  ${h.name}`)
    out.push('  by function:')
    for (const h of p.byFunction.slice(0, 15)) out.push(`    ${lpad((h.share * 100).toFixed(1), 5)}%  ${h.name}`)
  }
  return out.join('\n')
}

export function formatHeader (h: RunHeader): string {
  return `intent-gate bench, ${h.startedAt}: ${h.cores} cores (${h.cpuModel}), node ${h.node}, load generator ${h.generator}, ` +
    `${h.connections} connections, ${h.durationSec} s measured per case after a warm-up of at least ${h.warmupSec} s and ${h.warmupRequests} requests (at most ${h.warmupMaxSec} s)${h.rounds > 1 ? `, median of ${h.rounds} rounds` : ''}; ` +
    `load average at start ${h.loadAvg.map((l) => l.toFixed(2)).join(' ')}`
}
