/**
 * The per-intent costs beside the rows (issues 10, 12 and 13): Redis's time and the implied ceiling per Redis
 * core, translation and verification the way a client meets them (the difference of two rows) beside their
 * in-process figures, Redis memory per intent, and submissions while a client polls status.
 */
import type { CaseResult } from '../cases/context.js'
import type { GatewayCaseResult } from '../cases/gateway.js'
import type { RedisMemoryResult } from '../cases/redis-memory.js'
import type { StatusLoadResult } from '../cases/status-load.js'
import type { TranslationCost } from '../cases/translation-cost.js'
import type { VerifyCost } from '../cases/verify-cost.js'
import { ceilingPerCore } from '../lib/info.js'
import type { CaseId } from '../options.js'
import { cpuPerRequestUs, formatTranslation } from './print.js'
import { cpuOf } from './ratios.js'

const num = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-'
const signed = (n: number, digits = 1): string => Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${num(n, digits)}` : '-'

export function formatRedisCost (rows: GatewayCaseResult[]): string {
  return rows.filter((r) => r.redis !== undefined && r.result !== undefined).map((r) => {
    const x = r.redis as NonNullable<GatewayCaseResult['redis']>
    const inside = x.countedInsideScripts.length === 0 ? '' : ` (${x.countedInsideScripts.join(', ')} counted inside the scripts)`
    const all = x.commands.map((c) => `${c.command} ${num(c.calls)}`).join(', ')
    return [
      `  ${r.title}: ${num(x.totalUsecPerRequest, 1)} us of Redis command time per request -> ceiling ${num(ceilingPerCore(x.totalUsecPerRequest))} intents/s per Redis core`,
      `    scripts ${num(x.scriptCallsPerRequest, 2)} calls and ${num(x.scriptUsecPerRequest, 1)} us, other commands ${num(x.otherUsecPerRequest, 1)} us${inside};` +
        ` Redis main-thread CPU (commands and their network I/O) ${num(x.cpuUsPerRequest, 1)} us -> ceiling ${num(ceilingPerCore(x.cpuUsPerRequest))}/s`,
      `    commands counted, script internals included: ${all}`
    ].join('\n')
  }).join('\n')
}

function measured (rows: CaseResult[], id: CaseId): CaseResult | undefined {
  return rows.find((r) => r.id === id && r.result !== undefined && r.error === undefined)
}

/** One row against another: what the first adds per request, by gateway CPU and by p50. */
function difference (rows: CaseResult[], id: CaseId, baseId: CaseId): string | null {
  const a = measured(rows, id)
  const b = measured(rows, baseId)
  if (a === undefined || b === undefined) return null
  const cpuA = cpuOf(rows, id) ?? cpuPerRequestUs(a)
  const cpuB = cpuOf(rows, baseId) ?? cpuPerRequestUs(b)
  const p50A = a.result?.p50Ms ?? Number.NaN
  const p50B = b.result?.p50Ms ?? Number.NaN
  return `${signed(cpuA - cpuB)} us of gateway CPU per request (${num(cpuA)} vs ${num(cpuB)}, ${signed((cpuA / cpuB - 1) * 100)}%), ` +
    `p50 ${signed(p50A - p50B, 2)} ms (${num(p50A, 2)} vs ${num(p50B, 2)}, ${signed((p50A / p50B - 1) * 100)}%)`
}

export function formatTranslationCost (rows: CaseResult[], translation?: TranslationCost): string {
  const client = difference(rows, 'submit-translated', 'submit')
  return `  as a client meets it (translated row - submit row): ${client ?? 'n/a (both rows must run)'}\n` +
    `  ${translation === undefined ? 'in process: not measured (the translation-cost case did not run)' : formatTranslation(translation)}`
}

export function formatVerifyCost (rows: CaseResult[], verify?: VerifyCost): string {
  const lines: string[] = []
  if (verify !== undefined) {
    const timing = (label: string, t: VerifyCost['gateway']): string => t === null
      ? `  ${label}: n/a (no verifier built in this checkout)`
      : `  ${label}: ${t.error === undefined ? `${num(t.usPerVerify, 1)} us per verify` : `FAILED: ${t.error}`} (${t.name}, ${num(t.iterations)} verifies in process)`
    lines.push(timing('the gateway\'s verifier', verify.gateway), timing('a wallet signature (ADR-036, signed by cosmjs amino)', verify.adr036),
      timing('for scale, @cosmjs/crypto', verify.reference), `  (the bench signs its bodies with ${verify.signer})`)
  }
  const verified = rows.find((r) => r.id === 'submit-verified')
  const client = difference(rows, 'submit-verified', 'submit')
  lines.push(`  as a client meets it (verified row - submit row): ${client ?? `n/a (${verified?.skipped ?? verified?.error?.split('\n')[0] ?? 'both rows must run'})`}`)
  return lines.join('\n')
}

export function formatMemory (m: RedisMemoryResult): string {
  if (m.error !== undefined) return `  FAILED: ${m.error.split('\n')[0] ?? ''}`
  if (m.inflight === undefined || m.ended === undefined || m.baseline === undefined) return `  skipped: ${m.skipped ?? 'no result'}`
  const refused = Object.entries(m.refused ?? {})
  return [
    `  ${num(m.intents ?? NaN)} intents: used_memory ${num(m.baseline.usedMemory)} B and ${num(m.baseline.keys)} keys before`,
    `  while inflight: ${num(m.inflight.bytesPerIntent)} bytes and ${num(m.inflight.keysPerIntent, 2)} keys per intent (used_memory ${num(m.inflight.usedMemory)} B, ${num(m.inflight.keys)} keys)`,
    `  after they ended (idempotency retention): ${num(m.ended.bytesPerIntent)} bytes and ${num(m.ended.keysPerIntent, 2)} keys per intent (used_memory ${num(m.ended.usedMemory)} B, ${num(m.ended.keys)} keys; the reconciler ended them in ${num(m.endSeconds ?? NaN, 1)} s)`,
    ...(refused.length === 0 ? [] : [`  NOT every submission was accepted (${refused.map(([s, n]) => `${s}: ${n}`).join(', ')}): the figures are per intent sent`])
  ].join('\n')
}

export function formatStatusLoad (s: StatusLoadResult): string {
  if (s.error !== undefined) return `  FAILED: ${s.error.split('\n')[0] ?? ''}`
  if (s.runs === undefined) return `  skipped: ${s.skipped ?? 'no result'}`
  const loaded = Object.entries(s.load?.byStatus ?? {}).map(([st, n]) => `${st}: ${num(n)}`).join(', ')
  const lines = [`  ${num(s.inflight ?? NaN)} intents loaded through the gateway in ${num(s.load?.seconds ?? NaN, 1)} s (${loaded})`]
  for (const r of s.runs) {
    const cpu = r.cpu.targetCpuSec * 1e6 / Math.max(1, r.result.rps * r.cpu.seconds)
    const poll = r.poll === undefined ? '' : `; ${num(r.poll.polls)} status reads, p50 ${num(r.poll.p50Ms, 1)} ms, max ${num(r.poll.maxMs, 1)} ms${r.poll.errors > 0 ? `, ${r.poll.errors} failed (first: ${r.poll.firstError ?? '?'})` : ''}`
    lines.push(`  ${r.name} (at least ${num(r.inflightBefore)} inflight): ${num(r.result.rps)} req/s, p50 ${num(r.result.p50Ms, 2)} ms, p99 ${num(r.result.p99Ms, 2)} ms, max ${num(r.result.maxMs, 1)} ms, ` +
      `bad status ${num(r.result.badStatus)}, errors ${num(r.result.errors)}, gateway ${num(cpu)} us CPU/req (status reads included)${poll}`)
  }
  return lines.join('\n')
}

/** The p99s the status aim compares, when both runs measured. */
export function statusP99 (s: StatusLoadResult | undefined): { polled: number, quiet: number } | undefined {
  const quiet = s?.runs?.find((r) => r.poll === undefined)?.result.p99Ms
  const polled = s?.runs?.find((r) => r.poll !== undefined)?.result.p99Ms
  return quiet === undefined || polled === undefined ? undefined : { polled, quiet }
}
