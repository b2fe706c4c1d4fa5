/**
 * The contract fields of `POST /admin/upgrade/start`: `contract` (the settlement contract's) and `contracts`
 * (`[{name, code_id, checksum, migrate_msg?, rollback?}]`, names of `settlement` and `[chain.contracts]`), plus
 * `force_contract_version`. Each bad field is named (400).
 */
import { UpgradeRequestError } from './errors.js'
import type { ContractTarget, NamedContractTarget, UpgradeRequest } from './run.js'

const HEX64 = /^[0-9a-fA-F]{64}$/

export interface KnownContracts {
  /** Whether `settlement` can be migrated (the chain is enabled and settlement_contract set). */
  settlement: boolean
  /** The `[chain.contracts]` names. */
  names: readonly string[]
}

export const CONTRACT_FIELDS = ['contract', 'contracts', 'force_contract_version'] as const

/** Reads the contract fields of `body` into `request`. */
export function parseContractFields (body: Record<string, unknown>, request: UpgradeRequest, known: KnownContracts): void {
  if (body.contract !== undefined && body.contract !== null) {
    if (!known.settlement) throw new UpgradeRequestError('contract: the chain is disabled ([chain] enabled = false) or chain.settlement_contract is empty, so no contract can be migrated')
    request.contract = target(body.contract, 'contract')
  }
  if (body.contracts !== undefined && body.contracts !== null) {
    if (!Array.isArray(body.contracts)) throw new UpgradeRequestError('contracts: must be an array of {name, code_id, checksum, migrate_msg?, rollback?}')
    const seen = new Set<string>(request.contract === undefined ? [] : ['settlement'])
    request.contracts = body.contracts.map((item: unknown, i): NamedContractTarget => {
      const field = `contracts[${i}]`
      const name = (item as { name?: unknown } | null)?.name
      if (typeof name !== 'string') throw new UpgradeRequestError(`${field}.name: required, settlement or a name of [chain.contracts]`)
      if (name === 'settlement' ? !known.settlement : !known.names.includes(name)) {
        throw new UpgradeRequestError(`${field}.name: ${name} is not a contract this gateway knows (settlement${known.names.map((n) => `, ${n}`).join('')}; [chain.contracts] names the others)`)
      }
      if (seen.has(name)) throw new UpgradeRequestError(`${field}.name: ${name} is given twice (contract is the settlement contract's)`)
      seen.add(name)
      const { name: _, ...rest } = item as Record<string, unknown>
      return { name, ...target(rest, field) }
    })
  }
  if (body.force_contract_version !== undefined && body.force_contract_version !== null) {
    if (typeof body.force_contract_version !== 'boolean') throw new UpgradeRequestError('force_contract_version: must be true or false')
    request.force_contract_version = body.force_contract_version
  }
}

function target (value: unknown, field: string): ContractTarget {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UpgradeRequestError(`${field}: must be an object {code_id, checksum, migrate_msg?, rollback?}`)
  const c = value as Record<string, unknown>
  const unknown = Object.keys(c).filter((k) => !['code_id', 'checksum', 'migrate_msg', 'rollback'].includes(k))
  if (unknown.length > 0) throw new UpgradeRequestError(`${field}.${unknown[0] ?? ''}: unknown field (known: code_id, checksum, migrate_msg, rollback)`)
  const code = codeRef(c, field)
  if (c.migrate_msg !== undefined && (typeof c.migrate_msg !== 'object' || c.migrate_msg === null || Array.isArray(c.migrate_msg))) throw new UpgradeRequestError(`${field}.migrate_msg: must be an object`)
  const result: ContractTarget = { ...code, ...(c.migrate_msg !== undefined ? { migrate_msg: c.migrate_msg as Record<string, unknown> } : {}) }
  if (c.rollback !== undefined && c.rollback !== null) {
    if (typeof c.rollback !== 'object' || Array.isArray(c.rollback)) throw new UpgradeRequestError(`${field}.rollback: must be an object {code_id, checksum}`)
    result.rollback = codeRef(c.rollback as Record<string, unknown>, `${field}.rollback`)
  }
  return result
}

function codeRef (c: Record<string, unknown>, field: string): { code_id: number, checksum: string } {
  if (typeof c.code_id !== 'number' || !Number.isSafeInteger(c.code_id) || c.code_id < 1) throw new UpgradeRequestError(`${field}.code_id: must be a positive integer`)
  if (typeof c.checksum !== 'string' || !HEX64.test(c.checksum)) throw new UpgradeRequestError(`${field}.checksum: must be 64 hex digits (the SHA-256 of the wasm code)`)
  return { code_id: c.code_id, checksum: c.checksum.toLowerCase() }
}
