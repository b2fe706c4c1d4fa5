/**
 * The settlement contract, modelled in TypeScript with the semantics of the design's CosmWasm contract
 * ("Contract Migration Support"): settlements move through phases, inflight ones can be extended, refunded or
 * completed, and `migrate` takes the design's MigrateMsg. Messages are JSON in snake_case, externally tagged
 * as cw_serde writes them. Pure functions over the contract's storage: the wasm module (wasm.ts) runs them
 * on a copy and keeps the result only when the message succeeds.
 */
import { ContractError } from './errors.js'

export const CONTRACT_NAME = 'crates.io:intent-settlement'

export const PHASES = ['user_funds_locked', 'solver_funds_locked', 'ibc_in_flight'] as const
export const TERMINAL_PHASES = ['completed', 'refunded', 'cancelled'] as const
export type InflightPhase = typeof PHASES[number]
export type Phase = InflightPhase | typeof TERMINAL_PHASES[number]

export interface SettlementPacket {
  channel: string
  sequence: number
  status: 'pending' | 'acknowledged' | 'timed_out'
}

export interface Settlement {
  id: string
  user: string
  solver: string | null
  amount: string
  denom: string
  /** unix seconds */
  timeout: number
  phase: Phase
  creator: string
  recipient: string
  created_at: number
  updated_at: number
  ibc_packet: SettlementPacket | null
}

export interface SettlementConfig {
  admin: string
  ibc_channel: string
  ibc_timeout_secs: number
}

export interface ContractStorage {
  /** cw2 `contract_info` */
  cw2: { contract: string, version: string }
  config: SettlementConfig
  settlements: Record<string, Settlement>
}

export interface ContractEnv {
  sender: string
  /** block time, unix seconds */
  now: number
}

/** A fungible token transfer the contract asks the chain to send over IBC (cosmwasm IbcMsg::Transfer). */
export interface TransferRequest {
  settlementId: string
  channel: string
  amount: string
  denom: string
  receiver: string
  memo: string
  timeoutSecs: number
}

export interface ContractResponse {
  attributes: Array<[string, string]>
  transfers: TransferRequest[]
}

type StuckSettlementAction = 'preserve' | 'refund_and_cancel' | { extend_timeout: { additional_seconds: number } }

const EXECUTE_VARIANTS = ['create_settlement', 'advance_settlement', 'complete_settlement', 'refund_settlement', 'extend_timeout']
const QUERY_VARIANTS = ['inflight_settlements', 'settlement', 'config']

export function instantiate (admin: string, version: string, ibcChannel: string, ibcTimeoutSecs: number): ContractStorage {
  return {
    cw2: { contract: CONTRACT_NAME, version },
    config: { admin, ibc_channel: ibcChannel, ibc_timeout_secs: ibcTimeoutSecs },
    settlements: {}
  }
}

/**
 * A copy of the storage that execute/migrate may change without touching the original: settlements are
 * never mutated in place (a change writes a new object), so copying the map is enough.
 */
export function forkStorage (storage: ContractStorage): ContractStorage {
  return { cw2: { ...storage.cw2 }, config: { ...storage.config }, settlements: { ...storage.settlements } }
}

/** Replaces a settlement with a changed copy (the original may be shared with committed state). */
function update (storage: ContractStorage, settlement: Settlement, changes: Partial<Settlement>): Settlement {
  const changed = { ...settlement, ...changes }
  storage.settlements[settlement.id] = changed
  return changed
}

export function isInflight (settlement: Settlement): boolean {
  return (PHASES as readonly string[]).includes(settlement.phase)
}

export function inflightSettlements (storage: ContractStorage): Settlement[] {
  return Object.values(storage.settlements).filter(isInflight).sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id))
}

export function execute (storage: ContractStorage, env: ContractEnv, msg: unknown): ContractResponse {
  const [variant, body] = parseEnum(msg, 'ExecuteMsg', EXECUTE_VARIANTS)
  switch (variant) {
    case 'create_settlement': return createSettlement(storage, env, body)
    case 'advance_settlement': return advanceSettlement(storage, env, body)
    case 'complete_settlement': return finish(storage, env, body, 'completed', 'complete_settlement')
    case 'refund_settlement': return finish(storage, env, body, 'refunded', 'refund_settlement')
    default: return extendTimeout(storage, env, body)
  }
}

