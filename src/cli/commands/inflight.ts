/** `intent-gate inflight list`: the inflight intents across every instance, oldest first, read page by page. */
import type { Command } from 'commander'
import type { InflightView } from '../../admin/routes/inflight.js'
import { controlCommand, controlContext, positiveInteger, type ControlOptions } from '../control.js'
import { duration, table, time } from '../output.js'

/** Records per admin call by default: each page is one bounded store read. */
const PAGE = 1000

export function registerInflightCommands (program: Command): void {
  const inflight = program.command('inflight').description('inflight intents')

  controlCommand(inflight.command('list'))
    .description('every inflight intent: id, upstream, version, created, deadline, phase')
    .option('--page-size <n>', `records per admin call (default ${PAGE})`, positiveInteger('--page-size'))
    .action(async (opts: ControlOptions & { pageSize?: number }) => {
      const { client, out } = await controlContext(opts)
      const list: InflightView[] = []
      let cursor: string | null = null
      do {
        const query: string = `/admin/inflight?limit=${opts.pageSize ?? PAGE}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
        const page: { records: InflightView[], next_cursor: string | null } = await client.get(query)
        list.push(...page.records)
        cursor = page.next_cursor
      } while (cursor !== null)
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
