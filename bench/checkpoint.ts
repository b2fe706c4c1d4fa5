/**
 * Checkpoint benchmark: writes and validates a checkpoint of 100,000 inflight intents (the size the issue asks
 * to handle in seconds) and prints how long each took. Runs on its own (`node dist/bench/checkpoint.js [count]`)
 * or from the bench harness through `runCheckpointBench()`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { CheckpointFiles } from '../src/coordinator/checkpoint/files.js'
import { CHECKPOINT_FORMAT, type SystemCheckpoint } from '../src/coordinator/checkpoint/types.js'
import type { InflightRecord } from '../src/store/types.js'

export interface CheckpointBenchResult {
  intents: number
  bytes: number
  compressed: boolean
  write_ms: number
  validate_ms: number
}

function intent (i: number): InflightRecord {
  const owner = `cosmos1${String(i).padStart(38, '0')}`
  return {
    key: `${owner}:${i}`,
    id: `intent-${i}`,
    upstream: i % 2 === 0 ? 'blue' : 'green',
    version: '1.0',
    upstream_version: '1.0',
    created_at_ms: 1_767_225_000_000 + i,
    deadline: 1_767_225_600,
    phase: 'accepted',
    intent: {
      version: '1.0',
      user: owner,
      input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: String(1_000_000 + i) },
      output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: `osmo1${String(i).padStart(38, '0')}` },
      deadline: 1_767_225_600,
      nonce: i,
      public_key: 'A'.repeat(44),
      signature: 'B'.repeat(88)
    }
  }
}

export function sampleCheckpoint (count: number, id = 'bench'): SystemCheckpoint {
  return {
    format: CHECKPOINT_FORMAT,
    id,
    upgrade_id: null,
    created_at_ms: Date.now(),
    protocol_version: '1.0',
    schema_version: 2,
    active: 'blue',
    drain: null,
    versions: { accepted: ['1.0', '2.0'], default: '1.0', upstreams: { blue: ['1.0'], green: ['2.0'] } },
    contract: null,
    pending_ibc_packets: [],
    inflight: Array.from({ length: count }, (_, i) => intent(i))
  }
}

export function runCheckpointBench (count = 100_000, compressThresholdMb = 100): CheckpointBenchResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-bench-checkpoint-'))
  try {
    const files = new CheckpointFiles({ dir, compressThresholdBytes: compressThresholdMb * 1024 * 1024 })
    const checkpoint = sampleCheckpoint(count)
    const w0 = performance.now()
    const meta = files.write(checkpoint)
    const w1 = performance.now()
    const result = files.validate(meta.id)
    const v1 = performance.now()
    if (!result.valid) throw new Error(`the benchmark's checkpoint did not validate: ${result.problems.join('; ')}`)
    return {
      intents: count,
      bytes: meta.bytes,
      compressed: meta.compressed,
      write_ms: Math.round(w1 - w0),
      validate_ms: Math.round(v1 - w1)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const count = Number(process.argv[2] ?? 100_000)
  for (const threshold of [100, 0]) {
    const r = runCheckpointBench(count, threshold)
    console.log(`checkpoint ${r.intents} intents (${(r.bytes / 1024 / 1024).toFixed(1)} MiB${r.compressed ? ', gzip' : ''}): write ${r.write_ms} ms, validate ${r.validate_ms} ms`)
  }
}
