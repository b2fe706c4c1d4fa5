/**
 * What the admission journal costs the event loop per intent, in the bench's own process: an intent admitted,
 * bound and completed (three journal turns, the way the submission path makes them), with the journal in memory
 * only (`coordinator.database = ":memory:"`) and with its file on disk (src/store/redis/journal-file.ts), at one
 * intent per turn and at 16 (a group commit under load). The record is the size of a bench submission's. A
 * difference between the two is what every submission pays for the file. Its intents complete at once: a cost
 * that grows with the entries kept (a journal holding every inflight intent) shows in the gateway rows' p99 only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { AdmissionJournal } from '../../src/store/redis/admission-journal.js'
import { JournalFile } from '../../src/store/redis/journal-file.js'

export interface JournalCostRow {
  journal: 'memory' | 'file'
  intentsPerTurn: number
  /** CPU microseconds per intent (admit, bind, complete). */
  cpuUs: number
  /** Wall-clock microseconds per intent, awaiting each turn's write as a bind does. */
  wallUs: number
}

export interface JournalCost {
  id: 'journal-cost'
  title: string
  intents: number
  rows: JournalCostRow[]
  error?: string
}

const RECORD = JSON.stringify([1, 'blue', 'o:cosmos1', 'x'.repeat(96)]) + '\n' + JSON.stringify({ payload: 'y'.repeat(700) })
const ANSWER = JSON.stringify({ intent_id: 'bench-1-1', status: 'accepted', version: '2.0' })

type Figures = Pick<JournalCostRow, 'cpuUs' | 'wallUs'>

async function measure (journal: AdmissionJournal, intents: number, perTurn: number, tag: string): Promise<Figures> {
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  for (let i = 0; i < intents; i += perTurn) {
    for (let k = i; k < i + perTurn; k++) journal.admitted(`${tag}-${k}`, { json: RECORD, upstream: 'blue', createdAtMs: Date.now() })
    await journal.written()
    for (let k = i; k < i + perTurn; k++) journal.bound(`${tag}-${k}`, `int_${tag}_${k}`, 'accepted', ANSWER)
    await journal.written()
    for (let k = i; k < i + perTurn; k++) journal.completed(`int_${tag}_${k}`)
    await journal.written()
  }
  const used = process.cpuUsage(cpu)
  return { cpuUs: (used.user + used.system) / intents, wallUs: Number(process.hrtime.bigint() - start) / 1000 / intents }
}

export async function journalCost (quick: boolean): Promise<JournalCost> {
  const title = 'admission journal per intent (admit, bind, complete), in process'
  const intents = quick ? 4_000 : 16_000
  const dir = mkdtempSync(path.join(os.tmpdir(), 'intent-gate-bench-journal-'))
  const rows: JournalCostRow[] = []
  try {
    for (const journal of ['memory', 'file'] as const) {
      for (const intentsPerTurn of [1, 16]) {
        const file = journal === 'file' ? new JournalFile(path.join(dir, `j-${intentsPerTurn}.sqlite.admissions`)) : null
        file?.load('bench')
        const subject = new AdmissionJournal(100_000, file)
        await measure(subject, Math.min(2_000, intents), intentsPerTurn, 'warm') // V8 optimises by calls
        rows.push({ journal, intentsPerTurn, ...await measure(subject, intents, intentsPerTurn, 'run') })
        file?.close()
      }
    }
    return { id: 'journal-cost', title, intents, rows }
  } catch (err) {
    return { id: 'journal-cost', title, intents, rows, error: (err as Error).stack ?? String(err) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function formatJournalCost (cost: JournalCost): string {
  if (cost.error !== undefined) return `  journal cost: FAILED: ${cost.error.split('\n')[0] ?? ''}`
  const lines = cost.rows.map((r) => `  ${r.journal.padEnd(6)} ${String(r.intentsPerTurn).padStart(2)} a turn: ${r.cpuUs.toFixed(1).padStart(6)} us CPU, ${r.wallUs.toFixed(1).padStart(6)} us wall per intent`)
  const memory = cost.rows.find((r) => r.journal === 'memory' && r.intentsPerTurn === 16)
  const file = cost.rows.find((r) => r.journal === 'file' && r.intentsPerTurn === 16)
  if (memory !== undefined && file !== undefined) lines.push(`  the file adds ${(file.cpuUs - memory.cpuUs).toFixed(1)} us of CPU per intent at 16 a turn (${cost.intents} intents each)`)
  return lines.join('\n')
}
