/**
 * `intent-gate db status|migrate|rollback --to N`: the coordinator's SQLite schema, worked on directly in the
 * database file `coordinator.database` of `--config` (no gateway needed). A `requires_drain` migration is applied
 * only when the gateway's admin API says the system is drained, or with `--assume-drained` (the gateway is down).
 */
import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { DEFAULT_CONFIG_FILE } from '../../config/default-file.js'
import { localUrlOf } from '../../config/listen.js'
import type { Config } from '../../config/schema.js'
import type { DrainStatus } from '../../drain/status.js'
import type { MigrationRunner, DrainProbe } from '../../coordinator/db/migration-runner.js'
import { UsageError } from '../../errors.js'
import { createAdminClient } from '../../admin/client.js'
import { consoleOutput, table, time } from '../output.js'

interface DbOptions { config?: string, json?: boolean, migrations?: string }

async function withRunner<T> (opts: DbOptions, fn: (runner: MigrationRunner, config: Config) => Promise<T>): Promise<T> {
  // SQLite and the config loader are loaded when a db command runs: the other commands do not pay for them.
  const [{ loadConfig }, { openDatabase }, { MigrationRunner }, { defaultMigrationsDir, readMigrations }] = await Promise.all([
    import('../../config/load.js'), import('../../coordinator/db/open.js'), import('../../coordinator/db/migration-runner.js'),
    import('../../coordinator/db/migration-files.js')
  ])
  const file = opts.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined)
  const config = loadConfig({ file })
  const db = openDatabase(config.coordinator.database)
  const runner = new MigrationRunner(db, readMigrations(opts.migrations ?? defaultMigrationsDir()))
  return await fn(runner, config).finally(() => db.close())
}

function dbCommand (cmd: Command): Command {
  return cmd
    .option('--config <file>', `the TOML configuration (default: ${DEFAULT_CONFIG_FILE} when it exists)`)
    .option('--migrations <dir>', 'the migrations directory (default: the package\'s migrations/)')
    .option('--json', 'machine-readable output')
}

/** Asks the gateway's admin API whether the system is drained (draining/upgrading with nothing inflight). */
function adminDrainProbe (adminUrl: string): DrainProbe {
  return async () => {
    let s: DrainStatus
    try {
      s = await createAdminClient(adminUrl).get<DrainStatus>('/admin/drain/status')
    } catch (err) {
      return { drained: false, why: `cannot ask the gateway (${(err as Error).message}); if it is stopped, pass --assume-drained` }
    }
    if (s.mode === 'drained' || (s.mode === 'upgrading' && s.inflight_settlements === 0)) return { drained: true, why: '' }
    return { drained: false, why: `drain mode is ${s.mode} with ${s.inflight_settlements} inflight intent(s) and ${s.pending_ibc_packets} pending IBC packet(s)` }
  }
}

export function registerDbCommands (program: Command): void {
  const db = program.command('db').description('the coordinator\'s SQLite schema migrations (migrations/)')

  dbCommand(db.command('status'))
    .description('the schema version, applied migrations (with changed files flagged) and pending ones')
    .action(async (opts: DbOptions) => {
      await withRunner(opts, async (runner, config) => {
        const s = runner.status()
        const out = consoleOutput(opts.json === true)
        if (out.json) return out.write(JSON.stringify({ database: config.coordinator.database, ...s }))
        out.write(`database ${config.coordinator.database}: schema version ${s.current}`)
        const rows = [
          ...s.applied.map((a) => [String(a.version), a.file ?? `${a.name} (file missing)`, `applied ${time(Math.floor(a.applied_at_ms / 1000))}`, a.changed ? 'CHANGED SINCE APPLIED' : a.checksum.slice(0, 12)]),
          ...s.pending.map((p) => [String(p.version), p.file, 'pending', `${p.requires_drain ? 'requires drain' : ''}${p.reversible ? '' : ' no down'}`.trim()])
        ]
        if (rows.length > 0) out.write(table(['#', 'file', 'state', 'note'], rows))
      })
    })

  dbCommand(db.command('migrate'))
    .description('apply every pending migration, each in its own transaction')
    .option('--admin <url>', 'the admin API asked whether the system is drained (default: admin.listen)')
    .option('--assume-drained', 'apply requires_drain migrations without asking (the gateway is stopped)')
    .action(async (opts: DbOptions & { admin?: string, assumeDrained?: boolean }) => {
      await withRunner(opts, async (runner, config) => {
        const adminUrl = opts.admin ?? localUrlOf(config.admin.listen)
        const probe: DrainProbe = opts.assumeDrained === true ? async () => ({ drained: true, why: '' }) : adminDrainProbe(adminUrl)
        const applied = await runner.migrate({ drain: { mode: 'check', probe } })
        const out = consoleOutput(opts.json === true)
        out.write(out.json
          ? JSON.stringify({ applied: applied.map((f) => f.file), current: runner.current() })
          : applied.length === 0 ? `nothing to apply; schema version ${runner.current()}` : `applied ${applied.map((f) => f.file).join(', ')}; schema version ${runner.current()}`)
      })
    })

  dbCommand(db.command('rollback'))
    .description('roll back to migration N with the files\' down sections (refused when one has none)')
    .requiredOption('--to <n>', 'the migration number to end at (0: nothing applied)')
    .action(async (opts: DbOptions & { to: string }) => {
      if (!/^[0-9]+$/.test(opts.to)) throw new UsageError(`--to must be a migration number (got '${opts.to}')`)
      await withRunner(opts, async (runner) => {
        const reverted = runner.rollback(Number(opts.to))
        const out = consoleOutput(opts.json === true)
        out.write(out.json
          ? JSON.stringify({ reverted: reverted.map((f) => f.file), current: runner.current() })
          : reverted.length === 0 ? `nothing to roll back; schema version ${runner.current()}` : `rolled back ${reverted.map((f) => f.file).join(', ')}; schema version ${runner.current()}`)
      })
    })
}
