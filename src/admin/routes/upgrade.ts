/**
 * Upgrade routes over the coordinator:
 *
 *   POST /admin/upgrade/start  the upgrade request (coordinator/upgrade-request.ts)  → 202 {id, ...}
 *   GET  /admin/upgrade/status → the design's UpgradeStatus plus `phases` (start, end, outcome) and `steps`
 *   POST /admin/upgrade/abort  → 202: the leader rolls back what was done and resumes the old version
 *
 * Any instance answers; the leader (which may be another instance) acts.
 */
import type { UpgradeCoordinator } from '../../coordinator/coordinator.js'
import { isFinal, type UpgradeRun } from '../../coordinator/run.js'
import type { DrainStatus } from '../../drain/status.js'
import { Type } from '@sinclair/typebox'
import { DrainStatusSchema } from '../schemas.js'
import { UpgradeStartBodySchema } from '../../coordinator/upgrade-request.js'
import { route, type RouteGroup } from '../server.js'

const UpgradeStatusSchema = Type.Object({
  state: Type.String({ description: 'idle, scheduled, pre_checks, draining, checkpointing, migrating, post_checks, resuming, verifying, completed, rolling_back, rolled_back or failed' }),
  upgrade_id: Type.Union([Type.String(), Type.Null()]),
  target_version: Type.Union([Type.String(), Type.Null()]),
  from_version: Type.Union([Type.String(), Type.Null()]),
  drain_status: DrainStatusSchema,
  inflight_count: Type.Union([Type.Integer(), Type.Null()]),
  progress_pct: Type.Number(),
  phases: Type.Array(Type.Object({
    phase: Type.String(),
    started_at: Type.Number(),
    ended_at: Type.Union([Type.Number(), Type.Null()]),
    outcome: Type.Union([Type.String(), Type.Null()])
  }, { additionalProperties: true })),
  error: Type.Union([Type.String(), Type.Null()])
}, { additionalProperties: true })
const Accepted = Type.Object({ id: Type.String(), state: Type.String() }, { additionalProperties: true })

export interface UpgradeRoutesDeps {
  coordinator: Pick<UpgradeCoordinator, 'requestUpgrade' | 'abort' | 'status' | 'history'>
  /** The live DrainStatus (the drain routes' reader). */
  drainStatus: () => Promise<DrainStatus>
}

/** One past (or running) upgrade, as the history route lists it. */
const UpgradeSummarySchema = Type.Object({
  upgrade_id: Type.String(),
  state: Type.String(),
  target_version: Type.String(),
  from_version: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.Union([Type.Number(), Type.Null()]),
  ended_at: Type.Union([Type.Number(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()])
})

function summaryOf (run: UpgradeRun): Record<string, unknown> {
  return {
    upgrade_id: run.id,
    state: run.state,
    target_version: run.request.target_version,
    from_version: run.from_version ?? null,
    started_at: secs(run.started_at_ms),
    ended_at: secs(run.ended_at_ms),
    error: run.error ?? null
  }
}

const secs = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : Math.round(ms) / 1000)

export interface UpgradeStatusBody {
  state: UpgradeRun['state'] | 'idle'
  upgrade_id: string | null
  target_version: string | null
  from_version: string | null
  started_at: number | null
  completed_at: number | null
  drain_status: DrainStatus
  inflight_count: number | null
  checkpoint_id: string | null
  progress_pct: number
  estimated_completion: number | null
  /** RFC 3339: when admission is expected to resume (the coordinator's live estimate); null once it has. */
  estimated_resume_at: string | null
  /** RFC 3339: a scheduled upgrade's start; null when it was not scheduled. */
  scheduled_at: string | null
  phases: Array<{ phase: string, started_at: number, ended_at: number | null, outcome: string | null, detail?: string }>
  steps: Array<{ name: string, status: string, updated_at: number, detail?: Record<string, unknown> }>
  swap: { from: string, to: string } | null
  contract: { code_id: number, checksum: string } | null
  drain: {
    deadline: number | null
    initial_inflight: number | null
    forced: boolean
    stuck_settlement_action: string | null
    extended: number
  } | null
  rollback_attempts: number
  error: string | null
  leader: { instance: string, is_leader: boolean }
}

