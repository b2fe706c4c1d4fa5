/**
 * Runs one upgrade through the upgrade phases of docs/design.md, from wherever its record says it is: pre-checks,
 * drain, wait for drain, checkpoint, migration steps, post-checks, resume; or rollback (steps reverted in reverse,
 * checkpoint restored) and resume on the old version. Every state change is journaled before it takes effect.
 * A step found `applying` after a restart is never run again: the upgrade rolls back instead (reverts are
 * written to be safe whether the step ran or not).
 */
import type { Logger } from '../log.js'
import type { Config } from '../config/schema.js'
import type { ControlStore, DocumentStore, InflightRecord, IntentStore } from '../store/types.js'
import { channels, type UpgradeMessage } from '../observability/channels.js'
import type { CheckpointService } from './checkpoint/service.js'
import type { MigrationRunner } from './db/migration-runner.js'
import { LeadershipLostError, UpgradeAbortedError, UpgradePhaseError } from './errors.js'
import { buildCheck, failures, runChecks, type HealthSources } from './health.js'
import type { UpgradeJournal } from './journal.js'
import type { LeaderLease } from './leader.js'
import type { ContractPort, IbcPort, StoredIntentMigrator } from './ports.js'
import type { DrainProgress, PhaseRecord, UpgradeRun, UpgradeState } from './run.js'
import { checkContracts, contractSteps, SETTLEMENT } from './steps/contracts.js'
import { schemaStep } from './steps/schema-step.js'
import { ResumeEstimator } from './estimate.js'
import { openWindow, verifyPhase } from './verify.js'
import type { UpgradeStep } from './steps/step.js'
import { storedIntentsStep } from './steps/stored-intents-step.js'
import { swapStep } from './steps/swap-step.js'

/** What a run reads and writes in the store, its steps' and the verifying phase's included. */
export type ExecutorStore = Pick<IntentStore, 'inflight' | 'inflightCount' | 'updateInflight' | 'complete' | 'recovering'>
  & Pick<ControlStore, 'setActive'> & Pick<DocumentStore, 'hashGetAll' | 'hashDelete'>

export interface ExecutorDeps {
  config: Pick<Config, 'upgrade' | 'rollback' | 'health_checks' | 'analysis'>
  store: ExecutorStore
  journal: UpgradeJournal
  leader: LeaderLease
  checkpoints: CheckpointService
  migrations: MigrationRunner
  ibc: IbcPort | null
  contract: ContractPort | null
  /** The `[chain.contracts]` an upgrade may migrate besides the settlement contract, by name. */
  contracts?: Readonly<Record<string, ContractPort>>
  storedIntents: StoredIntentMigrator | null
  health: Omit<HealthSources, 'activeColor'>
  logger: Logger
  /** How often the drain is polled. */
  pollMs: number
  /** Whether an operator asked to abort this run (any instance). */
  abortRequested: (id: string) => Promise<boolean>
  /** Called once the run ended (completed, rolled back, failed). */
  onEnded: (run: UpgradeRun) => Promise<void>
}

// Here too for ./coordinator.ts; it lives in ./run.ts, which ./estimate.ts reads it from without importing this file.
export type { DrainProgress } from './run.js'

/** How often the drain re-publishes its resume estimate (./estimate.ts) while it waits. */
const ESTIMATE_REFRESH_MS = 1_000

export class UpgradeExecutor {
  progress: DrainProgress | null = null
  private estimator: ResumeEstimator | null = null
  /** The run as last journaled: what status reports (never a state that is not yet durable). */
  saved: UpgradeRun
  private readonly log: Logger

  constructor (private readonly deps: ExecutorDeps, readonly run: UpgradeRun, private readonly signal: AbortSignal) {
    this.log = deps.logger.child({ component: 'coordinator', upgrade_id: run.id })
    this.saved = structuredClone(run)
  }

