/**
 * The design's MigrateMsg for a contract step (the steps themselves are in ./contracts.ts: one per contract an
 * upgrade moves).
 */
import type { StuckSettlementAction } from '../ports.js'

/** The design's MigrateMsg (docs/design.md), serialised the way cw_serde does (snake_case enums). */
export function migrateMsg (newVersion: string, action: StuckSettlementAction, extendSecs: number): Record<string, unknown> {
  const stuck = action === 'extend_timeout' ? { extend_timeout: { additional_seconds: extendSecs } } : action
  return { new_version: newVersion, config: { preserve_inflight: true, stuck_settlement_action: stuck } }
}
