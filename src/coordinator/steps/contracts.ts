/**
 * The contracts an upgrade moves: `contract` (the settlement contract's) and then `contracts` in order, each its
 * own journaled step, reverted newest first by the executor.
 *
 * Before the first transaction (pre-checks) every contract is checked: the gateway's signer is its admin, the new
 * code has the expected checksum, its cw2 `contract_info` is readable and the target version is newer (unless
 * forced), and how it will be reverted is decided: migrate back to the old code id, or to the rollback code given
 * with the upgrade. Real contracts call cw2's `ensure_from_older_version`, so migrating back to the old code may be
 * refused; a dry run (the forward and the revert migration simulated as one transaction) refuses such an upgrade
 * before anything is sent.
 *
 * Every migration carries a timeout_height journaled before it is sent. A revert of a migration whose outcome is
 * not known (no tx hash recorded: the coordinator died or the send failed) waits until the chain is past that
 * height before it looks at the contract, so a transaction broadcast by a dead leader cannot land after the
 * decision.
 */
import type { Logger } from '../../log.js'
import { UpgradePhaseError } from '../errors.js'
import type { ContractPort, StuckSettlementAction } from '../ports.js'
import type { NamedContractTarget, UpgradeRequest } from '../upgrade-request.js'
import { migrateMsg } from './contract-step.js'
import type { StepDetail, UpgradeStep } from './step.js'
import { compareContractVersions } from '../../chain/cw2-version.js'

export const SETTLEMENT = 'settlement'

/** The port of a contract by its name in the upgrade (`settlement` or a `[chain.contracts]` key). */
export type ContractPorts = (name: string) => ContractPort | null

/** `contract` first (as `settlement`), then `contracts`, in the order given. */
export function contractTargets (request: UpgradeRequest): NamedContractTarget[] {
  return [...(request.contract === undefined ? [] : [{ ...request.contract, name: SETTLEMENT }]), ...(request.contracts ?? [])]
}

export function stepNameOf (contract: string): string {
  return contract === SETTLEMENT ? 'contract_migration' : `contract_migration:${contract}`
}

/** The MigrateMsg sent forward: the request's own, or the design's with the target version. */
function forwardMsg (
  target: NamedContractTarget,
  targetVersion: string,
  action: StuckSettlementAction,
  extendSecs: number
): Record<string, unknown> {
  return target.migrate_msg ?? migrateMsg(targetVersion, action, extendSecs)
}

/** The revert's MigrateMsg: back to the old cw2 version, settlements preserved. */
function revertMsg (oldVersion: string): Record<string, unknown> {
  return migrateMsg(oldVersion, 'preserve', 0)
}

export { compareContractVersions as compareVersions } from '../../chain/cw2-version.js'

/** Pre-checks of every contract; throws (naming the contract) on the first refusal. Sends nothing. */
export async function checkContracts (request: UpgradeRequest, ports: ContractPorts, log: Logger): Promise<void> {
  for (const target of contractTargets(request)) {
    const name = target.name
    const port = ports(name)
    const fail = (why: string, cause?: unknown): never => { throw new UpgradePhaseError('pre_checks', `contract ${name}: ${why}; nothing was sent`, cause === undefined ? undefined : { cause }) }
    if (port === null) fail(name === SETTLEMENT ? 'the chain is disabled or chain.settlement_contract is empty' : `not configured ([chain.contracts] has no ${name})`)
    const p = port as ContractPort
    try {
      await p.verifyMigration(target.code_id, target.checksum)
    } catch (err) {
      fail(messageOf(err), err)
    }
    const info = await p.info()
    const forward = forwardMsg(target, request.target_version, 'preserve', 0)
    const newVersion = String(forward.new_version)
    if (info.contract === '') fail('its cw2 contract_info names no contract')
    if (compareContractVersions(newVersion, info.version) <= 0 && request.force_contract_version !== true) {
      fail(`the target version ${newVersion} is not newer than its cw2 version ${info.version} (${info.contract}); force_contract_version migrates anyway`)
    }
    let revert = { code_id: info.code_id, checksum: '' }
    if (target.rollback !== undefined) {
      try {
        await p.verifyMigration(target.rollback.code_id, target.rollback.checksum)
      } catch (err) {
        fail(`its rollback code: ${messageOf(err)}`, err)
      }
      revert = target.rollback
    }
    const via = target.rollback === undefined ? `back to its old code ${info.code_id}` : `to the rollback code ${revert.code_id}`
    if (p.dryRunMigrations !== undefined) {
      // The drain has not happened yet: the dry run keeps inflight settlements, as the real migration will find none
      // or preserve them; it asks whether the codes accept the way there and back.
      const dryForward = forward.config === undefined || forward.config === null ? forward : { ...forward, config: { ...(forward.config as object), preserve_inflight: true, stuck_settlement_action: 'preserve' } }
      try {
        await p.dryRunMigrations([{ code_id: target.code_id, msg: dryForward }, { code_id: revert.code_id, msg: revertMsg(info.version) }])
      } catch (err) {
        const words = messageOf(err)
        if (/message index: 1\b/.test(words)) {
          fail(`the chain would refuse its revert (${via}, from ${newVersion} to ${info.version}): ${words}; give a rollback code whose migrate accepts coming down (rollback in contracts[], --rollback-code ${name}:CODE_ID:CHECKSUM)`, err)
        }
        fail(`the chain would refuse the migration to code ${target.code_id}: ${words}`, err)
      }
    }
    log.info({ contract: name, address: info.address, cw2: `${info.contract} ${info.version}`, to_code_id: target.code_id, to_version: newVersion, revert: via, dry_run: p.dryRunMigrations !== undefined }, 'contract checked; revert planned')
  }
}

