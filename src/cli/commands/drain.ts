/**
 * `intent-gate drain start [--deadline-secs N] [--reason TEXT]`, `drain stop`, `drain status`: the drain switch
 * and the seed's DrainStatus through the admin API.
 */
import type { Command } from 'commander'
import type { DrainStatus } from '../../admin/drain-status.js'
import { controlCommand, controlContext, positiveInteger, type ControlOptions } from '../control.js'
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

export function registerDrainCommands (program: Command): void {
  const drain = program.command('drain').description('drain control: refuse new intents while the inflight ones settle')

  controlCommand(drain.command('start'))
    .description('start draining (every instance refuses new intents with 503 at once)')
    .option('--deadline-secs <n>', 'how long the drain may take; clients get Retry-After from it', positiveInteger('--deadline-secs'))
    .option('--reason <text>', 'why (shown in status)')
    .action(async (opts: ControlOptions & { deadlineSecs?: number, reason?: string }) => {
      const { client, out } = controlContext(opts)
      const body = { ...(opts.deadlineSecs !== undefined ? { deadline_secs: opts.deadlineSecs } : {}), ...(opts.reason !== undefined ? { reason: opts.reason } : {}) }
      printDrainStatus(out, await client.post<DrainStatus>('/admin/drain/start', body))
    })

  controlCommand(drain.command('stop'))
    .description('stop draining (intents are accepted again, unless an upgrade is running)')
    .action(async (opts: ControlOptions) => {
      const { client, out } = controlContext(opts)
      printDrainStatus(out, await client.post<DrainStatus>('/admin/drain/stop'))
    })

  controlCommand(drain.command('status'))
    .description('mode, inflight settlements, pending IBC packets, oldest inflight age')
    .action(async (opts: ControlOptions) => {
      const { client, out } = controlContext(opts)
      printDrainStatus(out, await client.get<DrainStatus>('/admin/drain/status'))
    })
}
