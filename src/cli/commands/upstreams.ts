/** `intent-gate upstreams list` and `upstreams swap COLOR [--force]`: the blue-green pair. */
import { Argument, type Command } from 'commander'
import { COLORS } from '../../config/schema.js'
import { controlCommand, controlContext, type ControlOptions } from '../control.js'
import { table, time } from '../output.js'

interface UpstreamsView {
  active: string
  active_key: string | null
  store: 'ready' | 'unavailable'
  upstreams: Array<{
    color: string
    url: string
    versions: string[]
    active: boolean
    health: string
    last_check_at: number | null
    last_error: string | null
    inflight: number | null
  }>
}

export function registerUpstreamsCommands (program: Command): void {
  const upstreams = program.command('upstreams').description('the blue-green upstreams')

  controlCommand(upstreams.command('list'))
    .description('health, versions, inflight count and which is active')
    .action(async (opts: ControlOptions) => {
      const { client, out } = await controlContext(opts)
      const view = await client.get<UpstreamsView>('/admin/upstreams')
      if (out.json) {
        out.write(JSON.stringify(view))
        return
      }
      if (view.store === 'unavailable') out.write('the store cannot be reached: inflight counts unknown (?)')
      out.write(table(
        ['COLOR', 'ACTIVE', 'HEALTH', 'INFLIGHT', 'VERSIONS', 'URL', 'LAST CHECK', 'LAST ERROR'],
        view.upstreams.map((u) => [u.color, u.active ? '*' : '', u.health, u.inflight === null ? '?' : String(u.inflight), u.versions.join(','), u.url, time(u.last_check_at), u.last_error ?? '-'])
      ))
    })

  controlCommand(upstreams.command('swap'))
    .description('make COLOR the active upstream (new intents go there; inflight ones stay with their owner)')
    .addArgument(new Argument('<color>', 'the upstream to activate').choices(COLORS))
    .option('--force', 'swap even when COLOR is unhealthy or an upgrade is running')
    .option('--reason <text>', 'why (the audit log keeps it)')
    .action(async (color: string, opts: ControlOptions & { force?: boolean, reason?: string }) => {
      const { client, out } = await controlContext(opts)
      const result = await client.post<{ active: string, previous: string, forced: boolean }>('/admin/upstreams/active', { color, force: opts.force === true, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) })
      out.write(out.json ? JSON.stringify(result) : `active upstream: ${result.active} (was ${result.previous})${result.forced ? ', forced' : ''}`)
    })
}
