/**
 * The contract fields of an upgrade request against what this gateway knows: `contract` needs the settlement
 * contract, each name of `contracts` is `settlement` or a name of `[chain.contracts]`, once. Their shape was checked
 * by the request's schema (upgrade-request.ts); each refusal names the field (400).
 */
import { UpgradeRequestError } from './errors.js'
import { CHECKSUM_MESSAGE, CHECKSUM_PATTERN, type ContractTarget, type UpgradeRequest } from './upgrade-request.js'

export interface KnownContracts {
  /** Whether `settlement` can be migrated (the chain is enabled and settlement_contract set). */
  settlement: boolean
  /** The `[chain.contracts]` names. */
  names: readonly string[]
}

/** `request` with its contract fields checked against `known` and their checksums in lower case. */
export function checkContractFields (request: UpgradeRequest, known: KnownContracts): UpgradeRequest {
  const checked: UpgradeRequest = { ...request }
  if (request.contract !== undefined) {
    if (!known.settlement) throw new UpgradeRequestError('contract: the chain is disabled ([chain] enabled = false) or chain.settlement_contract is empty, so no contract can be migrated')
    checked.contract = lowerCase(request.contract, 'contract')
  }
  if (request.contracts !== undefined) {
    const seen = new Set<string>(request.contract === undefined ? [] : ['settlement'])
    checked.contracts = request.contracts.map((item, i) => {
      const field = `contracts[${i}]`
      const name = item.name
      if (name === 'settlement' ? !known.settlement : !known.names.includes(name)) {
        throw new UpgradeRequestError(`${field}.name: ${name} is not a contract this gateway knows (settlement${known.names.map((n) => `, ${n}`).join('')}; [chain.contracts] names the others)`)
      }
      if (seen.has(name)) throw new UpgradeRequestError(`${field}.name: ${name} is given twice (contract is the settlement contract's)`)
      seen.add(name)
      return lowerCase(item, field)
    })
  }
  return checked
}

const HEX64 = new RegExp(CHECKSUM_PATTERN)

/**
 * The checksums in lower case. A type cannot say "64 hex digits", so a caller in code (not the admin route, whose
 * schema checked them) could pass anything: checked here with the schema's pattern and words.
 */
function lowerCase<T extends ContractTarget> (target: T, field: string): T {
  for (const [name, code] of [[field, target], [`${field}.rollback`, target.rollback]] as const) {
    if (code !== undefined && !HEX64.test(code.checksum)) throw new UpgradeRequestError(`${name}.checksum: ${CHECKSUM_MESSAGE}`)
  }
  return {
    ...target,
    checksum: target.checksum.toLowerCase(),
    ...(target.rollback !== undefined ? { rollback: { ...target.rollback, checksum: target.rollback.checksum.toLowerCase() } } : {})
  }
}
