/**
 * How an accepted intent moves toward settlement, behind one small interface so the service does not care
 * whether a clock or a chain drives it. `ClockSettler` derives each intent's stage from the time since it was
 * accepted (accepted -> matched -> escrowed -> ibc_in_flight -> settled, evenly over `settleMs`): no timer per
 * intent, so the service stays cheap at benchmark rates. `settleMs` 0 means settled as of the first read.
 *
 * A chain-backed settler (for `--chain-rpc`) lives in `chain-settler.ts`, exporting
 * `createChainSettler(options: ChainSettlerOptions): Promise<Settler>`; main.ts loads it only when the flag is
 * given.
 */
import { createHash } from 'node:crypto'
import type { FillV2, StatusV2 } from '../../src/versions/schemas/v2_0.js'

/** What the service knows about an intent it accepted, in version-neutral terms. */
export interface AcceptedIntent {
  id: string
  owner: string
  nonce: string
  /** The version it was submitted in. */
  version: string
  acceptedAtMs: number
  /** Unix seconds: the intent's fill deadline. */
  deadline: number
  /** One per output: what a fill delivers (its minimum amount). */
  outputAmounts: string[]
  /** The body as submitted (for settlers that must send it somewhere, such as a chain). */
  intent: Record<string, unknown>
}

/** An intent's standing in 2.0 terms; the service renders it in the intent's own version. */
export interface Progress {
  status: StatusV2
  fills: FillV2[]
  /** Unix seconds of the last change. */
  updated_at: number
}

export interface Settler {
  /** Begins settling a newly accepted intent. */
  start: (intent: AcceptedIntent) => void
  /** Where the intent stands at `nowMs`. */
  progress: (intent: AcceptedIntent, nowMs: number) => Progress
  /** Stops any background work; pending intents stay where they are. */
  close: () => Promise<void>
}

export interface ChainSettlerOptions {
  rpcUrl: string
  settleMs: number
}

const STAGES: readonly StatusV2[] = ['accepted', 'matched', 'escrowed', 'ibc_in_flight']
export const SANDBOX_SOLVER = 'cosmos1sandboxsolver'

export class ClockSettler implements Settler {
  constructor (private readonly settleMs: number) {}

  start (): void {}

  progress (intent: AcceptedIntent, nowMs: number): Progress {
    const elapsed = nowMs - intent.acceptedAtMs
    if (elapsed >= this.settleMs) {
      const settledAtMs = intent.acceptedAtMs + this.settleMs
      return { status: 'settled', fills: fillsOf(intent), updated_at: Math.floor(settledAtMs / 1000) }
    }
    const stage = Math.min(STAGES.length - 1, Math.floor((elapsed * STAGES.length) / this.settleMs))
    const stageStartMs = intent.acceptedAtMs + Math.ceil((stage * this.settleMs) / STAGES.length)
    return { status: STAGES[stage] as StatusV2, fills: [], updated_at: Math.floor(stageStartMs / 1000) }
  }

  async close (): Promise<void> {}
}

/** One fill per output at its minimum amount, with a transaction hash derived from the intent id. */
export function fillsOf (intent: AcceptedIntent): FillV2[] {
  return intent.outputAmounts.map((amount, index) => ({
    solver: SANDBOX_SOLVER,
    amount,
    tx_hash: createHash('sha256').update(`${intent.id}:${index}`).digest('hex').toUpperCase()
  }))
}
