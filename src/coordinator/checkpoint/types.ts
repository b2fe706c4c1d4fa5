/**
 * The design's SystemCheckpoint (docs/design.md) in TypeScript: everything needed to put the system back as it was before an
 * upgrade touched it, and to prove nothing was lost (inflight intents, pending packets, the contract's settlements).
 */
import type { Color } from '../../config/schema.js'
import type { DrainSwitch, InflightRecord } from '../../store/types.js'
import type { ContractInfo, PendingPacket } from '../ports.js'

export const CHECKPOINT_FORMAT = 'intent-gate-checkpoint/1'

export interface SystemCheckpoint {
  format: typeof CHECKPOINT_FORMAT
  id: string
  /** The upgrade that took it; null for one taken by hand. */
  upgrade_id: string | null
  created_at_ms: number
  /** The system's protocol version at the time (the version the last completed upgrade went to). */
  protocol_version: string
  /** The coordinator's SQLite schema version (highest applied migration). */
  schema_version: number
  active: Color
  drain: DrainSwitch | null
  /** The versions configuration and the versions each upstream accepts. */
  versions: { accepted: string[], default: string, upstreams: Partial<Record<Color, string[]>> }
  contract: { info: ContractInfo, inflight_settlements: Array<Record<string, unknown>> } | null
  /** The `[chain.contracts]` an upgrade may migrate: each one's cw2 info and what it holds in flight. */
  contracts?: Array<{ name: string, info: ContractInfo, inflight_settlements: Array<Record<string, unknown>> }>
  pending_ibc_packets: PendingPacket[]
  inflight: InflightRecord[]
}

/** The small file next to a checkpoint: what it is, and the SHA-256 of the stored bytes. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT
  id: string
  upgrade_id: string | null
  created_at_ms: number
  /** The body's file name in checkpoint_dir. */
  file: string
  compressed: boolean
  /** Size of the stored body (compressed when `compressed`). */
  bytes: number
  sha256: string
  inflight_count: number
  pending_ibc_count: number
  contract_settlements_count: number
  protocol_version: string
}

export interface ValidationResult {
  id: string
  valid: boolean
  /** What is wrong when not valid. */
  problems: string[]
}
