/**
 * The design's MigrateMsg, MigrationConfig and StuckSettlementAction as the JSON `cw_serde` reads: snake_case
 * fields, unit enum variants as strings, `ExtendTimeout { additional_seconds }` as an externally tagged object.
 * Validated here so a malformed message is refused before anything is sent.
 */
import { InvalidMigrateMsgError } from './errors.js'

export type StuckSettlementAction =
  | 'preserve'
  | 'refund_and_cancel'
  | { extend_timeout: { additional_seconds: number } }

export interface MigrationConfig {
  preserve_inflight: boolean
  stuck_settlement_action: StuckSettlementAction
  /** The contract's ConfigUpdate; passed through as given. */
  new_config?: Record<string, unknown>
}

export interface MigrateMsg {
  new_version: string
  config?: MigrationConfig
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isU64 = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/** Checks a StuckSettlementAction; throws InvalidMigrateMsgError naming `field`. */
export function parseStuckAction (value: unknown, field = 'config.stuck_settlement_action'): StuckSettlementAction {
  if (value === 'preserve' || value === 'refund_and_cancel') return value
  if (isObject(value) && Object.keys(value).length === 1 && isObject(value.extend_timeout)) {
    const seconds = value.extend_timeout.additional_seconds
    if (!isU64(seconds)) throw new InvalidMigrateMsgError(`${field}.extend_timeout.additional_seconds`, 'must be a non-negative integer')
    return { extend_timeout: { additional_seconds: seconds } }
  }
  throw new InvalidMigrateMsgError(field, `must be "preserve", "refund_and_cancel" or {"extend_timeout": {"additional_seconds": N}}, got ${JSON.stringify(value)}`)
}

/** Checks a whole MigrateMsg and returns a copy holding only the design's fields. */
export function parseMigrateMsg (value: unknown): MigrateMsg {
  if (!isObject(value)) throw new InvalidMigrateMsgError('(root)', 'must be an object')
  const unknown = Object.keys(value).filter((k) => k !== 'new_version' && k !== 'config')
  if (unknown.length > 0) throw new InvalidMigrateMsgError(unknown[0] as string, 'unknown field')
  if (typeof value.new_version !== 'string' || value.new_version.trim() === '') {
    throw new InvalidMigrateMsgError('new_version', 'must be a non-empty string')
  }
  if (value.config === undefined || value.config === null) return { new_version: value.new_version }
  const config = value.config
  if (!isObject(config)) throw new InvalidMigrateMsgError('config', 'must be an object or null')
  const unknownInConfig = Object.keys(config).filter((k) => !['preserve_inflight', 'stuck_settlement_action', 'new_config'].includes(k))
  if (unknownInConfig.length > 0) throw new InvalidMigrateMsgError(`config.${unknownInConfig[0] as string}`, 'unknown field')
  if (typeof config.preserve_inflight !== 'boolean') throw new InvalidMigrateMsgError('config.preserve_inflight', 'must be a boolean')
  const action = parseStuckAction(config.stuck_settlement_action)
  const result: MigrationConfig = { preserve_inflight: config.preserve_inflight, stuck_settlement_action: action }
  if (config.new_config !== undefined && config.new_config !== null) {
    if (!isObject(config.new_config)) throw new InvalidMigrateMsgError('config.new_config', 'must be an object or null')
    result.new_config = config.new_config
  }
  return { new_version: value.new_version, config: result }
}

/** The name the design's contract reports for an action (`stuck_settlement_action` attribute). */
export function stuckActionName (action: StuckSettlementAction): 'preserve' | 'refund_and_cancel' | 'extend_timeout' {
  return typeof action === 'string' ? action : 'extend_timeout'
}
