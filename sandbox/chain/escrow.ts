/**
 * The escrow contract (the design's second contract), modelled like the settlement contract: a user locks coins
 * (sent with the execute message) for a recipient until a timeout; the owner or the config admin releases them to
 * the recipient, or refunds them to the owner (anyone may refund once the timeout passed). `migrate` takes the
 * design's MigrateMsg. Pure functions over the contract's storage; wasm.ts moves the coins the response asks for.
 */
import { ContractError } from './errors.js'
import type { ContractEnv } from './contract.js'

export const ESCROW_CONTRACT_NAME = 'crates.io:intent-escrow'

export type EscrowPhase = 'locked' | 'released' | 'refunded'

export interface Escrow {
  id: string
  owner: string
  recipient: string
  amount: string
  denom: string
  /** unix seconds */
  timeout: number
  phase: EscrowPhase
  created_at: number
  updated_at: number
}

export interface EscrowStorage {
  kind: 'escrow'
  /** cw2 `contract_info` */
  cw2: { contract: string, version: string }
  config: { admin: string }
  escrows: Record<string, Escrow>
}

export interface Coin { denom: string, amount: string }

export interface EscrowResponse {
  attributes: Array<[string, string]>
  /** coins the contract sends out of its balance (bank sends) */
  sends: Array<{ to: string, coins: Coin[] }>
}

type StuckAction = 'preserve' | 'refund_and_cancel' | { extend_timeout: { additional_seconds: number } }

export function instantiateEscrow (admin: string, version: string): EscrowStorage {
  return { kind: 'escrow', cw2: { contract: ESCROW_CONTRACT_NAME, version }, config: { admin }, escrows: {} }
}

export function isEscrowStorage (storage: unknown): storage is EscrowStorage {
  return typeof storage === 'object' && storage !== null && (storage as { kind?: unknown }).kind === 'escrow'
}

export function forkEscrow (storage: EscrowStorage): EscrowStorage {
  return { kind: 'escrow', cw2: { ...storage.cw2 }, config: { ...storage.config }, escrows: { ...storage.escrows } }
}

export function lockedEscrows (storage: EscrowStorage): Escrow[] {
  return Object.values(storage.escrows).filter(e => e.phase === 'locked').sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id))
}

export function executeEscrow (storage: EscrowStorage, env: ContractEnv, msg: unknown, funds: Coin[]): EscrowResponse {
  const [variant, body] = parseEnum(msg, 'ExecuteMsg', ['lock', 'release', 'refund'])
  const id = requireString(body, 'id', 'ExecuteMsg')
  if (variant === 'lock') {
    const recipient = requireString(body, 'recipient', 'ExecuteMsg')
    const timeout = body.timeout
    if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 0) throw parseError('ExecuteMsg', 'invalid value for `timeout`, expected u64')
    if (id === '') throw new ContractError('Invalid escrow: id must not be empty')
    if (storage.escrows[id] !== undefined) throw new ContractError(`Escrow ${id} already exists`)
    const coin = funds.length === 1 ? funds[0] : undefined
    if (coin === undefined || !/^[1-9][0-9]*$/.test(coin.amount)) throw new ContractError('Invalid escrow: send exactly one coin with a positive amount')
    if (timeout <= env.now) throw new ContractError(`Invalid escrow: timeout ${timeout} is not after the block time ${env.now}`)
    storage.escrows[id] = { id, owner: env.sender, recipient, amount: coin.amount, denom: coin.denom, timeout, phase: 'locked', created_at: env.now, updated_at: env.now }
    return { attributes: [['action', 'lock'], ['escrow_id', id], ['amount', `${coin.amount}${coin.denom}`]], sends: [] }
  }
  const escrow = storage.escrows[id]
  if (escrow === undefined) throw new ContractError(`intent_escrow::state::Escrow not found: ${id}`)
  if (escrow.phase !== 'locked') throw new ContractError(`Escrow ${id} is already ${escrow.phase}`)
  const privileged = env.sender === escrow.owner || env.sender === storage.config.admin
  if (variant === 'release') {
    if (!privileged) throw new ContractError('Unauthorized')
    return settle(storage, escrow, 'released', escrow.recipient, env)
  }
  if (!privileged && env.now < escrow.timeout) throw new ContractError('Unauthorized')
  return settle(storage, escrow, 'refunded', escrow.owner, env)
}

