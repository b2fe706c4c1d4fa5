/** `intent-gate inflight list`: the inflight intents across every instance, oldest first. */
import type { Command } from 'commander'
import type { InflightView } from '../../admin/routes/inflight.js'
import { controlCommand, controlContext, type ControlOptions } from '../control.js'
import { duration, table, time } from '../output.js'

export function registerInflightCommands (program: Command): void {
  const inflight = program.command('inflight').description('inflight intents')

  controlCommand(inflight.command('list'))
    .description('every inflight intent: id, upstream, version, created, deadline, phase')
    .action(async (opts: ControlOptions) => {
      const { client, out } = controlContext(opts)
      const list = await client.get<InflightView[]>('/admin/inflight')
      if (out.json) {
        out.write(JSON.stringify(list))
        return
      }
      if (list.length === 0) {
        out.write('no inflight intents')
        return
      }
      out.write(table(
        ['ID', 'UPSTREAM', 'VERSION', 'CREATED', 'AGE', 'DEADLINE', 'PHASE'],
        list.map((i) => [i.id ?? `(submitting: ${i.key})`, i.upstream, i.version, time(i.created_at), duration(i.age_secs), time(i.deadline), i.phase])
      ))
      out.write(`${list.length} inflight`)
    })
}
