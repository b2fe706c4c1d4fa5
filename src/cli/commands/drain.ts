/**
 * `intent-gate drain start [--deadline-secs N] [--reason TEXT] [--wait]`, `drain stop`, `drain status`: the drain
 * switch and the design's DrainStatus through the admin API. `--wait` polls the status until the mode is `drained`
 * (exit 0) or the drain's deadline passes (exit 1): what a Kubernetes preStop hook runs.
 */
import type { Command } from 'commander'
import type { DrainStatus } from '../../drain/status.js'
import type { AdminClient } from '../../admin/client.js'
import { controlCommand, controlContext, positiveInteger, type ControlOptions } from '../control.js'
import { DrainDeadlineError } from '../errors.js'
import { duration, keyValues, time, type Output } from '../output.js'

export function printDrainStatus (out: Output, s: DrainStatus): void {
  if (out.json) {
    out.write(JSON.stringify(s))
    return
  }
  const pairs: Array<[string, string]> = [
    ['mode', s.mode],
    ['inflight settlements', String(s.inflight_settlements)],
    ['pending IBC packets', String(s.pending_ibc_packets)],
    ['oldest inflight age', duration(s.oldest_inflight_age_secs)],
    ['started at', time(s.started_at)],
    ['deadline', time(s.deadline)],
    ['reason', s.reason ?? '-'],
    ['upgrade', s.upgrade === null ? '-' : `${s.upgrade.id} (${s.upgrade.phase})`]
  ]
  for (const bad of s.invalid_keys) pairs.push([`ignored key ${bad.key}`, JSON.stringify(bad.raw)])
  out.write(keyValues(pairs))
}

/**
 * Polls until `drained` or past the deadline the status reports (the first start's time plus its
 * `deadline_secs`, so a second `start` does not extend it). No deadline: until drained (Kubernetes bounds a
 * preStop hook by terminationGracePeriodSeconds). `unknown` is never drained, so it keeps waiting.
 */
async function waitDrained (client: AdminClient, first: DrainStatus, intervalMs: number): Promise<DrainStatus> {
  let status = first
  for (;;) {
    if (status.mode === 'drained') return status
    const deadlineMs = status.deadline === null ? null : status.deadline * 1000
    const now = Date.now()
    if (deadlineMs !== null && now >= deadlineMs) return status
    const pause = deadlineMs === null ? intervalMs : Math.min(intervalMs, deadlineMs - now)
    await new Promise((resolve) => setTimeout(resolve, pause))
    status = await client.get<DrainStatus>('/admin/drain/status')
  }
}

export function registerDrainCommands (program: Command): void {
  const drain = program.command('drain').description('drain control: refuse new intents while the inflight ones settle')

  controlCommand(drain.command('start'))
    .description('start draining (every instance refuses new intents with 503 at once)')
    .option('--deadline-secs <n>', 'how long the drain may take; clients get Retry-After from it', positiveInteger('--deadline-secs'))
    .option('--reason <text>', 'why (shown in status)')
    .option('--wait', 'return only once drained (exit 0), or when the deadline passes (exit 1)')
    .option('--interval-ms <n>', 'how often --wait polls', positiveInteger('--interval-ms'), 500)
    .action(async (opts: ControlOptions & { deadlineSecs?: number, reason?: string, wait?: boolean, intervalMs: number }) => {
      const { client, out } = await controlContext(opts)
      const body = {
        ...(opts.deadlineSecs !== undefined ? { deadline_secs: opts.deadlineSecs } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {})
      }
      const started = await client.post<DrainStatus>('/admin/drain/start', body)
      if (opts.wait !== true) {
        printDrainStatus(out, started)
        return
      }
      const final = await waitDrained(client, started, opts.intervalMs)
      printDrainStatus(out, final)
      if (final.mode !== 'drained') {
        throw new DrainDeadlineError(`not drained by the deadline ${time(final.deadline)}: ${final.inflight_settlements} inflight, ${final.pending_ibc_packets} IBC packets pending`)
      }
    })

  controlCommand(drain.command('stop'))
    .description('stop draining (intents are accepted again, unless an upgrade is running)')
    .action(async (opts: ControlOptions) => {
      const { client, out } = await controlContext(opts)
      printDrainStatus(out, await client.post<DrainStatus>('/admin/drain/stop'))
    })

  controlCommand(drain.command('status'))
    .description('mode, inflight settlements, pending IBC packets, oldest inflight age')
    .action(async (opts: ControlOptions) => {
      const { client, out } = await controlContext(opts)
      printDrainStatus(out, await client.get<DrainStatus>('/admin/drain/status'))
    })
}
