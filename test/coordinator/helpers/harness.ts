/**
 * Builds a coordinator for tests over a given store: its SQLite file and checkpoints in a temp dir, real HTTP
 * upstreams (blue, green) whose health can be switched, and in-process stand-ins for the chain's contract and
 * the IBC watcher (the unit tests' only fakes; the e2e tests use the local chain).
 */
import http from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { stringify as stringifyToml } from 'smol-toml'
import os from 'node:os'
import path from 'node:path'
import diagnostics from 'node:diagnostics_channel'
import { pino } from 'pino'
import type { Config } from '../../../src/config/schema.js'
import { loadConfig } from '../../../src/config/load.js'
import { CheckpointFiles } from '../../../src/coordinator/checkpoint/files.js'
import { CheckpointService } from '../../../src/coordinator/checkpoint/service.js'
import { UpgradeCoordinator } from '../../../src/coordinator/coordinator.js'
import { defaultMigrationsDir, readMigrations } from '../../../src/coordinator/db/migration-files.js'
import { MigrationRunner } from '../../../src/coordinator/db/migration-runner.js'
import { openDatabase, type SqliteDb } from '../../../src/coordinator/db/open.js'
import { upstreamPort } from '../../../src/coordinator/adapters.js'
import { createUpstreams } from '../../../src/proxy/upstreams.js'
import type { ContractInfo, ContractPort, HealthStatus, IbcPort, PendingPacket } from '../../../src/coordinator/ports.js'
import type { UpgradeRun, UpgradeState } from '../../../src/coordinator/run.js'
import type { UpgradeMessage } from '../../../src/observability/channels.js'
import type { InflightRecord, Store } from '../../../src/store/types.js'

export interface Teardown { teardown (fn: () => unknown): void }

/** An upstream whose /healthz answers 200 or 503 as the test says; `hold` makes it hang until released. */
export interface HealthServer {
  url: string
  healthy: boolean
  hold: Promise<void> | null
  hits: number
  /** When set, healthy for this many more checks, then unhealthy (e.g. 1: passes the pre-check, fails the post-check). */
  failAfter: number | null
  /** When set, checks after the first `hits` wait for `until` before answering. */
  holdAfter: { hits: number, until: Promise<void> } | null
}

export async function healthServer (t: Teardown): Promise<HealthServer> {
  const state: HealthServer = { url: '', healthy: true, hold: null, hits: 0, failAfter: null, holdAfter: null }
  const server = http.createServer((req, res) => {
    state.hits++
    if (state.failAfter !== null) {
      if (state.failAfter <= 0) state.healthy = false
      state.failAfter--
    }
    const answer = (): void => { res.statusCode = state.healthy ? 200 : 503; res.end(state.healthy ? 'ok' : 'down') }
    const hold = state.hold ?? (state.holdAfter !== null && state.hits > state.holdAfter.hits ? state.holdAfter.until : null)
    if (hold !== null) hold.then(answer, answer)
    else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) })
  const address = server.address() as { port: number }
  state.url = `http://127.0.0.1:${address.port}`
  return state
}

/** A gate a fake awaits: the test opens it. */
export function gate (): { wait: Promise<void>, open: () => void, reached: Promise<void>, arrive: () => void } {
  let open!: () => void
  let arrive!: () => void
  const wait = new Promise<void>((resolve) => { open = resolve })
  const reached = new Promise<void>((resolve) => { arrive = resolve })
  return { wait, open, reached, arrive }
}

export const CHECKSUM_1 = '1'.repeat(64)
export const CHECKSUM_2 = '2'.repeat(64)

/** The settlement contract as the coordinator sees it: code ids 1 and 2, the signer as admin, a few settlements. */
export class FakeContract implements ContractPort {
  codeId = 1
  version = '1.0.0'
  admin: string | null = 'wasm1signer'
  settlements: Array<Record<string, unknown>> = [{ id: 's-1', phase: 'escrowed', timeout: 1_767_225_600 }]
  codes = new Map([[1, CHECKSUM_1], [2, CHECKSUM_2]])
  migrations: Array<{ codeId: number, msg: Record<string, unknown> }> = []
  extended: Array<{ ids: string[], secs: number }> = []
  /** Throws from migrate while set: `to-new` refuses the upgrade, `to-old` refuses the rollback, `always` both. */
  refuse: 'to-new' | 'to-old' | 'always' | null = null
  /** Awaited inside migrate to the new code (abort / crash mid-step). */
  migrateGate: ReturnType<typeof gate> | null = null
  settlementsGate: ReturnType<typeof gate> | null = null
  /** Awaited inside a migration back to an older code (a rollback's revert). */
  revertGate: ReturnType<typeof gate> | null = null

