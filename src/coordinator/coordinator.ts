/**
 * The Upgrade Coordinator: accepts upgrade and abort requests on any instance, and, on the one instance holding
 * the leader lease, drives the unfinished upgrade (new, or left by a coordinator that died) to its end. The
 * upgrade's record lives in SQLite and the store, so a restarted or different instance carries on from there.
 */
import { randomBytes } from 'node:crypto'
import type { Config } from '../config/schema.js'
import type { Logger } from '../log.js'
import type { ControlStore, DocumentStore, IntentStore, LeaseStore, StoreLifecycle } from '../store/types.js'
import { newestVersion } from '../versions/registry.js'
import type { CheckpointService } from './checkpoint/service.js'
import type { MigrationRunner } from './db/migration-runner.js'
import { UpgradeConflictError, UpgradeRequestError } from './errors.js'
import { checkContractFields } from './contract-request.js'
import { UpgradeExecutor, type DrainProgress } from './executor.js'
import type { HealthSources } from './health.js'
import { UpgradeJournal } from './journal.js'
import { LeaderLease } from './leader.js'
import { awaitSchedule, parseSchedule, scheduleRun } from './schedule.js'
import { ResumeEstimator } from './estimate.js'
import type { ContractPort, IbcPort, StoredIntentMigrator, UpstreamPort } from './ports.js'
import { FORWARD_PHASES, isFinal, type UpgradeRun } from './run.js'
import type { UpgradeRequest, UpgradeStartBody } from './upgrade-request.js'
import type { SqliteDb } from './db/open.js'

export const LEADER_LEASE = 'coordinator'
const REQUEST_LEASE = 'coordinator:request'
export const ABORT_DOC = 'coordinator:abort'

/**
 * What the coordinator and its parts (journal, leader lease, executor, checkpoints, health checks) use: every
 * role but the fleet's registry and the store's own lifecycle.
 */
export type CoordinatorStore = IntentStore & ControlStore & LeaseStore & DocumentStore & Pick<StoreLifecycle, 'health'>

export interface CoordinatorOptions {
  config: Pick<Config, 'upgrade' | 'rollback' | 'health_checks' | 'coordinator' | 'proxy' | 'redis' | 'analysis'>
  store: CoordinatorStore
  db: SqliteDb
  migrations: MigrationRunner
  checkpoints: CheckpointService
  ibc: IbcPort | null
  contract: ContractPort | null
  /** `[chain.contracts]` by name (an upgrade's `contracts`). */
  contracts?: Readonly<Record<string, ContractPort>>
  upstreams: UpstreamPort
  api: HealthSources['api']
  storedIntents: StoredIntentMigrator | null
  logger: Logger
  /** This instance's name in the lease (host:pid:random by default). */
  instanceId?: string
}

/** What `status()` reports about the latest upgrade (the admin route adds the live DrainStatus). */
export interface CoordinatorStatus {
  run: UpgradeRun | null
  leader: { instance: string, is_leader: boolean }
  progress_pct: number
  drain_progress: DrainProgress | null
}

export class UpgradeCoordinator {
  readonly journal: UpgradeJournal
  readonly leader: LeaderLease
  private executing: Promise<void> | null = null
  private executor: UpgradeExecutor | null = null
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private readonly closing = new AbortController()
  private readonly log: Logger

  constructor (private readonly o: CoordinatorOptions) {
    this.journal = new UpgradeJournal(o.db, o.store)
    const instance = o.instanceId ?? `${process.pid}-${randomBytes(4).toString('hex')}`
    this.leader = new LeaderLease(o.store, LEADER_LEASE, instance, o.config.coordinator.lease_ttl_ms)
    this.log = o.logger.child({ component: 'coordinator', instance })
  }

