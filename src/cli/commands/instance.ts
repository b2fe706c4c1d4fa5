/**
 * `intent-gate instance leave [--wait] [--deadline-secs N]` and `instance list`: this instance leaves the fleet
 * (the others go on admitting; the fleet's drain switch is not touched), and the fleet of the namespace. `--wait`
 * polls `GET /admin/instance` until the instance has left, holding nothing that is not in the store (exit 0), or
 * the deadline passes (exit 1): what a Kubernetes preStop hook runs before the kubelet's SIGTERM.
 */
import type { Command } from 'commander'
import type { AdminClient } from '../../admin/client.js'
import { controlCommand, controlContext, positiveInteger, type ControlOptions } from '../control.js'
import { LeaveDeadlineError } from '../errors.js'
import { keyValues, table, type Output } from '../output.js'

interface SelfStatus {
  id: string
  state: 'serving' | 'leaving' | 'left'
  exchanges: number
  held: number
  unbound: number
  leaving_since: string | null
  refusing_from: string | null
  deadline: string | null
}

interface FleetInstance {
  id: string
  version: string
  layout: string
  state: string
  started_at: string
  last_seen_at: string
  journaled: number
  self?: boolean
}

function printSelf (out: Output, s: SelfStatus): void {
  if (out.json) {
    out.write(JSON.stringify(s))
    return
  }
  out.write(keyValues([
    ['instance', s.id],
    ['state', s.state],
    ['open exchanges', String(s.exchanges)],
    ['held submissions', String(s.held)],
    ['store writes waiting', String(s.unbound)],
    ['leaving since', s.leaving_since ?? '-'],
    ['refusing from', s.refusing_from ?? '-'],
    ['deadline', s.deadline ?? '-']
  ]))
}

/** Polls until `left`, or past the deadline (the leave's own, or --deadline-secs from now). */
async function waitLeft (client: AdminClient, first: SelfStatus, deadlineMs: number, intervalMs: number): Promise<SelfStatus> {
  let status = first
  for (;;) {
    if (status.state === 'left' || Date.now() >= deadlineMs) return status
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadlineMs - Date.now()))))
    status = await client.get<SelfStatus>('/admin/instance')
  }
}

export function registerInstanceCommands (program: Command): void {
  const instance = program.command('instance').description('this gateway instance and the fleet it belongs to')

  controlCommand(instance.command('leave'))
    .description('this instance leaves the fleet: not ready at once, admits for proxy.leave_grace_secs, then refuses; the others admit throughout')
    .option('--wait', 'return once it holds nothing that is not in the store (exit 0), or at the deadline (exit 1)')
    .option('--deadline-secs <n>', 'how long the leave (and --wait) may take', positiveInteger('--deadline-secs'))
    .option('--interval-ms <n>', 'how often --wait polls', positiveInteger('--interval-ms'), 200)
    .action(async (opts: ControlOptions & { wait?: boolean, deadlineSecs?: number, intervalMs: number }) => {
      const { client, out } = await controlContext(opts)
      const started = await client.post<SelfStatus>('/admin/instance/leave', opts.deadlineSecs !== undefined ? { deadline_secs: opts.deadlineSecs } : {})
      if (opts.wait !== true) {
        printSelf(out, started)
        return
      }
      // The leave's own deadline, a little later: the instance itself decides when it stops waiting.
      const deadlineMs = (started.deadline === null ? Date.now() : Date.parse(started.deadline)) + 2000
      const final = await waitLeft(client, started, deadlineMs, opts.intervalMs)
      printSelf(out, final)
      if (final.state !== 'left') {
        throw new LeaveDeadlineError(`not left by the deadline ${final.deadline ?? '-'}: ${final.exchanges} open exchanges, ${final.unbound} store writes waiting`)
      }
    })

  controlCommand(instance.command('list'))
    .description('the fleet of this namespace: id, version, layout, state, last seen')
    .action(async (opts: ControlOptions) => {
      const { client, out } = await controlContext(opts)
      const { instances } = await client.get<{ instances: FleetInstance[] }>('/admin/instances')
      if (out.json) {
        out.write(JSON.stringify({ instances }))
        return
      }
      out.write(table(['id', 'version', 'layout', 'state', 'started', 'last seen', 'journaled'],
        instances.map((i) => [i.self === true ? `${i.id} (this)` : i.id, i.version, i.layout, i.state, i.started_at, i.last_seen_at, String(i.journaled)])))
    })
}