function settle (storage: EscrowStorage, escrow: Escrow, phase: EscrowPhase, to: string, env: ContractEnv): EscrowResponse {
  storage.escrows[escrow.id] = { ...escrow, phase, updated_at: env.now }
  return {
    attributes: [['action', phase === 'released' ? 'release' : 'refund'], ['escrow_id', escrow.id], ['to', to]],
    sends: [{ to, coins: [{ denom: escrow.denom, amount: escrow.amount }] }]
  }
}

export function queryEscrow (storage: EscrowStorage, msg: unknown): unknown {
  const [variant, body] = parseEnum(msg, 'QueryMsg', ['escrow', 'locked_escrows', 'inflight_settlements', 'config'])
  switch (variant) {
    case 'escrow': {
      const id = requireString(body, 'id', 'QueryMsg')
      const escrow = storage.escrows[id]
      if (escrow === undefined) throw new ContractError(`intent_escrow::state::Escrow not found: ${id}`)
      return escrow
    }
    case 'locked_escrows': return { escrows: lockedEscrows(storage) }
    // the settlement contract's query name, so the gateway reads what both hold in flight the same way
    case 'inflight_settlements': return { settlements: lockedEscrows(storage) }
    default: return storage.config
  }
}

/** The design's MigrateMsg, applied to locked escrows (refund_and_cancel refunds them). */
export function migrateEscrow (storage: EscrowStorage, env: ContractEnv, msg: unknown): EscrowResponse {
  if (!isObject(msg)) throw parseError('MigrateMsg', 'expected struct MigrateMsg')
  const newVersion = requireString(msg, 'new_version', 'MigrateMsg')
  if (newVersion === '') throw new ContractError('Invalid migration: new_version must not be empty')
  const locked = lockedEscrows(storage)
  const sends: EscrowResponse['sends'] = []
  let action: StuckAction | 'none' = 'none'
  if (msg.config !== undefined && msg.config !== null) {
    if (!isObject(msg.config) || typeof msg.config.preserve_inflight !== 'boolean') throw parseError('MigrateMsg', 'missing or invalid field `preserve_inflight`, expected a boolean')
    if (locked.length > 0 && !msg.config.preserve_inflight) throw new ContractError(`Cannot migrate: ${locked.length} escrows are locked`)
    action = parseStuck(msg.config.stuck_settlement_action)
    for (const escrow of locked) {
      if (action === 'refund_and_cancel') {
        storage.escrows[escrow.id] = { ...escrow, phase: 'refunded', updated_at: env.now }
        sends.push({ to: escrow.owner, coins: [{ denom: escrow.denom, amount: escrow.amount }] })
      } else if (typeof action === 'object') {
        storage.escrows[escrow.id] = { ...escrow, timeout: escrow.timeout + action.extend_timeout.additional_seconds, updated_at: env.now }
      }
    }
  }
  const fromVersion = storage.cw2.version
  storage.cw2 = { contract: ESCROW_CONTRACT_NAME, version: newVersion }
  return {
    attributes: [['action', 'migrate'], ['from_version', fromVersion], ['to_version', newVersion], ['locked_escrows', String(locked.length)],
      ['stuck_settlement_action', typeof action === 'string' ? action : 'extend_timeout']],
    sends
  }
}

export function rawGetEscrow (storage: EscrowStorage, key: Uint8Array): Uint8Array | undefined {
  const text = new TextDecoder().decode(key)
  const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
  if (text === 'contract_info') return encode(storage.cw2)
  if (text === 'config') return encode(storage.config)
  const namespace = 'escrows'
  const prefixed = key.length > 2 + namespace.length && key[0] === 0 && key[1] === namespace.length
  if (prefixed && text.slice(2, 2 + namespace.length) === namespace) {
    const escrow = storage.escrows[text.slice(2 + namespace.length)]
    return escrow === undefined ? undefined : encode(escrow)
  }
  return undefined
}

function parseStuck (value: unknown): StuckAction {
  if (value === 'preserve' || value === 'refund_and_cancel') return value
  if (isObject(value) && isObject(value.extend_timeout)) {
    const seconds = value.extend_timeout.additional_seconds
    if (typeof seconds === 'number' && Number.isSafeInteger(seconds) && seconds >= 0) return { extend_timeout: { additional_seconds: seconds } }
  }
  throw parseError('MigrateMsg', 'invalid `stuck_settlement_action`, expected one of `preserve`, `refund_and_cancel`, `extend_timeout`')
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

function parseError (type: string, detail: string): ContractError {
  return new ContractError(`Error parsing into type intent_escrow::msg::${type}: ${detail}`)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