  async info (): Promise<ContractInfo> {
    return { address: 'wasm1contract', code_id: this.codeId, contract: 'intent-settlement', version: this.version, admin: this.admin }
  }

  async inflightSettlements (): Promise<Array<Record<string, unknown>>> {
    if (this.settlementsGate !== null) { this.settlementsGate.arrive(); await this.settlementsGate.wait }
    return structuredClone(this.settlements)
  }

  async codeChecksum (codeId: number): Promise<string> {
    const c = this.codes.get(codeId)
    if (c === undefined) throw new Error(`code ${codeId} not found`)
    return c
  }

  async verifyMigration (codeId: number, checksum: string): Promise<void> {
    const actual = await this.codeChecksum(codeId)
    if (actual !== checksum) throw new Error(`code ${codeId} has checksum ${actual}, not ${checksum}`)
    if (this.admin !== 'wasm1signer') throw new Error('the signer is not the contract admin')
  }

  async migrate (codeId: number, checksum: string, msg: Record<string, unknown>): Promise<string> {
    await this.verifyMigration(codeId, checksum)
    const toOld = codeId < this.codeId
    if (this.refuse === 'always' || (this.refuse === 'to-new' && !toOld) || (this.refuse === 'to-old' && toOld)) {
      throw new Error('failed to execute message; message index: 0: migrate refused by the contract: unauthorized')
    }
    if (!toOld && this.migrateGate !== null) { this.migrateGate.arrive(); await this.migrateGate.wait }
    if (toOld && this.revertGate !== null) { this.revertGate.arrive(); await this.revertGate.wait }
    this.codeId = codeId
    this.version = String(msg.new_version)
    this.migrations.push({ codeId, msg })
    return `TX${this.migrations.length}`
  }

  async extendTimeouts (ids: string[], secs: number): Promise<number> {
    this.extended.push({ ids, secs })
    return ids.length
  }

  async health (): Promise<HealthStatus> { return { status: 'healthy' } }
}

export class FakeIbc implements IbcPort {
  packets: PendingPacket[] = []
  healthy = true
  async pending (): Promise<PendingPacket[]> { return structuredClone(this.packets) }
  async health (): Promise<HealthStatus> { return this.healthy ? { status: 'healthy' } : { status: 'unhealthy', reason: 'relayer stalled' } }
}

export interface HarnessOptions {
  store: Store
  /** Shares SQLite and checkpoints with another harness (a second instance, or a restart). */
  dir?: string
  config?: Record<string, Record<string, unknown>>
  contract?: FakeContract | null
  ibc?: FakeIbc | null
  blue?: HealthServer
  green?: HealthServer
  instanceId?: string
  start?: boolean
  /** Versions the config may name (default 1.0 and 2.0). */
  knownVersions?: readonly string[]
}

export interface Harness {
  coordinator: UpgradeCoordinator
  store: Store
  db: SqliteDb
  dir: string
  config: Config
  files: CheckpointFiles
  runner: MigrationRunner
  contract: FakeContract | null
  ibc: FakeIbc | null
  blue: HealthServer
  green: HealthServer
  events: UpgradeMessage[]
  /** Resolves once the latest run is in one of `states` (polls the coordinator's status). */
  until: (states: UpgradeState | UpgradeState[], timeoutMs?: number) => Promise<UpgradeRun>
}