export function query (storage: ContractStorage, msg: unknown): unknown {
  const [variant, body] = parseEnum(msg, 'QueryMsg', QUERY_VARIANTS)
  switch (variant) {
    case 'inflight_settlements': return { settlements: inflightSettlements(storage) }
    case 'settlement': return loadSettlement(storage, requireString(body, 'id', 'QueryMsg'))
    default: return storage.config
  }
}

/** The design's `migrate` entry point (docs/design.md): MigrateMsg { new_version, config?: MigrationConfig }. */
export function migrate (storage: ContractStorage, env: ContractEnv, msg: unknown): ContractResponse {
  const parsed = parseMigrateMsg(msg)
  const inflight = inflightSettlements(storage)
  if (inflight.length > 0 && parsed.config !== undefined && !parsed.config.preserve_inflight) {
    throw new ContractError(`Cannot migrate: ${inflight.length} inflight settlements exist`)
  }
  let affected = 0
  if (parsed.config !== undefined) affected = applyStuckAction(storage, inflight, env, parsed.config.stuck_settlement_action)
  const fromVersion = storage.cw2.version
  storage.cw2 = { contract: CONTRACT_NAME, version: parsed.new_version }
  if (parsed.config?.new_config !== undefined) applyConfigUpdate(storage, parsed.config.new_config)
  return {
    attributes: [
      ['action', 'migrate'],
      ['from_version', fromVersion],
      ['to_version', parsed.new_version],
      ['preserved_inflight', String(inflight.length)],
      ['stuck_settlement_action', parsed.config === undefined ? 'none' : stuckActionName(parsed.config.stuck_settlement_action)],
      ['affected_settlements', String(affected)]
    ],
    transfers: []
  }
}

/** The IBC acknowledgement or timeout of a settlement's transfer (the contract's ibc callbacks). */
export function onPacketOutcome (storage: ContractStorage, env: ContractEnv, settlementId: string, outcome: 'acknowledged' | 'timed_out'): ContractResponse {
  const settlement = storage.settlements[settlementId]
  if (settlement === undefined || settlement.ibc_packet === null) return { attributes: [], transfers: [] }
  const attributes: Array<[string, string]> = [['action', outcome === 'acknowledged' ? 'ibc_ack' : 'ibc_timeout'], ['settlement_id', settlementId]]
  const refund = outcome === 'timed_out' && isInflight(settlement)
  if (refund) attributes.push(['phase', 'refunded'])
  update(storage, settlement, { ibc_packet: { ...settlement.ibc_packet, status: outcome }, updated_at: env.now, ...(refund ? { phase: 'refunded' as const } : {}) })
  return { attributes, transfers: [] }
}

/** Raw storage as cw-storage-plus lays it out: Items under their name, Map entries under a length-prefixed namespace. */
export function rawGet (storage: ContractStorage, key: Uint8Array): Uint8Array | undefined {
  const text = new TextDecoder().decode(key)
  const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
  if (text === 'contract_info') return encode(storage.cw2)
  if (text === 'config') return encode(storage.config)
  const namespace = 'settlements'
  const prefixed = key.length > 2 + namespace.length && key[0] === 0 && key[1] === namespace.length
  if (prefixed && text.slice(2, 2 + namespace.length) === namespace) {
    const settlement = storage.settlements[text.slice(2 + namespace.length)]
    return settlement === undefined ? undefined : encode(settlement)
  }
  return undefined
}

function createSettlement (storage: ContractStorage, env: ContractEnv, body: Record<string, unknown>): ContractResponse {
  const type = 'ExecuteMsg'
  const id = requireString(body, 'id', type)
  const user = requireString(body, 'user', type)
  const amount = requireString(body, 'amount', type)
  const denom = requireString(body, 'denom', type)
  const timeout = requireInteger(body, 'timeout', type)
  const solver = optionalString(body, 'solver', type)
  const recipient = optionalString(body, 'recipient', type) ?? user
  if (id === '') throw new ContractError('Invalid settlement: id must not be empty')
  if (!/^[1-9][0-9]*$/.test(amount)) throw new ContractError(`Invalid settlement: amount must be a positive integer, got "${amount}"`)
  if (denom === '') throw new ContractError('Invalid settlement: denom must not be empty')
  if (timeout <= env.now) throw new ContractError(`Invalid settlement: timeout ${timeout} is not after the block time ${env.now}`)
  if (storage.settlements[id] !== undefined) throw new ContractError(`Settlement ${id} already exists`)
  storage.settlements[id] = {
    id,
    user,
    solver: solver ?? null,
    amount,
    denom,
    timeout,
    phase: 'user_funds_locked',
    creator: env.sender,
    recipient,
    created_at: env.now,
    updated_at: env.now,
    ibc_packet: null
  }
  return {
    attributes: [['action', 'create_settlement'], ['settlement_id', id], ['user', user], ['amount', amount], ['denom', denom], ['phase', 'user_funds_locked']],
    transfers: [{ settlementId: id, channel: storage.config.ibc_channel, amount, denom, receiver: recipient, memo: `settlement:${id}`, timeoutSecs: storage.config.ibc_timeout_secs }]
  }
}

