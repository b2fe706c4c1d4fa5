/**
 * `intent-gate upgrade start|status|abort` through the admin API. `status --watch` draws a live progress bar of
 * the phases and of the inflight count falling on a terminal (plain lines, one per change, when piped),
 * and exits 0 when the upgrade completed, 1 when it rolled back or failed.
 */
import { InvalidArgumentError, type Command } from 'commander'
import cliProgress from 'cli-progress'
import type { UpgradeStatusBody } from '../../admin/routes/upgrade.js'
import { UsageError } from '../../errors.js'
import { COLORS, isColor } from '../../config/schema.js'
import { UpgradeEndedError } from '../../coordinator/errors.js'
import { FINAL_STATES, FORWARD_PHASES } from '../../coordinator/run.js'
import { CHECKSUM_PATTERN, STUCK_SETTLEMENT_ACTIONS } from '../../coordinator/upgrade-request.js'
import { controlCommand, controlContext, positiveInteger, type ControlOptions } from '../control.js'
import { contractFlag, contractsBody, type ContractFlag } from '../contract-flags.js'
import { keyValues, table, time, type Output } from '../output.js'
import type { AdminClient } from '../../admin/client.js'

/** Where `--watch` stops: the upgrade ended, or there is none (`idle`). */
const FINAL = new Set([...FINAL_STATES, 'idle'])

function nonNegativeInteger (flag: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`${flag} must be a whole number (got '${value}')`)
    return Number(value)
  }
}

export function printUpgradeStatus (out: Output, s: UpgradeStatusBody): void {
  if (out.json) {
    out.write(JSON.stringify(s))
    return
  }
  const pairs: Array<[string, string]> = [
    ['upgrade', s.upgrade_id ?? '-'],
    ['state', s.state],
    ['version', s.from_version === null ? '-' : `${s.from_version} -> ${s.target_version ?? '?'}`],
    ['swap', s.swap === null ? '-' : s.swap.from === s.swap.to ? `${s.swap.from} (no swap)` : `${s.swap.from} -> ${s.swap.to}`],
    ['contract', s.contract === null ? '-' : `code ${s.contract.code_id} (${s.contract.checksum.slice(0, 12)}…)`],
    ['progress', `${s.progress_pct}%`],
    ['inflight', String(s.inflight_count)],
    ['pending IBC packets', String(s.drain_status.pending_ibc_packets)],
    ['checkpoint', s.checkpoint_id ?? '-'],
    ['started at', time(s.started_at === null ? null : Math.floor(s.started_at))],
    ['ended at', time(s.completed_at === null ? null : Math.floor(s.completed_at))],
    ['estimated resume', time(s.estimated_completion === null ? null : Math.floor(s.estimated_completion))],
    ['rollback attempts', String(s.rollback_attempts)],
    ['leader', `${s.leader.instance}${s.leader.is_leader ? ' (this instance)' : ''}`]
  ]
  if (s.error !== null) pairs.push(['error', s.error])
  out.write(keyValues(pairs))
  if (s.phases.length > 0) {
    out.write('\n' + table(['phase', 'started', 'took', 'outcome'], s.phases.map((p) => [
      p.phase, time(Math.floor(p.started_at)),
      p.ended_at === null ? 'running' : `${(p.ended_at - p.started_at).toFixed(1)}s`,
      p.outcome ?? '-'
    ])))
  }
  if (s.steps.length > 0) out.write('\n' + table(['step', 'status'], s.steps.map((st) => [st.name, st.status])))
}

/** What `--watch` shows of one status: the phase line and the inflight line (with how far the drain got). */
interface WatchView {
  phasePct: number
  phaseText: string
  drainDone: number
  drainTotal: number
  drainText: string
}

function watchView (status: UpgradeStatusBody): WatchView {
  const index = FORWARD_PHASES.indexOf(status.state)
  const phaseText = index >= 0 ? `${index + 1}/${FORWARD_PHASES.length} ${status.state}` : status.state
  const stillDraining = status.state === 'pre_checks' || status.state === 'draining'
  // null: the gateway cannot vouch for the count right now (its store is registering records again).
  const inflight = status.inflight_count
  const initial = Math.max(status.drain?.initial_inflight ?? 0, stillDraining ? inflight ?? 0 : 0, 1)
  const view = {
    phasePct: status.progress_pct,
    phaseText: `${phaseText} (${status.progress_pct}%)${status.error !== null && !FINAL.has(status.state) ? ' - ' + status.error.slice(0, 60) : ''}`,
    drainTotal: initial
  }
  if (stillDraining) {
    return { ...view, drainDone: initial - (inflight ?? initial), drainText: `${inflight ?? 'unknown'} inflight, ${status.drain_status.pending_ibc_packets ?? 'unknown'} IBC packets pending` }
  }
  // Past the drain the count is the new version's traffic (or the stuck intents a forced drain left).
  const left = status.drain?.forced === true ? ` (forced: ${status.drain.stuck_settlement_action ?? ''})` : ''
  return { ...view, drainDone: initial, drainText: `drained${left}; ${status.inflight_count} inflight now` }
}