  /** Drives the run to an end, or until leadership is lost / the coordinator closes (then another carries on). */
  async execute (): Promise<void> {
    const run = this.run
    try {
      if (run.state === 'rolling_back') {
        await this.rollback(run.error ?? 'rollback interrupted; resumed')
        return
      }
      if (run.state === 'pre_checks') {
        try {
          await this.preChecks()
        } catch (err) {
          if (this.stopped(err)) throw err
          // Nothing was changed yet: the upgrade ends where it started.
          run.error = messageOf(err)
          await this.finish('rolled_back')
          return
        }
        await this.enter('draining')
        this.publish({ event: 'started', id: run.id, targetVersion: run.request.target_version, atMs: run.drain.started_at_ms ?? Date.now() })
      }
      if (run.state === 'draining') { await this.drain(); await this.enter('checkpointing') }
      if (run.state === 'checkpointing') { await this.checkpoint(); await this.enter('migrating') }
      if (run.state === 'migrating') { await this.migrate(); await this.enter('post_checks') }
      if (run.state === 'post_checks') {
        const failed = await this.postChecks()
        if (failed !== null) {
          if (!this.deps.config.rollback.auto_rollback) {
            run.error = `${failed}; auto_rollback is off: the system stays drained until an operator aborts (rolls back) the upgrade`
            await this.finish('failed', 'failed')
            return
          }
          throw new UpgradePhaseError('post_checks', failed)
        }
        await this.enter('resuming')
      }
      if (run.state === 'resuming' && this.deps.config.analysis.watch_secs > 0) {
        // Admission resumes on the new version while its answers are counted (./verify.ts); a breach rolls back.
        openWindow(run, this.deps.config.analysis, Date.now())
        await this.enter('verifying')
      }
      if (run.state === 'verifying') {
        const verdict = await verifyPhase(run, {
          store: this.deps.store,
          analysis: this.deps.config.analysis,
          checkAbort: async () => { await this.checkAbort() },
          wait: async (ms) => { await this.wait(ms) },
          log: this.log
        })
        const open = run.phases[run.phases.length - 1]
        if (open !== undefined) open.detail = verdict.detail
        await this.resume(verdict.outcome)
      } else if (run.state === 'resuming') await this.resume()
    } catch (err) {
      if (this.stopped(err)) {
        this.log.warn({ state: run.state, reason: messageOf(err) }, 'coordinator stopped acting on the upgrade; its record stays for the next leader')
        return
      }
      try {
        await this.rollback(messageOf(err), err instanceof UpgradeAbortedError ? 'aborted' : 'failed')
      } catch (rollbackErr) {
        if (!this.stopped(rollbackErr)) throw rollbackErr
        this.log.warn({ state: run.state, reason: messageOf(rollbackErr) }, 'coordinator stopped acting during the rollback; its record stays for the next leader')
      }
    }
  }

  private stopped (err: unknown): boolean {
    return err instanceof LeadershipLostError || this.signal.aborted
  }

  // ---- phases ----

  private async preChecks (): Promise<void> {
    const { request } = this.run
    const results = await this.checks(this.deps.config.health_checks.pre_checks, this.run.from_active)
    const bad = failures(results)
    if (bad.length > 0) throw new UpgradePhaseError('pre_checks', `health checks failed: ${bad.map((r) => `${r.name} (${r.reason ?? r.status})`).join(', ')}`)
    if (this.run.to_active !== this.run.from_active) {
      const target = await this.checks(['upstream:' + this.run.to_active], this.run.to_active)
      const down = failures(target)
      if (down.length > 0) throw new UpgradePhaseError('pre_checks', `swap target ${this.run.to_active} is not healthy: ${down[0]?.reason ?? ''}`)
    }
    await checkContracts(request, this.contractPort, this.log)
    await this.checkAbort()
  }