  /** Starts contending for leadership; the leader picks up any unfinished upgrade at once. */
  start (): void {
    if (this.timer !== null) return
    const every = Math.max(50, Math.floor(this.o.config.coordinator.lease_ttl_ms / 3))
    const loop = (): void => {
      this.ticking = this.tick().catch((err: unknown) => { this.log.error({ err }, 'coordinator tick failed') })
      this.ticking.then(() => {
        if (!this.closing.signal.aborted) this.timer = setTimeout(loop, every)
      }, () => {})
    }
    loop()
  }

  /** Stops acting (the upgrade's record stays for whoever leads next) and gives up the lease. Idempotent. */
  async close (): Promise<void> {
    this.closing.abort()
    if (this.timer !== null) clearTimeout(this.timer)
    await this.ticking
    await this.executing
    await this.leader.release()
  }

  /**
   * Before the proxy listens: an unfinished (or failed) upgrade in this instance's journal whose `upgrade` flag the
   * store no longer has (the embedded store forgets everything on restart; a Redis that lost its data) gets it
   * back at once, so a restart never admits intents on a half-upgraded system while the coordinator catches up.
   */
  async reassertFlag (): Promise<UpgradeRun | null> {
    const run = await this.journal.unfinished() ?? await this.journal.latest().then((r) => (r?.state === 'failed' ? r : null))
    // Nothing is stopped before the drain, nor while scheduled or verifying (admission runs then).
    if (run === null || run.state === 'pre_checks' || run.state === 'scheduled' || run.state === 'verifying') return null
    const control = await this.o.store.control()
    if (control.upgrade?.id === run.id) return null
    await this.o.store.setUpgrade({ id: run.id, phase: run.state, resume_estimate_ms: Date.now() + 15_000 })
    this.log.warn({ upgrade_id: run.id, state: run.state }, 'the store had lost the running upgrade\'s flag; set again before admitting anything')
    return run
  }

  /** Checks (the schema checked its shape) and records a new upgrade; the leader runs it. 409 while one runs or too soon after the last. */
  async requestUpgrade (body: UpgradeStartBody): Promise<UpgradeRun> {
    const schedule = parseSchedule(body, Date.now())
    const request = this.check(schedule.rest)
    const control = await this.o.store.control()
    const fromActive = control.active ?? this.o.config.proxy.initial_active
    const toActive = request.swap_to ?? fromActive
    const accepts = this.o.upstreams.versionsOf(toActive)
    if (!accepts.includes(request.target_version)) {
      throw new UpgradeRequestError(`target_version: upstream ${toActive} (the active one after this upgrade) does not accept version ${request.target_version} (it accepts ${accepts.join(', ')}); pass swap_to`)
    }
    if (await this.o.store.recovering()) {
      throw new UpgradeConflictError('the store lost its data and the gateways are registering their inflight intents again; the drain cannot be trusted until that is done: try again shortly')
    }
    const mutex = await this.o.store.acquireLease(REQUEST_LEASE, this.leader.holder, 10_000)
    if (mutex === null) throw new UpgradeConflictError('another upgrade request is being recorded right now; try again')
    try {
      const running = await this.journal.unfinished()
      if (running !== null) throw new UpgradeConflictError(`upgrade ${running.id} is running (state ${running.state}); abort it or wait for it to end`)
      const latest = await this.journal.latest()
      if (latest?.state === 'failed') {
        throw new UpgradeConflictError(`upgrade ${latest.id} failed and left the system drained: ${latest.error ?? ''}; run 'upgrade abort' to retry its rollback first`)
      }
      const meta = await this.journal.meta()
      const minMs = this.o.config.upgrade.min_upgrade_interval_secs * 1000
      const now = Date.now()
      if (meta.last_completed_at_ms !== null && now - meta.last_completed_at_ms < minMs) {
        const next = new Date(meta.last_completed_at_ms + minMs).toISOString()
        const last = new Date(meta.last_completed_at_ms).toISOString()
        // `force` is the operator saying "I mean it" (an upgrade back after a bad release): the audit log records it.
        if (request.force !== true) {
          throw new UpgradeConflictError(`the last upgrade completed at ${last}; min_upgrade_interval_secs=${this.o.config.upgrade.min_upgrade_interval_secs} allows the next one from ${next} (force: true, or --force, starts it anyway)`)
        }
        this.log.warn({ last_completed_at: last, min_upgrade_interval_secs: this.o.config.upgrade.min_upgrade_interval_secs }, 'upgrade forced within min_upgrade_interval_secs')
      }
      const fromVersion = meta.protocol_version ?? newestVersion(this.o.upstreams.versionsOf(fromActive)) ?? 'unknown'
      const run: UpgradeRun = {
        id: `upg-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`,
        seq: 0,
        fencing_token: 0,
        request,
        from_version: fromVersion,
        from_active: fromActive,
        to_active: toActive,
        state: 'pre_checks',
        started_at_ms: now,
        ended_at_ms: null,
        phases: [{ phase: 'pre_checks', started_at_ms: now, ended_at_ms: null, outcome: null }],
        steps: [],
        checkpoint_id: null,
        error: null,
        rollback_attempts: 0,
        drain: { started_at_ms: null, deadline_ms: null, initial_inflight: null, forced: false, extended: 0, stuck_action: null },
        resume_estimate_ms: now,
        settlements_migrated: 0
      }
      if (schedule.atMs !== null) {
        scheduleRun(run, schedule.atMs, new ResumeEstimator(this.o.config, (limit) => this.journal.history(limit)))
      }
      await this.o.store.setDoc(ABORT_DOC, null)
      await this.journal.save(run)
      this.log.info({ upgrade_id: run.id, request }, 'upgrade requested')
      this.kick()
      return run
    } finally {
      await this.o.store.releaseLease(REQUEST_LEASE, mutex).catch(() => {})
    }
  }

