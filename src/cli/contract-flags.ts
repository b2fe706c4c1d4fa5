/**
 * `upgrade start --contract NAME:CODE_ID:CHECKSUM` and `--rollback-code NAME:CODE_ID:CHECKSUM`, both repeatable:
 * parsed into the request's `contracts` (each rollback code joined to its contract). Bad values name the flag.
 */
import { CHECKSUM_PATTERN } from '../coordinator/upgrade-request.js'
import { UsageError } from '../errors.js'

/** NAME:CODE_ID:CHECKSUM, the checksum as the upgrade request's schema accepts it. */
const CONTRACT_FLAG = new RegExp(`^([a-z][a-z0-9_-]*):([1-9][0-9]*):(${CHECKSUM_PATTERN.slice(1, -1)})$`)

export interface ContractFlag { name: string, code_id: number, checksum: string }

/** A commander option parser that collects every occurrence. */
export function contractFlag (flag: string): (value: string, previous: ContractFlag[] | undefined) => ContractFlag[] {
  return (value, previous) => {
    const match = CONTRACT_FLAG.exec(value)
    if (match === null) throw new UsageError(`${flag} must be NAME:CODE_ID:CHECKSUM (a contract name, a positive code id, 64 hex digits), got '${value}'`)
    return [...(previous ?? []), { name: match[1] as string, code_id: Number(match[2]), checksum: (match[3] as string).toLowerCase() }]
  }
}

/** The request's `contracts`: each --contract, with its --rollback-code when one names it. */
export function contractsBody (contracts: ContractFlag[] = [], rollbacks: ContractFlag[] = []): Array<Record<string, unknown>> {
  const names = new Set(contracts.map((c) => c.name))
  for (const r of rollbacks) if (!names.has(r.name)) throw new UsageError(`--rollback-code ${r.name}: no --contract ${r.name}:... to roll back`)
  return contracts.map((c) => {
    const rollback = rollbacks.find((r) => r.name === c.name)
    return { ...c, ...(rollback === undefined ? {} : { rollback: { code_id: rollback.code_id, checksum: rollback.checksum } }) }
  })
}