  private async drain (): Promise<void> {
    const run = this.run
    const { upgrade } = this.deps.config
    const timeoutSecs = run.request.drain_timeout_secs ?? upgrade.drain_timeout_secs
    if (run.drain.started_at_ms === null) {
      const now = Date.now()
      run.drain.started_at_ms = now
      run.drain.deadline_ms = now + timeoutSecs * 1000
      run.drain.initial_inflight = await this.deps.store.inflightCount()
      await this.save()
    }
    let lastEstimate = Date.now()
    for (;;) {
      await this.checkAbort()
      const [inflight, pending, recovering] = await Promise.all([
        this.deps.store.inflightCount(),
        this.deps.ibc === null ? Promise.resolve(0) : this.deps.ibc.pending().then((p) => p.length),
        this.deps.store.recovering()
      ])
      this.progress = { inflight, pending_ibc: pending, at_ms: Date.now() }
      // Zero only counts when it is known: a watcher that cannot read the chain, or a store registering its
      // records again after Redis lost them, is not "nothing pending" (docs/specification.md section 5).
      const known = !recovering && (this.deps.ibc?.knownPendingCount?.() ?? 0) !== null
      if (inflight === 0 && pending === 0 && known) break
      if (Date.now() >= (run.drain.deadline_ms as number)) {
        const force = run.request.force_after_timeout ?? upgrade.force_after_timeout
        const what = `${inflight} inflight intent(s) and ${pending} pending IBC packet(s) left after drain_timeout_secs=${timeoutSecs}`
        if (!force) throw new UpgradePhaseError('draining', `drain timed out: ${what}`)
        await this.handleStuck(what)
        break
      }
      if (Date.now() - lastEstimate >= ESTIMATE_REFRESH_MS) {
        lastEstimate = Date.now()
        await this.save()
      }
      await this.wait(this.deps.pollMs)
    }
    this.publish({ event: 'drained', id: run.id, durationSecs: (Date.now() - (run.drain.started_at_ms as number)) / 1000 })
  }

  /** force_after_timeout: what is left is preserved, has its timeouts extended, or is refunded and cancelled. */
  private async handleStuck (what: string): Promise<void> {
    const run = this.run
    const action = run.request.stuck_settlement_action ?? 'extend_timeout'
    const extendSecs = this.deps.config.upgrade.extend_timeout_secs
    run.drain.forced = true
    run.drain.stuck_action = action
    this.log.warn({ action, extend_timeout_secs: extendSecs }, `drain timed out with force_after_timeout: ${what}`)
    if (action === 'extend_timeout') {
      let extended = 0
      if (this.deps.contract !== null) {
        const settlements = await this.deps.contract.inflightSettlements()
        const ids = settlements.map((s) => String(s.id)).filter((id) => id !== 'undefined')
        extended += await this.deps.contract.extendTimeouts(ids, extendSecs)
      }
      for (const record of await this.deps.store.inflight()) {
        if (await this.deps.store.updateInflight({ ...record, deadline: record.deadline + extendSecs })) extended++
      }
      run.drain.extended = extended
    } else if (action === 'refund_and_cancel') {
      // On chain the contract refunds them when it migrates (MigrateMsg.stuck_settlement_action); here they end.
      for (const record of await this.deps.store.inflight()) {
        if (record.id !== null) await this.deps.store.complete(record.id, 'cancelled', 'admin')
      }
    }
    await this.save()
  }

  private async checkpoint (): Promise<void> {
    const run = this.run
    const { checkpoint, meta } = await this.deps.checkpoints.create(run.id)
    this.deps.journal.recordCheckpointSettlements(meta.id, meta.created_at_ms, checkpoint.contract?.inflight_settlements ?? [])
    run.checkpoint_id = meta.id
    this.log.info({ checkpoint_id: meta.id, inflight: meta.inflight_count, pending_ibc: meta.pending_ibc_count, bytes: meta.bytes }, 'checkpoint written')
    await this.save()
  }

  private async migrate (): Promise<void> {
    const run = this.run
    for (const step of this.plan()) {
      const record = run.steps.find((s) => s.name === step.name)
      if (record?.status === 'applied') continue
      if (record !== undefined) {
        throw new UpgradePhaseError('migrating', `step ${step.name} was interrupted (${record.status}) when the coordinator stopped; it is not run again, the upgrade rolls back`)
      }
      await this.checkAbort()
      const detail = await step.prepare()
      const entry = { name: step.name, status: 'applying' as const, updated_at_ms: Date.now(), detail }
      run.steps.push(entry)
      await this.save()
      let more
      try {
        more = await step.apply(detail, this.signal)
      } catch (err) {
        throw new UpgradePhaseError('migrating', `step ${step.name} failed: ${messageOf(err)}`, { cause: err })
      }
      Object.assign(entry, { status: 'applied', updated_at_ms: Date.now(), detail: { ...detail, ...more } })
      if (step.name === 'stored_intents') run.settlements_migrated = Number(more?.migrated ?? 0)
      await this.save()
      this.log.info({ step: step.name, detail: entry.detail }, 'step applied')
    }
  }