  /**
   * Asks the leader to stop the running upgrade and roll back what was done. A `failed` upgrade (a rollback that
   * could not finish) is rolled back again. Refused once the upgrade is resuming or over.
   */
  async abort (): Promise<UpgradeRun> {
    const run = await this.journal.unfinished() ?? await this.journal.latest()
    if (run === null || (isFinal(run) && run.state !== 'failed')) throw new UpgradeConflictError('no upgrade is running')
    if (run.state === 'resuming') throw new UpgradeConflictError(`upgrade ${run.id} is already resuming on the new version; it can no longer be aborted`)
    if (run.state === 'rolling_back') return run
    await this.o.store.setDoc(ABORT_DOC, { id: run.id, at_ms: Date.now() })
    this.log.warn({ upgrade_id: run.id, state: run.state }, 'upgrade abort requested')
    this.kick()
    return run
  }

  /** The most recent upgrades from this instance's SQLite history, newest first. */
  history (limit: number): UpgradeRun[] {
    return this.journal.history(limit)
  }

  async status (): Promise<CoordinatorStatus> {
    const executor = this.executor
    const run = executor?.saved ?? await this.journal.unfinished() ?? await this.journal.latest()
    return {
      run,
      leader: { instance: this.leader.holder, is_leader: this.leader.isLeader },
      progress_pct: progressOf(run, executor?.progress ?? null),
      drain_progress: executor?.progress ?? null
    }
  }

  /** Runs a tick soon (after a request, so the leader does not wait for its next lease renewal). */
  private kick (): void {
    if (this.closing.signal.aborted || !this.leader.isLeader || this.executing !== null) return
    setImmediate(() => { this.pickUp().catch((err: unknown) => { this.log.error({ err }, 'coordinator pick-up failed') }) })
  }

  private async tick (): Promise<void> {
    const leading = await this.leader.tick()
    if (leading) await this.pickUp()
  }

