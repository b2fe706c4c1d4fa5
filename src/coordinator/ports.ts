/**
 * The narrow ports the coordinator stands on, besides the Store (src/store/types.ts), which it uses directly.
 * The real parts (src/chain, src/ibc, src/proxy, src/versions) are adapted to these in src/coordinator/adapters.ts;
 * tests may stand in for one only where no real implementation exists yet.
 */
import type { Color } from '../config/schema.js'
import type { InflightRecord } from '../store/types.js'

export type HealthStatus =
  | { status: 'healthy' }
  | { status: 'degraded', reason: string }
  | { status: 'unhealthy', reason: string }

/** One named check (`settlement_store`, `ibc_relayer`, `contract_state`, `api_endpoints`, `upstreams`). */
export interface HealthCheck {
  readonly name: string
  check (signal: AbortSignal): Promise<HealthStatus>
}

/** A packet sent on a watched channel and not yet acknowledged (or timed out). */
export interface PendingPacket {
  channel: string
  sequence: number
  sent_height?: number
  sent_at_ms?: number
  [extra: string]: unknown
}

/** The IBC watcher: what is still in flight on the watched channels. */
export interface IbcPort {
  pending (): Promise<PendingPacket[]>
  /** How many are pending when the watcher can vouch for it; null while it cannot read the chain or lags. */
  knownPendingCount?: () => number | null
  health (): Promise<HealthStatus>
}

/** What the contract says about itself. */
export interface ContractInfo {
  address: string
  code_id: number
  /** cw2 contract name and version. */
  contract: string
  version: string
  admin: string | null
}

export type { StuckSettlementAction } from './upgrade-request.js'

/** The settlement contract, as the coordinator needs it (src/chain/contract-client.ts behind an adapter). */
export interface ContractPort {
  info (): Promise<ContractInfo>
  /** The contract's non-terminal settlements, as it reports them (kept verbatim in checkpoints). */
  inflightSettlements (): Promise<Array<Record<string, unknown>>>
  /** The lower-case hex SHA-256 of the code stored under `codeId`. */
  codeChecksum (codeId: number): Promise<string>
  /** Throws (naming why) unless `codeId` has checksum `checksumHex` and the gateway's signer is the contract's admin. */
  verifyMigration (codeId: number, checksumHex: string): Promise<void>
  /**
   * MsgMigrateContract (checks again first); throws when the chain refuses. Returns the transaction hash.
   * `timeoutHeight`: the tx's timeout_height, journaled by the caller before it is sent.
   */
  migrate (codeId: number, checksumHex: string, msg: Record<string, unknown>, options?: { timeoutHeight?: number }): Promise<string>
  /** A dry run: the migrations simulated in order as one transaction; throws with the chain's reason when refused. */
  dryRunMigrations?: (steps: Array<{ code_id: number, msg: Record<string, unknown> }>) => Promise<void>
  /** The chain's latest block height. */
  height?: () => Promise<number>
  /** The timeout_height a transaction signed now carries (the height + `chain.tx_timeout_blocks`). */
  timeoutHeight?: () => Promise<number>
  /** Extends the timeouts of the given settlements by `secs`; returns how many were extended. */
  extendTimeouts (ids: string[], secs: number): Promise<number>
  health (): Promise<HealthStatus>
}

/** The proxy's view of the upstreams. */
export interface UpstreamPort {
  /** The configured colors. */
  colors (): Color[]
  /** The versions an upstream accepts natively. */
  versionsOf (color: Color): readonly string[]
  /** Actively probes `color` now (its health path). */
  probe (color: Color, signal: AbortSignal): Promise<HealthStatus>
}

/** The gateway's own HTTP endpoints (the `api_endpoints` check): answers /readyz? */
export interface ApiPort {
  ready (signal: AbortSignal): Promise<HealthStatus>
}

/** Moves a stored inflight record's forwarded body to another version (src/versions/stored-intents.ts). */
export interface StoredIntentMigrator {
  /** The record with its forwarded body in `targetVersion`, or null when it stays as it is (its owner cannot take it). */
  migrate (record: InflightRecord, targetVersion: string): InflightRecord | null
}