interface WatchRenderer { show: (view: WatchView) => void, stop: () => void }

/** A terminal: two live bars redrawn in place. */
function barsRenderer (): WatchRenderer {
  const bars = new cliProgress.MultiBar({
    clearOnComplete: false,
    hideCursor: true,
    format: '{label} [{bar}] {detail}',
    barsize: 30,
    forceRedraw: true
  }, cliProgress.Presets.shades_classic)
  const phaseBar = bars.create(100, 0, { label: 'phases  ', detail: '' })
  const drainBar = bars.create(1, 0, { label: 'inflight', detail: '' })
  return {
    show (v) {
      phaseBar.update(v.phasePct, { detail: v.phaseText })
      drainBar.setTotal(v.drainTotal)
      drainBar.update(v.drainDone, { detail: v.drainText })
    },
    stop: () => { bars.stop() }
  }
}

/** Not a terminal (a pipe, a log file, CI): one plain timestamped line whenever what it says changes. */
function linesRenderer (out: Output): WatchRenderer {
  let last = ''
  return {
    show (v) {
      const line = `phase ${v.phaseText}; ${v.drainText}`
      if (line === last) return
      last = line
      out.write(`${new Date().toISOString()} ${line}`)
    },
    stop: () => {}
  }
}

/** Shows the upgrade until it ends; resolves with the final status. */
async function watch (client: AdminClient, intervalMs: number, renderer: WatchRenderer): Promise<UpgradeStatusBody> {
  let status = await client.get<UpgradeStatusBody>('/admin/upgrade/status')
  try {
    for (;;) {
      renderer.show(watchView(status))
      if (FINAL.has(status.state)) break
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
      status = await client.get<UpgradeStatusBody>('/admin/upgrade/status')
    }
  } finally {
    renderer.stop()
  }
  return status
}