export async function harness (t: Teardown, o: HarnessOptions): Promise<Harness> {
  const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'ig-coord-'))
  if (o.dir === undefined) t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const blue = o.blue ?? await healthServer(t)
  const green = o.green ?? await healthServer(t)
  const sections: Record<string, Record<string, unknown>> = {
    upstreams: {
      blue: { url: blue.url, versions: ['1.0'], health_path: '/healthz' },
      green: { url: green.url, versions: ['2.0'], health_path: '/healthz' }
    },
    coordinator: { database: path.join(dir, `state-${o.instanceId ?? 'test-instance'}.sqlite`), lease_ttl_ms: 600 },
    checkpoint: { checkpoint_dir: path.join(dir, 'checkpoints') },
    upgrade: { min_upgrade_interval_secs: 0, drain_timeout_secs: 30 },
    rollback: { rollback_retry_delay_secs: 0 },
    health_checks: { check_timeout_secs: 1 },
    redis: { poll_interval_ms: 20 }
  }
  for (const [section, values] of Object.entries(o.config ?? {})) sections[section] = { ...sections[section], ...values }
  const file = path.join(dir, `config-${o.instanceId ?? 'test-instance'}.toml`)
  writeFileSync(file, stringifyToml(sections))
  const cfg: Config = loadConfig({ file, env: {}, knownVersions: o.knownVersions ?? ['1.0', '2.0'] })

  const db = openDatabase(cfg.coordinator.database)
  t.teardown(() => db.close())
  const runner = new MigrationRunner(db, readMigrations(defaultMigrationsDir()))
  await runner.migrate({ drain: { mode: 'stop' } })
  const contract = o.contract === undefined ? new FakeContract() : o.contract
  const ibc = o.ibc === undefined ? new FakeIbc() : o.ibc
  const files = new CheckpointFiles({
    dir: cfg.checkpoint.checkpoint_dir,
    compressThresholdBytes: cfg.checkpoint.compress_threshold_mb * 1048576
  })
  // The proxy's upstreams (pools and health checker, its timers not started): the coordinator probes through them.
  const proxyUpstreams = createUpstreams(cfg, pino({ level: 'silent' }), Date.now)
  t.teardown(async () => { await proxyUpstreams.destroy() })
  const upstreams = upstreamPort(proxyUpstreams)
  const checkpoints: CheckpointService = new CheckpointService(files, {
    store: o.store,
    ibc,
    contract,
    initialActive: cfg.proxy.initial_active,
    versions: { accepted: [...cfg.versions.accepted], default: cfg.versions.default, upstreams: { blue: ['1.0'], green: ['2.0'] } },
    protocolVersion: async (): Promise<string> => (await coordinator.journal.meta()).protocol_version ?? '1.0',
    schemaVersion: () => runner.current()
  }, cfg.checkpoint.retention_days * 86_400_000)
  const coordinator: UpgradeCoordinator = new UpgradeCoordinator({
    config: cfg,
    store: o.store,
    db,
    migrations: runner,
    checkpoints,
    ibc,
    contract,
    upstreams,
    api: null,
    storedIntents: null,
    logger: pino({ level: process.env.TEST_LOG === '1' ? 'debug' : 'silent' }),
    instanceId: o.instanceId ?? 'test-instance'
  })
  t.teardown(async () => { await coordinator.close() })
  const events: UpgradeMessage[] = []
  const onEvent = (m: unknown): void => { events.push(m as UpgradeMessage) }
  diagnostics.subscribe('intent-gate:upgrade:event', onEvent)
  t.teardown(() => diagnostics.unsubscribe('intent-gate:upgrade:event', onEvent))
  if (o.start !== false) coordinator.start()

  // Every state this instance journals, so a short-lived one is not missed between two polls.
  const seen: Array<{ id: string, state: UpgradeState, run: UpgradeRun }> = []
  const save = coordinator.journal.save.bind(coordinator.journal)
  coordinator.journal.save = async (run: UpgradeRun) => {
    await save(run)
    seen.push({ id: run.id, state: run.state, run: structuredClone(run) })
  }
  const until = async (states: UpgradeState | UpgradeState[], timeoutMs = 15_000): Promise<UpgradeRun> => {
    const wanted = Array.isArray(states) ? states : [states]
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const run = (await coordinator.status()).run
      if (run !== null && wanted.includes(run.state)) return run
      const hit = run === null ? undefined : seen.find((s) => s.id === run.id && wanted.includes(s.state))
      if (hit !== undefined) return hit.run
      if (Date.now() > deadline) throw new Error(`upgrade did not reach ${wanted.join('|')} within ${timeoutMs} ms (state ${run?.state ?? 'none'}, error ${run?.error ?? '-'})`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  return { coordinator, store: o.store, db, dir, config: cfg, files, runner, contract, ibc, blue, green, events, until }
}

/** Admits and binds an intent the way the proxy does; returns its record. */
export async function admitIntent (store: Store, n: number, upstream: 'blue' | 'green' = 'blue'): Promise<InflightRecord> {
  const record = {
    key: `cosmos1owner:${n}`,
    upstream,
    version: '1.0',
    upstream_version: '1.0',
    created_at_ms: Date.now(),
    deadline: Math.floor(Date.now() / 1000) + 600,
    intent: { version: '1.0', user: 'cosmos1owner', nonce: n, deadline: Math.floor(Date.now() / 1000) + 600 }
  }
  const r = await store.admit({ record, idempotencyTtlSecs: 60 })
  if (r.kind !== 'admitted') throw new Error(`intent ${n} was not admitted: ${r.kind}`)
  await store.bind(record.key, `intent-${n}`, { status: 202, headers: {}, body: '{}' }, 60)
  return (await store.inflightById(`intent-${n}`)) as InflightRecord
}