  /** The failed checks, described; null when all passed. */
  private async postChecks (): Promise<string | null> {
    await this.checkAbort()
    const results = await this.checks(this.deps.config.health_checks.post_checks, this.run.to_active)
    const bad = failures(results)
    await this.checkAbort()
    return bad.length === 0 ? null : `post-checks failed: ${bad.map((r) => `${r.name} (${r.reason ?? r.status})`).join(', ')}`
  }

  private async resume (outcome: PhaseRecord['outcome'] = 'ok'): Promise<void> {
    await this.deps.journal.setMeta({ protocol_version: this.run.request.target_version, last_completed_at_ms: Date.now() })
    await this.finish('completed', outcome)
  }

  // ---- rollback ----

  private async rollback (reason: string, outcome: PhaseRecord['outcome'] = 'failed'): Promise<void> {
    const run = this.run
    const { rollback } = this.deps.config
    if (run.state !== 'rolling_back') {
      run.error = reason
      await this.enter('rolling_back', outcome, reason)
    }
    this.log.warn({ reason }, 'rolling back the upgrade')
    for (;;) {
      try {
        for (const record of [...run.steps].reverse()) {
          if (record.status === 'reverted') continue
          const step = this.plan().find((s) => s.name === record.name)
          if (step === undefined) throw new UpgradePhaseError('rolling_back', `no step named ${record.name} to revert`)
          record.status = 'reverting'
          record.updated_at_ms = Date.now()
          await this.save()
          await step.revert(record.detail ?? {}, this.signal)
          record.status = 'reverted'
          record.updated_at_ms = Date.now()
          await this.save()
        }
        // After a verifying phase the new version has served (and admitted) live traffic: those intents keep their
        // owner, so the checkpoint's inflight records (older, mostly ended since) are not put back.
        if (run.checkpoint_id !== null) await this.deps.checkpoints.restore(run.checkpoint_id, { inflight: !run.phases.some((p) => p.phase === 'verifying') })
        await this.finish('rolled_back')
        return
      } catch (err) {
        if (this.stopped(err)) throw err
        run.rollback_attempts++
        run.error = `${reason}; rollback attempt ${run.rollback_attempts} failed: ${messageOf(err)}`
        this.log.error({ err, attempt: run.rollback_attempts }, 'rollback attempt failed')
        if (run.rollback_attempts >= rollback.max_rollback_attempts) {
          run.error = `ROLLBACK COULD NOT FINISH after ${run.rollback_attempts} attempt(s); the system stays drained (no intents admitted) until an operator intervenes. Cause: ${reason}. Last rollback error: ${messageOf(err)}`
          this.log.fatal({ upgrade_id: run.id }, run.error)
          await this.finish('failed', 'failed')
          return
        }
        await this.save()
        await this.wait(rollback.rollback_retry_delay_secs * 1000)
      }
    }
  }

  // ---- plumbing ----

  /** The steps of this run, in order (rebuilt identically after a restart). */
  private plan (): UpgradeStep[] {
    const run = this.run
    const d = this.deps
    const steps: UpgradeStep[] = [schemaStep(d.migrations)]
    if (d.storedIntents !== null) {
      steps.push(storedIntentsStep(d.store, d.storedIntents, run.request.target_version, () => this.checkpointRecords(),
        (key, from, to) => { d.journal.recordStoredIntentMigration(run.id, key, from, to) }))
    }
    // extend_timeout was already done at the drain timeout (on chain and in the store); the MigrateMsg must not
    // extend the same settlements a second time.
    const action = run.drain.stuck_action === 'extend_timeout' ? 'preserve' : run.drain.stuck_action ?? 'preserve'
    steps.push(...contractSteps(run.request, this.contractPort, action, d.config.upgrade.extend_timeout_secs, this.log))
    if (run.to_active !== run.from_active) steps.push(swapStep(d.store, run.from_active, run.to_active))
    return steps
  }

