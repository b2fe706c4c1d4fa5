/**
 * Step: the settlement contract's migration (the seed's Procedure 2). Before migrating, the new code's checksum
 * and the gateway signer being the contract's admin are checked (the contract client checks again itself).
 * Revert migrates back to the old code id with the old cw2 version, only when the contract is not already there.
 */
import type { ContractPort, StuckSettlementAction } from '../ports.js'
import { UpgradePhaseError } from '../errors.js'
import type { ContractTarget } from '../run.js'
import type { StepDetail, UpgradeStep } from './step.js'

/** The seed's MigrateMsg, serialised the way cw_serde does (snake_case enums). */
export function migrateMsg (newVersion: string, action: StuckSettlementAction, extendSecs: number): Record<string, unknown> {
  const stuck = action === 'extend_timeout' ? { extend_timeout: { additional_seconds: extendSecs } } : action
  return { new_version: newVersion, config: { preserve_inflight: true, stuck_settlement_action: stuck } }
}

export function contractStep (contract: ContractPort, target: ContractTarget, targetVersion: string,
  action: StuckSettlementAction, extendSecs: number): UpgradeStep {
  return {
    name: 'contract_migration',
    prepare: async () => {
      const info = await contract.info()
      const oldChecksum = await contract.codeChecksum(info.code_id)
      return { address: info.address, old_code_id: info.code_id, old_checksum: oldChecksum, old_version: info.version, new_code_id: target.code_id }
    },
    apply: async (detail: StepDetail) => {
      await contract.verifyMigration(target.code_id, target.checksum)
      const msg = target.migrate_msg ?? migrateMsg(targetVersion, action, extendSecs)
      const txHash = await contract.migrate(target.code_id, target.checksum, msg)
      const after = await contract.info()
      if (after.code_id !== target.code_id) {
        throw new UpgradePhaseError('migrating', `the contract reports code id ${after.code_id} after migrating to ${target.code_id} (old ${String(detail.old_code_id)})`)
      }
      return { tx_hash: txHash, new_version: after.version }
    },
    revert: async (detail: StepDetail) => {
      const oldCodeId = Number(detail.old_code_id)
      const info = await contract.info()
      if (info.code_id === oldCodeId && info.version === detail.old_version) return
      await contract.migrate(oldCodeId, String(detail.old_checksum), migrateMsg(String(detail.old_version), 'preserve', 0))
      const after = await contract.info()
      if (after.code_id !== oldCodeId) throw new UpgradePhaseError('rolling_back', `the contract is still on code id ${after.code_id} after migrating back to ${oldCodeId}`)
    }
  }
}
