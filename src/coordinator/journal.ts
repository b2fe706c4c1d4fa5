/**
 * Writes an upgrade's record before each change takes effect: SQLite first (the local, fsynced history), then the
 * store (the copy every instance sees, so another one can take over), then the store's `upgrade` flag (what stops
 * admission and drives Retry-After). Reads back the newest copy of an unfinished run on start or takeover.
 */
import type { ControlStore, DocumentStore } from '../store/types.js'
import { LeadershipLostError } from './errors.js'
import type { SqliteDb } from './db/open.js'
import { FINAL_STATES, isFinal, type UpgradeRun } from './run.js'
import { NOTICE_DOC } from '../notice/notice.js'
import { noticeOf } from './notice-of.js'

const FINAL_STATES_SQL = [...FINAL_STATES].map((s) => `'${s}'`).join(', ')

export const RUN_DOC = 'coordinator:run'
export const META_DOC = 'coordinator:meta'

/** What outlives single runs: the system's protocol version and when the last upgrade completed. */
export interface CoordinatorMeta {
  protocol_version: string | null
  last_completed_at_ms: number | null
}

export class UpgradeJournal {
  constructor (private readonly db: SqliteDb, private readonly store: Pick<DocumentStore, 'getDoc' | 'setDoc'> & Pick<ControlStore, 'setUpgrade'>) {}

  /**
   * Records `run` as it is now, bumping its seq. Refuses (LeadershipLostError) when the store holds a copy of the
   * same run written under a newer fencing token: another coordinator leads now.
   */
  async save (run: UpgradeRun): Promise<void> {
    const shared = await this.store.getDoc<UpgradeRun>(RUN_DOC)
    if (shared !== null && shared.id === run.id && shared.fencing_token > run.fencing_token) {
      throw new LeadershipLostError(`upgrade ${run.id} is led by fencing token ${shared.fencing_token} now (ours ${run.fencing_token})`)
    }
    run.seq = Math.max(run.seq, shared?.id === run.id ? shared.seq : 0) + 1
    this.saveLocal(run)
    await this.store.setDoc(RUN_DOC, run)
    // What clients are told (scheduled, running, verifying): before the flag changes, so no instance sees admission
    // resume for verifying without knowing it is verifying.
    await this.store.setDoc(NOTICE_DOC, noticeOf(run))
    // Pre-checks change nothing, so admission goes on until the drain starts; nor does waiting for a scheduled time.
    if (run.state === 'pre_checks' || run.state === 'scheduled') return
    // Verifying serves live traffic on the new version: admission resumes (a breach sets the flag again).
    if (run.state === 'completed' || run.state === 'rolled_back' || run.state === 'verifying') {
      await this.store.setUpgrade(null)
    } else {
      await this.store.setUpgrade({ id: run.id, phase: run.state, resume_estimate_ms: run.resume_estimate_ms })
    }
  }

  /** The run to continue: the newest copy (SQLite or store) of an unfinished one, or null. */
  async unfinished (): Promise<UpgradeRun | null> {
    const shared = await this.store.getDoc<UpgradeRun>(RUN_DOC)
    const local = this.localUnfinished()
    let pick = shared ?? local
    if (shared !== null && local !== null) {
      pick = shared.id === local.id
        ? (shared.seq >= local.seq ? shared : local)
        : (shared.started_at_ms >= local.started_at_ms ? shared : local)
    }
    if (pick === null) return null
    // Another instance moved the run on (or finished it): bring the local history up to date.
    if (pick === shared && (local === null || local.id !== shared.id || shared.seq > local.seq)) this.saveLocal(shared)
    return isFinal(pick) ? null : pick
  }

  /** The last run the store knows (any instance), else the newest local one. */
  async latest (): Promise<UpgradeRun | null> {
    const shared = await this.store.getDoc<UpgradeRun>(RUN_DOC)
    const local = this.history(1)[0] ?? null
    if (shared === null) return local
    if (local === null || local.id !== shared.id) return shared.started_at_ms >= (local?.started_at_ms ?? 0) ? shared : local
    return shared.seq >= local.seq ? shared : local
  }

  get (id: string): UpgradeRun | null {
    const row = this.db.prepare('SELECT run_json FROM upgrade_history WHERE upgrade_id = ?').get(id) as { run_json: string } | undefined
    return row === undefined ? null : JSON.parse(row.run_json) as UpgradeRun
  }

  history (limit: number): UpgradeRun[] {
    const rows = this.db.prepare('SELECT run_json FROM upgrade_history WHERE run_json IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT ?').all(limit) as Array<{ run_json: string }>
    return rows.map((r) => JSON.parse(r.run_json) as UpgradeRun)
  }