  private readonly contractPort = (name: string): ContractPort | null =>
    name === SETTLEMENT ? this.deps.contract : this.deps.contracts?.[name] ?? null

  private checkpointRecords (): InflightRecord[] {
    return this.run.checkpoint_id === null ? [] : this.deps.checkpoints.files.read(this.run.checkpoint_id).inflight
  }

  private async checks (names: readonly string[], active: UpgradeRun['from_active']): Promise<ReturnType<typeof failures>> {
    const sources: HealthSources = { ...this.deps.health, activeColor: async () => active }
    const checks = names.map((name) => {
      if (!name.startsWith('upstream:')) return buildCheck(name, sources)
      const color = name.slice('upstream:'.length) as UpgradeRun['to_active']
      return { name, check: async (signal: AbortSignal) => await sources.upstreams.probe(color, signal) }
    })
    return await runChecks(checks, this.deps.config.health_checks.check_timeout_secs * 1000)
  }

  /** Closes the open phase and opens `state`'s, journaled before anything of the new phase happens. */
  private async enter (state: UpgradeState, outcome: PhaseRecord['outcome'] = 'ok', detail?: string): Promise<void> {
    const run = this.run
    const now = Date.now()
    const open = run.phases[run.phases.length - 1]
    if (open !== undefined && open.ended_at_ms === null) {
      open.ended_at_ms = now
      open.outcome = outcome
      if (detail !== undefined) open.detail = detail
    }
    run.state = state
    run.phases.push({ phase: state, started_at_ms: now, ended_at_ms: null, outcome: null })
    await this.save()
    this.log.info({ state }, 'upgrade state')
  }

  private async finish (state: 'completed' | 'rolled_back' | 'failed', outcome: PhaseRecord['outcome'] = 'ok'): Promise<void> {
    const run = this.run
    const now = Date.now()
    const open = run.phases[run.phases.length - 1]
    if (open !== undefined && open.ended_at_ms === null) {
      open.ended_at_ms = now
      open.outcome = outcome
      if (outcome !== 'ok' && run.error !== null) open.detail = run.error
    }
    run.state = state
    run.ended_at_ms = now
    run.phases.push({ phase: state, started_at_ms: now, ended_at_ms: now, outcome: state === 'failed' ? 'failed' : 'ok', ...(run.error !== null && state !== 'completed' ? { detail: run.error } : {}) })
    await this.save()
    this.publish({ event: 'ended', id: run.id, outcome: state, durationSecs: (now - run.started_at_ms) / 1000 })
    await this.deps.onEnded(run)
  }

  private async save (): Promise<void> {
    if (this.signal.aborted) throw new LeadershipLostError('the coordinator stopped acting')
    this.run.fencing_token = await this.deps.leader.confirm()
    this.run.resume_estimate_ms = this.estimate()
    await this.deps.journal.save(this.run)
    this.saved = structuredClone(this.run)
  }

  private estimate (): number {
    this.estimator ??= new ResumeEstimator(this.deps.config, (limit) => this.deps.journal.history(limit))
    return this.estimator.estimate(this.run, this.progress, Date.now())
  }

  private async checkAbort (): Promise<void> {
    if (await this.deps.abortRequested(this.run.id)) throw new UpgradeAbortedError(`aborted by an operator during ${this.run.state}`)
  }

  /** Sleeps, unless leadership is lost or the coordinator closes first. */
  private async wait (ms: number): Promise<void> {
    if (this.signal.aborted) throw new LeadershipLostError('the coordinator stopped acting')
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { clearTimeout(timer); reject(new LeadershipLostError('the coordinator stopped acting')) }
      const timer = setTimeout(() => { this.signal.removeEventListener('abort', onAbort); resolve() }, ms)
      this.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  private publish (message: UpgradeMessage): void {
    if (channels.upgrade.hasSubscribers) channels.upgrade.publish(message)
  }
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