/** Records the packet sequence the chain gave a settlement's transfer (what a submessage reply would do). */
export function recordPacket (storage: ContractStorage, settlementId: string, channel: string, sequence: number): void {
  const settlement = storage.settlements[settlementId]
  if (settlement !== undefined) update(storage, settlement, { ibc_packet: { channel, sequence, status: 'pending' } })
}

function advanceSettlement (storage: ContractStorage, env: ContractEnv, body: Record<string, unknown>): ContractResponse {
  const settlement = authorizedInflight(storage, env, requireString(body, 'id', 'ExecuteMsg'))
  const phase = requireString(body, 'phase', 'ExecuteMsg')
  const target = PHASES.indexOf(phase as InflightPhase)
  if (target === -1) {
    throw new ContractError(`Error parsing into type intent_settlement::msg::ExecuteMsg: unknown variant \`${phase}\`, expected one of ${PHASES.map(p => `\`${p}\``).join(', ')}`)
  }
  const current = PHASES.indexOf(settlement.phase as InflightPhase)
  if (target <= current) throw new ContractError(`Invalid phase transition for settlement ${settlement.id}: ${settlement.phase} -> ${phase}`)
  update(storage, settlement, { phase: phase as InflightPhase, updated_at: env.now })
  return { attributes: [['action', 'advance_settlement'], ['settlement_id', settlement.id], ['phase', phase]], transfers: [] }
}

function finish (
  storage: ContractStorage,
  env: ContractEnv,
  body: Record<string, unknown>,
  phase: Phase,
  action: string
): ContractResponse {
  const settlement = authorizedInflight(storage, env, requireString(body, 'id', 'ExecuteMsg'))
  update(storage, settlement, { phase, updated_at: env.now })
  return { attributes: [['action', action], ['settlement_id', settlement.id], ['phase', phase]], transfers: [] }
}

function extendTimeout (storage: ContractStorage, env: ContractEnv, body: Record<string, unknown>): ContractResponse {
  const settlement = authorizedInflight(storage, env, requireString(body, 'id', 'ExecuteMsg'))
  const additional = requireInteger(body, 'additional_seconds', 'ExecuteMsg')
  const extended = update(storage, settlement, { timeout: settlement.timeout + additional, updated_at: env.now })
  return { attributes: [['action', 'extend_timeout'], ['settlement_id', settlement.id], ['timeout', String(extended.timeout)]], transfers: [] }
}

function authorizedInflight (storage: ContractStorage, env: ContractEnv, id: string): Settlement {
  const settlement = loadSettlement(storage, id)
  if (env.sender !== settlement.creator && env.sender !== storage.config.admin) throw new ContractError('Unauthorized')
  if (!isInflight(settlement)) throw new ContractError(`Settlement ${id} is already ${settlement.phase}`)
  return settlement
}

function loadSettlement (storage: ContractStorage, id: string): Settlement {
  const settlement = storage.settlements[id]
  if (settlement === undefined) throw new ContractError(`intent_settlement::state::Settlement not found: ${id}`)
  return settlement
}

function applyStuckAction (storage: ContractStorage, inflight: Settlement[], env: ContractEnv, action: StuckSettlementAction): number {
  if (action === 'preserve') return 0
  for (const settlement of inflight) {
    if (action === 'refund_and_cancel') update(storage, settlement, { phase: 'cancelled', updated_at: env.now })
    else update(storage, settlement, { timeout: settlement.timeout + action.extend_timeout.additional_seconds, updated_at: env.now })
  }
  return inflight.length
}

function stuckActionName (action: StuckSettlementAction): string {
  return typeof action === 'string' ? action : 'extend_timeout'
}

function applyConfigUpdate (storage: ContractStorage, update: Record<string, unknown>): void {
  const type = 'ConfigUpdate'
  const admin = optionalString(update, 'admin', type)
  const channel = optionalString(update, 'ibc_channel', type)
  const timeout = update.ibc_timeout_secs === undefined || update.ibc_timeout_secs === null ? undefined : requireInteger(update, 'ibc_timeout_secs', type)
  if (admin !== undefined) storage.config.admin = admin
  if (channel !== undefined) storage.config.ibc_channel = channel
  if (timeout !== undefined) storage.config.ibc_timeout_secs = timeout
}

interface MigrateMsg {
  new_version: string
  config?: { preserve_inflight: boolean, stuck_settlement_action: StuckSettlementAction, new_config?: Record<string, unknown> }
}

function parseMigrateMsg (msg: unknown): MigrateMsg {
  const type = 'MigrateMsg'
  if (!isObject(msg)) throw parseError(type, 'expected struct MigrateMsg')
  const newVersion = requireString(msg, 'new_version', type)
  if (newVersion === '') throw new ContractError('Invalid migration: new_version must not be empty')
  if (msg.config === undefined || msg.config === null) return { new_version: newVersion }
  if (!isObject(msg.config)) throw parseError(type, 'invalid type for `config`, expected struct MigrationConfig')
  const config = msg.config
  if (typeof config.preserve_inflight !== 'boolean') throw parseError(type, 'missing or invalid field `preserve_inflight`, expected a boolean')
  const action = parseStuckAction(config.stuck_settlement_action)
  const newConfig = config.new_config
  if (newConfig !== undefined && newConfig !== null && !isObject(newConfig)) throw parseError(type, 'invalid type for `new_config`, expected struct ConfigUpdate')
  return {
    new_version: newVersion,
    config: {
      preserve_inflight: config.preserve_inflight,
      stuck_settlement_action: action,
      ...(isObject(newConfig) ? { new_config: newConfig } : {})
    }
  }
}

function parseStuckAction (value: unknown): StuckSettlementAction {
  const expected = 'expected one of `preserve`, `refund_and_cancel`, `extend_timeout`'
  if (value === 'preserve' || value === 'refund_and_cancel') return value
  if (isObject(value) && isObject(value.extend_timeout) && Object.keys(value).length === 1) {
    const seconds = value.extend_timeout.additional_seconds
    if (typeof seconds === 'number' && Number.isSafeInteger(seconds) && seconds >= 0) return { extend_timeout: { additional_seconds: seconds } }
    throw parseError('MigrateMsg', 'missing or invalid field `additional_seconds`, expected u64')
  }
  if (value === undefined) throw parseError('MigrateMsg', 'missing field `stuck_settlement_action`')
  throw parseError('MigrateMsg', `unknown variant ${JSON.stringify(value)}, ${expected}`)
}

function parseEnum (msg: unknown, type: string, variants: string[]): [string, Record<string, unknown>] {
  if (!isObject(msg) || Object.keys(msg).length !== 1) throw parseError(type, `expected a single-key object, one of ${variants.map(v => `\`${v}\``).join(', ')}`)
  const [variant] = Object.keys(msg) as [string]
  if (!variants.includes(variant)) throw parseError(type, `unknown variant \`${variant}\`, expected one of ${variants.map(v => `\`${v}\``).join(', ')}`)
  const body = msg[variant]
  if (!isObject(body)) throw parseError(type, `invalid type for \`${variant}\`, expected a struct`)
  return [variant, body]
}

function requireString (body: Record<string, unknown>, field: string, type: string): string {
  const value = body[field]
  if (value === undefined) throw parseError(type, `missing field \`${field}\``)
  if (typeof value !== 'string') throw parseError(type, `invalid type for \`${field}\`, expected a string`)
  return value
}

function optionalString (body: Record<string, unknown>, field: string, type: string): string | undefined {
  if (body[field] === undefined || body[field] === null) return undefined
  return requireString(body, field, type)
}

function requireInteger (body: Record<string, unknown>, field: string, type: string): number {
  const value = body[field]
  if (value === undefined) throw parseError(type, `missing field \`${field}\``)
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw parseError(type, `invalid value for \`${field}\`, expected u64`)
  return value
}

function parseError (type: string, detail: string): ContractError {
  return new ContractError(`Error parsing into type intent_settlement::msg::${type}: ${detail}`)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
