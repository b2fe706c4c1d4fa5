/** `intent-gate checkpoint list|show ID|validate ID` through the admin API. `validate` exits 1 on a corrupt one. */
import type { Command } from 'commander'
import { CheckpointCorruptError } from '../../coordinator/errors.js'
import { controlCommand, controlContext, type ControlOptions } from '../control.js'
import { keyValues, table, time } from '../output.js'

interface Item {
  id: string
  upgrade_id: string | null
  created_at: number
  protocol_version: string
  inflight_count: number
  pending_ibc_count: number
  contract_settlements_count: number
  bytes: number
  compressed: boolean
  sha256: string
}

const size = (bytes: number): string => bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`

export function registerCheckpointCommands (program: Command): void {
  const checkpoint = program.command('checkpoint').description('system checkpoints taken before upgrades')

  controlCommand(checkpoint.command('list'))
    .description('every checkpoint, newest first')
    .action(async (opts: ControlOptions) => {
      const { client, out } = await controlContext(opts)
      const r = await client.get<{ checkpoints: Item[] }>('/admin/checkpoints')
      if (out.json) return out.write(JSON.stringify(r))
      if (r.checkpoints.length === 0) return out.write('no checkpoints')
      out.write(table(['id', 'created', 'upgrade', 'version', 'inflight', 'ibc', 'settlements', 'size'], r.checkpoints.map((c) => [
        c.id, time(Math.floor(c.created_at)), c.upgrade_id ?? '-', c.protocol_version, String(c.inflight_count),
        String(c.pending_ibc_count), String(c.contract_settlements_count), size(c.bytes) + (c.compressed ? ' gz' : '')
      ])))
    })

  controlCommand(checkpoint.command('show').argument('<id>', 'the checkpoint id'))
    .description('what a checkpoint holds')
    .action(async (id: string, opts: ControlOptions) => {
      const { client, out } = await controlContext(opts)
      const c = await client.get<Item & { active: string, schema_version: number, contract: { code_id: number, version: string } | null, inflight: unknown[], pending_ibc_packets: unknown[] }>(`/admin/checkpoints/${encodeURIComponent(id)}`)
      if (out.json) return out.write(JSON.stringify(c))
      out.write(keyValues([
        ['id', c.id], ['created at', time(Math.floor(c.created_at))], ['upgrade', c.upgrade_id ?? '-'],
        ['protocol version', c.protocol_version], ['schema version', String(c.schema_version)], ['active', c.active],
        ['contract', c.contract === null ? '-' : `code ${c.contract.code_id}, version ${c.contract.version}`],
        ['inflight intents', String(c.inflight_count)], ['pending IBC packets', String(c.pending_ibc_count)],
        ['contract settlements', String(c.contract_settlements_count)], ['size', size(c.bytes) + (c.compressed ? ' (gzip)' : '')], ['sha256', c.sha256]
      ]))
    })

  controlCommand(checkpoint.command('validate').argument('<id>', 'the checkpoint id'))
    .description('re-check its SHA-256 and content (exit 1 when corrupt)')
    .action(async (id: string, opts: ControlOptions) => {
      const { client, out } = await controlContext(opts)
      const r = await client.post<{ id: string, valid: boolean, problems: string[] }>(`/admin/checkpoints/${encodeURIComponent(id)}/validate`)
      out.write(out.json ? JSON.stringify(r) : r.valid ? `checkpoint ${r.id} is valid` : `checkpoint ${r.id} is CORRUPT:\n  ${r.problems.join('\n  ')}`)
      if (!r.valid) throw new CheckpointCorruptError(`checkpoint ${r.id} is corrupt`)
    })
}