  async meta (): Promise<CoordinatorMeta> {
    const shared = await this.store.getDoc<CoordinatorMeta>(META_DOC)
    const local = this.db.prepare("SELECT value FROM coordinator_state WHERE key = 'meta'").get() as { value: string } | undefined
    const fromDb = local === undefined ? null : JSON.parse(local.value) as CoordinatorMeta
    const pick = [shared, fromDb].filter((m): m is CoordinatorMeta => m !== null)
      .sort((a, b) => (b.last_completed_at_ms ?? 0) - (a.last_completed_at_ms ?? 0))[0]
    return pick ?? { protocol_version: null, last_completed_at_ms: null }
  }

  async setMeta (meta: CoordinatorMeta): Promise<void> {
    this.db.prepare("INSERT INTO coordinator_state (key, value) VALUES ('meta', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(JSON.stringify(meta))
    await this.store.setDoc(META_DOC, meta)
  }

  /** Records the contract's inflight settlements of a checkpoint (the design's inflight_checkpoints table). */
  recordCheckpointSettlements (checkpointId: string, at: number, settlements: Array<Record<string, unknown>>): void {
    const insert = this.db.prepare(`INSERT OR REPLACE INTO inflight_checkpoints
      (id, settlement_id, phase, user_funds_locked, solver_funds_locked, ibc_sequence, checkpoint_time, checkpoint_ref)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    this.db.transaction(() => {
      for (const s of settlements) {
        const settlementId = String(s.id ?? s.settlement_id ?? '')
        const sequence = s.ibc_sequence ?? s.sequence
        insert.run(`${checkpointId}/${settlementId}`, settlementId, String(s.phase ?? s.status ?? 'unknown'),
          s.user_funds_locked === false ? 0 : 1, s.solver_funds_locked === true ? 1 : 0,
          typeof sequence === 'number' ? sequence : null, at, checkpointId)
      }
    })()
  }

  /** Records one stored intent the upgrade moved to another version (table of migration 003, when applied). */
  recordStoredIntentMigration (upgradeId: string, key: string, from: string, to: string): void {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stored_intent_migrations'").get()
    if (exists === undefined) return
    this.db.prepare('INSERT OR REPLACE INTO stored_intent_migrations (upgrade_id, intent_key, from_version, to_version, migrated_at) VALUES (?, ?, ?, ?, ?)')
      .run(upgradeId, key, from, to, Date.now())
  }

  private localUnfinished (): UpgradeRun | null {
    const row = this.db.prepare(`SELECT run_json FROM upgrade_history
      WHERE run_json IS NOT NULL AND state NOT IN (${FINAL_STATES_SQL}) ORDER BY started_at DESC LIMIT 1`).get() as { run_json: string } | undefined
    return row === undefined ? null : JSON.parse(row.run_json) as UpgradeRun
  }

  private saveLocal (run: UpgradeRun): void {
    const status = run.state === 'completed' ? 'completed' : run.state === 'rolled_back' ? 'rolled_back' : run.state === 'failed' ? 'failed' : 'in_progress'
    this.db.transaction(() => {
      const existing = this.db.prepare('SELECT id FROM upgrade_history WHERE upgrade_id = ?').get(run.id) as { id: number } | undefined
      const values = [run.from_version, run.request.target_version, run.started_at_ms, run.ended_at_ms, status, run.checkpoint_id,
        run.settlements_migrated, run.error, run.state, run.seq, JSON.stringify(run)]
      if (existing === undefined) {
        this.db.prepare(`INSERT INTO upgrade_history (version_from, version_to, started_at, completed_at, status, checkpoint_id,
          settlements_migrated, error_message, state, seq, run_json, upgrade_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...values, run.id)
      } else {
        this.db.prepare(`UPDATE upgrade_history SET version_from = ?, version_to = ?, started_at = ?, completed_at = ?, status = ?,
          checkpoint_id = ?, settlements_migrated = ?, error_message = ?, state = ?, seq = ?, run_json = ? WHERE upgrade_id = ?`).run(...values, run.id)
      }
      this.db.prepare('DELETE FROM upgrade_phases WHERE upgrade_id = ?').run(run.id)
      const phase = this.db.prepare('INSERT INTO upgrade_phases (upgrade_id, seq, phase, started_at, ended_at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      run.phases.forEach((p, i) => phase.run(run.id, i, p.phase, p.started_at_ms, p.ended_at_ms, p.outcome, p.detail ?? null))
      this.db.prepare('DELETE FROM upgrade_steps WHERE upgrade_id = ?').run(run.id)
      const step = this.db.prepare('INSERT INTO upgrade_steps (upgrade_id, seq, name, status, updated_at, detail) VALUES (?, ?, ?, ?, ?, ?)')
      run.steps.forEach((s, i) => {
        step.run(run.id, i, s.name, s.status, s.updated_at_ms, s.detail === undefined ? null : JSON.stringify(s.detail))
      })
    })()
  }
}