export async function readUpgradeStatus (deps: UpgradeRoutesDeps): Promise<UpgradeStatusBody> {
  const [status, drain] = await Promise.all([deps.coordinator.status(), deps.drainStatus()])
  const run = status.run
  const running = run !== null && !isFinal(run)
  return {
    state: run?.state ?? 'idle',
    upgrade_id: run?.id ?? null,
    target_version: run?.request.target_version ?? null,
    from_version: run?.from_version ?? null,
    started_at: secs(run?.started_at_ms),
    completed_at: secs(run?.ended_at_ms),
    drain_status: drain,
    inflight_count: drain.inflight_settlements,
    checkpoint_id: run?.checkpoint_id ?? null,
    progress_pct: status.progress_pct,
    estimated_completion: running ? secs(run.resume_estimate_ms) : null,
    estimated_resume_at: running && run.state !== 'verifying' ? new Date(run.resume_estimate_ms).toISOString() : null,
    scheduled_at: run?.scheduled_at_ms === undefined ? null : new Date(run.scheduled_at_ms).toISOString(),
    phases: (run?.phases ?? []).map((p) => ({
      phase: p.phase,
      started_at: secs(p.started_at_ms) as number,
      ended_at: secs(p.ended_at_ms),
      outcome: p.outcome,
      ...(p.detail !== undefined ? { detail: p.detail } : {})
    })),
    steps: (run?.steps ?? []).map((s) => ({
      name: s.name,
      status: s.status,
      updated_at: secs(s.updated_at_ms) as number,
      ...(s.detail !== undefined ? { detail: s.detail } : {})
    })),
    swap: run === null ? null : { from: run.from_active, to: run.to_active },
    contract: run?.request.contract === undefined
      ? null
      : { code_id: run.request.contract.code_id, checksum: run.request.contract.checksum },
    drain: run === null
      ? null
      : {
          deadline: secs(run.drain.deadline_ms),
          initial_inflight: run.drain.initial_inflight,
          forced: run.drain.forced,
          stuck_settlement_action: run.drain.stuck_action,
          extended: run.drain.extended
        },
    rollback_attempts: run?.rollback_attempts ?? 0,
    error: run?.error ?? null,
    leader: status.leader
  }
}

export function upgradeRoutes (deps: UpgradeRoutesDeps): RouteGroup {
  return {
    name: 'upgrade',
    routes: [
      route({
        method: 'POST',
        path: '/admin/upgrade/start',
        schema: { summary: 'Start (or, with at, schedule) a coordinated upgrade; 409 while one runs', body: UpgradeStartBodySchema, response: { 202: Accepted } },
        handler: async (req) => {
          const run = await deps.coordinator.requestUpgrade(req.body)
          return {
            status: 202,
            body: {
              id: run.id,
              state: run.state,
              target_version: run.request.target_version,
              swap: { from: run.from_active, to: run.to_active }
            }
          }
        },
        audit: (req, reply) => {
          const body = req.body
          const started = reply.body as { id: string, state: string, swap: { from: string, to: string } }
          return {
            action: 'upgrade.start',
            detail: {
              upgrade_id: started.id,
              state: started.state,
              target_version: body.target_version,
              swap: started.swap,
              force: body.force === true,
              ...(body.at !== undefined ? { at: body.at } : {})
            },
            ...(typeof body.reason === 'string' ? { reason: body.reason } : {})
          }
        }
      }),
      {
        method: 'GET',
        path: '/admin/upgrade/status',
        schema: { summary: 'The UpgradeStatus with the upgrade id, its phases and the resume estimate', response: { 200: UpgradeStatusSchema } },
        handler: async () => ({ body: await readUpgradeStatus(deps) })
      },
      {
        method: 'GET',
        path: '/admin/upgrade/history',
        schema: {
          summary: 'The most recent upgrades (this instance\'s SQLite history), newest first',
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })) }),
          response: { 200: Type.Object({ upgrades: Type.Array(UpgradeSummarySchema) }) }
        },
        handler: async (req) => {
          const limit = (req.query as { limit?: number }).limit ?? 20
          return { body: { upgrades: deps.coordinator.history(limit).map(summaryOf) } }
        }
      },
      {
        method: 'POST',
        path: '/admin/upgrade/abort',
        schema: {
          summary: 'Abort the upgrade: roll back what was done, resume the previous version (a scheduled one is cancelled)',
          body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500, description: 'why (the audit log keeps it)' })) }, { additionalProperties: false }),
          response: { 202: Accepted }
        },
        handler: async () => {
          const run = await deps.coordinator.abort()
          return { status: 202, body: { id: run.id, state: run.state, abort_requested: true } }
        },
        audit: (req, reply) => {
          const aborted = reply.body as { id: string, state: string }
          const reason = (req.body as { reason?: string }).reason
          return { action: 'upgrade.abort', detail: { upgrade_id: aborted.id, state: aborted.state }, ...(reason !== undefined ? { reason } : {}) }
        }
      }
    ]
  }
}
