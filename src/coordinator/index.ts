/**
 * The coordinator part as the composition root builds it: its SQLite state (schema migrations applied up to the
 * first that needs a drain), checkpoints, and the coordinator over the ports. Its admin routes are the admin's
 * (src/admin/routes/upgrade.ts, checkpoints.ts), registered by src/main.ts over `coordinator` and `files`.
 *
 *   const part = await createCoordinatorPart({ config, store, logger, catalog, contract, ibc, readyzUrl })
 *   admin.register(upgradeRoutes({ coordinator: part.coordinator, drainStatus }))
 *   await part.reassertFlag(); part.start(); ... await part.close()   // once the store answers
 */
import type { Config } from '../config/schema.js'
import type { ContractClient } from '../chain/contract-client.js'
import type { IbcWatcher } from '../ibc/watcher.js'
import type { Upstreams } from '../proxy/upstreams.js'
import type { Logger } from '../log.js'
import type { Catalog } from '../versions/catalog.js'
import { newestVersion } from '../versions/registry.js'
import { contractPort, httpApiPort, ibcPort, storedIntentMigrator, upstreamPort } from './adapters.js'
import { CheckpointFiles } from './checkpoint/files.js'
import { CheckpointService } from './checkpoint/service.js'
import { UpgradeCoordinator, type CoordinatorStore } from './coordinator.js'
import { defaultMigrationsDir, readMigrations } from './db/migration-files.js'
import { MigrationRunner } from './db/migration-runner.js'
import { openDatabase } from './db/open.js'
import { createAuditLog, type AuditLog } from '../audit/audit-log.js'

export interface CoordinatorPartOptions {
  config: Config
  store: CoordinatorStore
  logger: Logger
  catalog: Catalog
  /** The settlement contract client; null when `[chain] enabled = false`. */
  contract: ContractClient | null
  /** `[chain.contracts]` clients by name (an upgrade's `contracts`). */
  contracts?: Readonly<Record<string, ContractClient>>
  ibc: Pick<IbcWatcher, 'pending' | 'state' | 'knownPendingCount'> | null
  /** The proxy's upstreams: their health checker answers the coordinator's probes. */
  upstreams: Pick<Upstreams, 'get' | 'states'>
  /** The gateway's own `/readyz` (the `api_endpoints` check); null to check only the active upstream. */
  readyzUrl: () => string | null
  instanceId?: string
}

export interface CoordinatorPart {
  coordinator: UpgradeCoordinator
  files: CheckpointFiles
  /** The audit log, in the same SQLite file. */
  audit: AuditLog
  /**
   * Reads the store and sets a running upgrade's flag again if the store lost it: run before anything is
   * admitted (the composition root retries it while the store cannot answer).
   */
  reassertFlag: () => Promise<void>
  start: () => void
  close: () => Promise<void>
}

export async function createCoordinatorPart (o: CoordinatorPartOptions): Promise<CoordinatorPart> {
  const { config } = o
  const db = openDatabase(config.coordinator.database)
  try {
    const migrationFiles = readMigrations(defaultMigrationsDir())
    const migrations = new MigrationRunner(db, migrationFiles)
    const applied = await migrations.migrate({ drain: { mode: 'stop' } })
    const pending = migrations.status().pending
    if (applied.length > 0) o.logger.info({ applied: applied.map((f) => f.file) }, 'schema migrations applied')
    if (pending.length > 0) o.logger.warn({ pending: pending.map((p) => p.file) }, 'schema migrations wait for a drained system (an upgrade applies them)')

    const files = new CheckpointFiles({
      dir: config.checkpoint.checkpoint_dir,
      compressThresholdBytes: config.checkpoint.compress_threshold_mb * 1024 * 1024
    })
    const contract = o.contract === null ? null : contractPort(o.contract, config.chain.tx_timeout_blocks)
    const contracts = Object.fromEntries(Object.entries(o.contracts ?? {})
      .map(([name, client]) => [name, contractPort(client, config.chain.tx_timeout_blocks)]))
    const ibc = o.ibc === null ? null : ibcPort(o.ibc)
    const upstreams = upstreamPort(o.upstreams)
    let coordinator: UpgradeCoordinator | null = null
    const checkpoints = new CheckpointService(files, {
      store: o.store,
      ibc,
      contract,
      contracts,
      initialActive: config.proxy.initial_active,
      versions: {
        accepted: [...config.versions.accepted],
        default: config.versions.default,
        upstreams: Object.fromEntries(upstreams.colors().map((c) => [c, [...upstreams.versionsOf(c)]]))
      },
      protocolVersion: async () => (await coordinator?.journal.meta())?.protocol_version ?? newestVersion(upstreams.versionsOf(config.proxy.initial_active)) ?? 'unknown',
      schemaVersion: () => migrations.current()
    }, config.checkpoint.retention_days * 86_400_000)
    coordinator = new UpgradeCoordinator({
      config,
      store: o.store,
      db,
      migrations,
      checkpoints,
      ibc,
      contract,
      contracts,
      upstreams,
      api: {
        ready: async (signal) => {
          const url = o.readyzUrl()
          return url === null ? { status: 'healthy' } : await httpApiPort(url).ready(signal)
        }
      },
      storedIntents: storedIntentMigrator(o.catalog, config.upstreams),
      logger: o.logger,
      ...(o.instanceId !== undefined ? { instanceId: o.instanceId } : {})
    })
    const c = coordinator
    const audit = createAuditLog(db, o.logger, () => {
      // Its migration may wait behind one that needs a drain; an operator's actions cannot wait for that.
      const file = migrationFiles.find((f) => f.name === 'audit_log')
      if (file !== undefined && pending.some((p) => p.version === file.version)) db.exec(file.up)
    })
    return {
      coordinator: c,
      files,
      audit,
      reassertFlag: async () => { await c.reassertFlag() },
      start: () => { c.start() },
      close: async () => {
        await c.close()
        db.close()
      }
    }
  } catch (err) {
    db.close()
    throw err
  }
}