  private async pickUp (): Promise<void> {
    if (this.executing !== null || this.closing.signal.aborted || !this.leader.isLeader) return
    let run = await this.journal.unfinished()
    if (run === null) {
      // A failed upgrade an operator asked to abort: roll it back once more.
      const latest = await this.journal.latest()
      if (latest?.state === 'failed' && await this.abortRequested(latest.id)) {
        run = { ...latest, state: 'rolling_back', rollback_attempts: 0, ended_at_ms: null }
        run.phases.push({ phase: 'rolling_back', started_at_ms: Date.now(), ended_at_ms: null, outcome: null })
      }
    }
    if (run === null || this.executing !== null) return
    const leaderSignal = this.leader.signal
    if (leaderSignal === null) return
    const signal = AbortSignal.any([leaderSignal, this.closing.signal])
    if (run.state === 'scheduled') {
      // Waits for its time (or an abort), then picks the run up again in pre_checks.
      this.executing = awaitSchedule(run, {
        journal: this.journal,
        leader: this.leader,
        abortRequested: async (id) => await this.abortRequested(id),
        onCancelled: async () => { await this.o.store.setDoc(ABORT_DOC, null) },
        pollMs: Math.max(100, this.o.config.redis.poll_interval_ms)
      }, signal).catch((err: unknown) => { this.log.error({ err, upgrade_id: run.id }, 'waiting for a scheduled upgrade failed; the next tick tries again') }).finally(() => {
        this.executing = null
        if (run.state !== 'scheduled') this.kick()
      })
      return
    }
    const executor = new UpgradeExecutor({
      config: this.o.config,
      store: this.o.store,
      journal: this.journal,
      leader: this.leader,
      checkpoints: this.o.checkpoints,
      migrations: this.o.migrations,
      ibc: this.o.ibc,
      contract: this.o.contract,
      contracts: this.o.contracts,
      storedIntents: this.o.storedIntents,
      health: { store: this.o.store, ibc: this.o.ibc, contract: this.o.contract, upstreams: this.o.upstreams, api: this.o.api },
      logger: this.o.logger,
      pollMs: this.o.config.redis.poll_interval_ms,
      abortRequested: async (id) => await this.abortRequested(id),
      onEnded: async () => { await this.o.store.setDoc(ABORT_DOC, null) }
    }, run, signal)
    this.executor = executor
    this.log.info({ upgrade_id: run.id, state: run.state, token: this.leader.token }, 'leading the upgrade')
    this.executing = executor.execute().finally(() => {
      this.executing = null
      this.executor = null
    })
  }

  private async abortRequested (id: string): Promise<boolean> {
    const doc = await this.o.store.getDoc<{ id: string }>(ABORT_DOC)
    return doc?.id === id
  }

  /** What the schema cannot know: whether `swap_to` has an upstream here and which contracts this gateway has. */
  private check (body: Omit<UpgradeStartBody, 'at'>): UpgradeRequest {
    // `reason` is the audit log's (the admin route records it); the upgrade itself does not need it.
    const { reason: _reason, force, ...request } = body
    if (request.swap_to !== undefined && !this.o.upstreams.colors().includes(request.swap_to)) {
      throw new UpgradeRequestError(`swap_to: upstream ${request.swap_to} is not configured ([upstreams.${request.swap_to}])`)
    }
    const known = { settlement: this.o.contract !== null, names: Object.keys(this.o.contracts ?? {}) }
    return { ...checkContractFields(request, known), ...(force === true ? { force } : {}) }
  }
}

/** Forward phases done, with the drain counted by how much of the inflight set has settled. */
export function progressOf (run: UpgradeRun | null, drain: DrainProgress | null): number {
  if (run === null) return 0
  if (run.state === 'completed' || run.state === 'rolled_back') return 100
  if (run.state === 'verifying') return 99
  const index = FORWARD_PHASES.indexOf(run.state)
  if (index < 0) return run.state === 'rolling_back' ? 50 : 0
  let within = 0
  if (run.state === 'draining' && drain !== null && run.drain.initial_inflight !== null && run.drain.initial_inflight > 0) {
    within = Math.max(0, 1 - drain.inflight / run.drain.initial_inflight)
  }
  return Math.min(99, Math.floor(((index + within) / FORWARD_PHASES.length) * 100))
}