export function contractSteps (
  request: UpgradeRequest,
  ports: ContractPorts,
  action: StuckSettlementAction,
  extendSecs: number,
  log: Logger
): UpgradeStep[] {
  return contractTargets(request).flatMap((target) => {
    const port = ports(target.name)
    return port === null ? [] : [contractStep(target, port, forwardMsg(target, request.target_version, action, extendSecs), action, log)]
  })
}

function contractStep (
  target: NamedContractTarget,
  port: ContractPort,
  msg: Record<string, unknown>,
  action: StuckSettlementAction,
  log: Logger
): UpgradeStep {
  const name = target.name
  return {
    name: stepNameOf(name),
    prepare: async () => {
      const info = await port.info()
      const oldChecksum = await port.codeChecksum(info.code_id)
      const inflight = await port.inflightSettlements()
      // Journaled before the tx is sent: whoever reverts knows when a migration that may be in flight is dead.
      const timeoutHeight = port.timeoutHeight === undefined ? undefined : await port.timeoutHeight()
      return {
        contract: name,
        address: info.address,
        old_code_id: info.code_id,
        old_checksum: oldChecksum,
        old_version: info.version,
        cw2_contract: info.contract,
        new_code_id: target.code_id,
        revert_code_id: target.rollback?.code_id ?? info.code_id,
        revert_checksum: target.rollback?.checksum ?? oldChecksum,
        revert_via: target.rollback === undefined ? 'old_code' : 'rollback_code',
        inflight_ids: inflight.map((s) => String(s.id)),
        ...(timeoutHeight === undefined ? {} : { timeout_height: timeoutHeight })
      }
    },
    apply: async (detail: StepDetail) => {
      const fail = (why: string): never => { throw new UpgradePhaseError('migrating', `contract ${name}: ${why}`) }
      await port.verifyMigration(target.code_id, target.checksum)
      const txHash = await port.migrate(target.code_id, target.checksum, msg, typeof detail.timeout_height === 'number' ? { timeoutHeight: detail.timeout_height } : undefined)
      const after = await port.info()
      if (after.code_id !== target.code_id) fail(`reports code id ${after.code_id} after migrating to ${target.code_id} (old ${String(detail.old_code_id)})`)
      if (after.contract !== detail.cw2_contract) fail(`its cw2 name changed from ${String(detail.cw2_contract)} to ${after.contract}`)
      if (action !== 'refund_and_cancel' && Array.isArray(detail.inflight_ids) && detail.inflight_ids.length > 0) {
        const now = new Set((await port.inflightSettlements()).map((s) => String(s.id)))
        const lost = (detail.inflight_ids as string[]).filter((id) => !now.has(id))
        if (lost.length > 0) fail(`inflight settlements did not survive the migration: ${lost.slice(0, 10).join(', ')}${lost.length > 10 ? ` and ${lost.length - 10} more` : ''}`)
      }
      return { tx_hash: txHash, new_version: after.version, new_cw2: { contract: after.contract, version: after.version } }
    },
    revert: async (detail: StepDetail, signal?: AbortSignal) => {
      const fail = (why: string, cause?: unknown): never => { throw new UpgradePhaseError('rolling_back', `contract ${name}: ${why}`, cause === undefined ? undefined : { cause }) }
      const oldCodeId = Number(detail.old_code_id)
      const revertCodeId = Number(detail.revert_code_id ?? detail.old_code_id)
      if (detail.tx_hash === undefined && typeof detail.timeout_height === 'number') await waitPastHeight(port, detail.timeout_height, name, log, signal)
      const info = await port.info()
      if ((info.code_id === oldCodeId || info.code_id === revertCodeId) && info.version === detail.old_version) return
      try {
        await port.migrate(revertCodeId, String(detail.revert_checksum ?? detail.old_checksum), revertMsg(String(detail.old_version)))
      } catch (err) {
        fail(`the revert to code ${revertCodeId} (version ${String(detail.old_version)}) failed: ${messageOf(err)}`, err)
      }
      const after = await port.info()
      if (after.code_id !== revertCodeId) fail(`still on code id ${after.code_id} after migrating back to ${revertCodeId}`)
      log.info({ contract: name, code_id: after.code_id, version: after.version }, 'contract reverted')
    }
  }
}

/**
 * Waits until the chain's latest height reaches `height`: a transaction with that timeout_height can no longer be
 * included after it. Polled once per second (about a block on a real chain).
 */
async function waitPastHeight (port: ContractPort, height: number, name: string, log: Logger, signal?: AbortSignal): Promise<void> {
  if (port.height === undefined) return
  let logged = false
  for (;;) {
    const now = await port.height()
    if (now >= height) return
    if (!logged) {
      log.warn({ contract: name, height: now, timeout_height: height }, 'the migration may still be in flight: waiting until the chain passes its timeout height before deciding the revert')
      logged = true
    }
    if (signal?.aborted === true) throw new UpgradePhaseError('rolling_back', 'the coordinator stopped acting')
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
