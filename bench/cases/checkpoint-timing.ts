/**
 * The checkpoint write/validate timing from `bench/checkpoint.ts` (the coordinator's own benchmark): 100,000
 * inflight intents written to a checkpoint file and validated, once as plain JSON and once compressed.
 */
import { runCheckpointBench, type CheckpointBenchResult } from '../checkpoint.js'

export interface CheckpointTiming extends CheckpointBenchResult { name: string }

export interface CheckpointResult {
  id: 'checkpoint'
  title: string
  rows?: CheckpointTiming[]
  error?: string
}

const INTENTS = 100_000

export function checkpointCase (): CheckpointResult {
  const base = { id: 'checkpoint' as const, title: 'checkpoint write / validate (bench/checkpoint.ts)' }
  try {
    return {
      ...base,
      rows: [
        // The default threshold (100 MB) keeps a 100k-intent checkpoint uncompressed; 0 forces compression.
        { name: `${INTENTS.toLocaleString('en-US')} intents, plain`, ...runCheckpointBench(INTENTS) },
        { name: `${INTENTS.toLocaleString('en-US')} intents, compressed`, ...runCheckpointBench(INTENTS, 0) }
      ]
    }
  } catch (err) {
    return { ...base, error: (err as Error).stack ?? String(err) }
  }
}