export function registerUpgradeCommands (program: Command): void {
  const upgrade = program.command('upgrade').description('coordinated upgrades: drain, checkpoint, migrate, swap, verify, resume or roll back')

  controlCommand(upgrade.command('start'))
    .description('start a coordinated upgrade (202 with its id; follow it with `upgrade status --watch`)')
    .requiredOption('--target-version <v>', 'the protocol version after the upgrade, e.g. 2.0')
    .option('--swap-to <color>', 'the upstream that serves new intents afterwards: blue or green')
    .option('--code-id <n>', 'migrate the settlement contract to this code id', positiveInteger('--code-id'))
    .option('--code-checksum <hex>', 'the SHA-256 (hex) the new code must have')
    .option('--contract <name:code_id:checksum>', 'migrate this contract (settlement or a [chain.contracts] name) too; repeatable, in order', contractFlag('--contract'))
    .option('--rollback-code <name:code_id:checksum>', 'revert that --contract by migrating to this code (one whose migrate accepts coming down); repeatable', contractFlag('--rollback-code'))
    .option('--force-contract-version', 'migrate even when a target version is not newer than the contract\'s cw2 version')
    .option('--at <rfc3339>', 'schedule it: state `scheduled` until then (e.g. 2026-12-01T03:00:00Z); `upgrade abort` cancels it')
    .option('--drain-timeout-secs <n>', 'override upgrade.drain_timeout_secs', nonNegativeInteger('--drain-timeout-secs'))
    .option('--force-after-timeout', 'carry on when the drain times out (stuck settlements: see --stuck-settlement-action)')
    .option('--force', 'start even within upgrade.min_upgrade_interval_secs of the last one (recorded in the audit log)')
    .option('--reason <text>', 'why (the audit log keeps it)')
    .option('--stuck-settlement-action <action>', 'with --force-after-timeout: preserve, refund_and_cancel or extend_timeout (default)')
    .action(async (opts: ControlOptions & {
      targetVersion: string
      swapTo?: string
      codeId?: number
      codeChecksum?: string
      contract?: ContractFlag[]
      rollbackCode?: ContractFlag[]
      forceContractVersion?: boolean
      drainTimeoutSecs?: number
      forceAfterTimeout?: boolean
      stuckSettlementAction?: string
      at?: string
      force?: boolean
      reason?: string
    }) => {
      if (opts.at !== undefined && (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(opts.at) || Number.isNaN(Date.parse(opts.at)))) {
        throw new UsageError(`--at must be an RFC 3339 time with a zone, e.g. 2026-12-01T03:00:00Z (got '${opts.at}')`)
      }
      if (opts.swapTo !== undefined && !isColor(opts.swapTo)) throw new UsageError(`--swap-to must be ${COLORS.join(' or ')} (got '${opts.swapTo}')`)
      if ((opts.codeId === undefined) !== (opts.codeChecksum === undefined)) throw new UsageError('--code-id and --code-checksum go together')
      if (opts.codeChecksum !== undefined && !new RegExp(CHECKSUM_PATTERN).test(opts.codeChecksum)) throw new UsageError('--code-checksum must be 64 hex digits (the SHA-256 of the wasm code)')
      const action = opts.stuckSettlementAction
      if (action !== undefined && !(STUCK_SETTLEMENT_ACTIONS as readonly string[]).includes(action)) {
        throw new UsageError('--stuck-settlement-action must be preserve, refund_and_cancel or extend_timeout')
      }
      const { client, out } = await controlContext(opts)
      const body = {
        target_version: opts.targetVersion,
        ...(opts.swapTo !== undefined ? { swap_to: opts.swapTo } : {}),
        ...(opts.codeId !== undefined ? { contract: { code_id: opts.codeId, checksum: opts.codeChecksum } } : {}),
        ...(opts.contract !== undefined || opts.rollbackCode !== undefined
          ? { contracts: contractsBody(opts.contract, opts.rollbackCode) }
          : {}),
        ...(opts.forceContractVersion === true ? { force_contract_version: true } : {}),
        ...(opts.drainTimeoutSecs !== undefined ? { drain_timeout_secs: opts.drainTimeoutSecs } : {}),
        ...(opts.forceAfterTimeout === true ? { force_after_timeout: true } : {}),
        ...(opts.stuckSettlementAction !== undefined ? { stuck_settlement_action: opts.stuckSettlementAction } : {}),
        ...(opts.at !== undefined ? { at: opts.at } : {}),
        ...(opts.force === true ? { force: true } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {})
      }
      const started = await client.post<{ id: string, state: string, swap: { from: string, to: string } }>('/admin/upgrade/start', body)
      out.write(out.json ? JSON.stringify(started) : `upgrade ${started.id} started (${started.state}); follow it with: intent-gate upgrade status --watch`)
    })

  controlCommand(upgrade.command('status'))
    .description('the upgrade\'s state, phases and steps')
    .option('--watch', 'a live progress bar of the phases and the inflight count, until the upgrade ends')
    .option('--interval-ms <n>', 'how often --watch polls', positiveInteger('--interval-ms'), 500)
    .action(async (opts: ControlOptions & { watch?: boolean, intervalMs: number }) => {
      const { client, out } = await controlContext(opts)
      if (opts.watch !== true || out.json) {
        printUpgradeStatus(out, await client.get<UpgradeStatusBody>('/admin/upgrade/status'))
        return
      }
      // cli-progress draws only on a terminal; elsewhere it printed its template (`{label}`) as is.
      const final = await watch(client, opts.intervalMs, process.stdout.isTTY ? barsRenderer() : linesRenderer(out))
      printUpgradeStatus(out, final)
      if (final.state !== 'completed' && final.state !== 'idle') {
        throw new UpgradeEndedError(`upgrade ${final.upgrade_id ?? ''} ended ${final.state}${final.error !== null ? `: ${final.error}` : ''}`)
      }
    })

  controlCommand(upgrade.command('abort'))
    .description('abort the running upgrade: what was done is rolled back and the old version resumes')
    .option('--reason <text>', 'why (the audit log keeps it)')
    .action(async (opts: ControlOptions & { reason?: string }) => {
      const { client, out } = await controlContext(opts)
      const r = await client.post<{ id: string, state: string }>('/admin/upgrade/abort', opts.reason !== undefined ? { reason: opts.reason } : {})
      out.write(out.json ? JSON.stringify(r) : `abort of upgrade ${r.id} requested (it was ${r.state}); follow the rollback with: intent-gate upgrade status --watch`)
    })
}
