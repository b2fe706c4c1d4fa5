/**
 * Checkpoint routes:
 *
 *   GET  /admin/checkpoints               → newest first: id, upgrade, created_at, counts, size, compressed
 *   GET  /admin/checkpoints/:id           → its meta and a summary of its content (validated first)
 *   POST /admin/checkpoints/:id/validate  → {id, valid, problems}: the SHA-256 and the content re-checked
 */
import type { CheckpointFiles } from '../../coordinator/checkpoint/files.js'
import type { CheckpointMeta } from '../../coordinator/checkpoint/types.js'
import { Type } from '@sinclair/typebox'
import { IdParams } from '../schemas.js'
import type { RouteGroup } from '../server.js'

const CheckpointItem = Type.Object({
  id: Type.String(),
  upgrade_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Number({ description: 'Unix seconds' }),
  protocol_version: Type.Union([Type.String(), Type.Null()]),
  inflight_count: Type.Integer(),
  pending_ibc_count: Type.Integer(),
  contract_settlements_count: Type.Union([Type.Integer(), Type.Null()]),
  bytes: Type.Integer(),
  compressed: Type.Boolean(),
  sha256: Type.String()
}, { additionalProperties: true })

export interface CheckpointRoutesDeps {
  files: Pick<CheckpointFiles, 'list' | 'meta' | 'read' | 'validate'>
}

export function checkpointListItem (m: CheckpointMeta): Record<string, unknown> {
  return {
    id: m.id,
    upgrade_id: m.upgrade_id,
    created_at: m.created_at_ms / 1000,
    protocol_version: m.protocol_version,
    inflight_count: m.inflight_count,
    pending_ibc_count: m.pending_ibc_count,
    contract_settlements_count: m.contract_settlements_count,
    bytes: m.bytes,
    compressed: m.compressed,
    sha256: m.sha256
  }
}

export function checkpointRoutes (deps: CheckpointRoutesDeps): RouteGroup {
  return {
    name: 'checkpoints',
    routes: [
      {
        method: 'GET',
        path: '/admin/checkpoints',
        schema: { summary: 'The checkpoints, newest first', response: { 200: Type.Object({ checkpoints: Type.Array(CheckpointItem) }) } },
        handler: () => ({ body: { checkpoints: deps.files.list().map(checkpointListItem) } })
      },
      {
        method: 'GET',
        path: '/admin/checkpoints/:id',
        schema: {
          summary: 'One checkpoint: its meta and a summary of its content (validated first)',
          params: IdParams,
          response: {
            200: Type.Intersect([CheckpointItem, Type.Object({
              schema_version: Type.Integer(),
              active: Type.String(),
              inflight: Type.Array(Type.Object({}, { additionalProperties: true }))
            }, { additionalProperties: true })])
          }
        },
        handler: (req) => {
          const id = req.params.id as string
          const meta = deps.files.meta(id)
          const c = deps.files.read(id)
          return {
            body: {
              ...checkpointListItem(meta),
              schema_version: c.schema_version,
              active: c.active,
              drain: c.drain,
              versions: c.versions,
              contract: c.contract === null ? null : { ...c.contract.info, inflight_settlements: c.contract.inflight_settlements },
              contracts: (c.contracts ?? []).map((x) => ({ name: x.name, ...x.info, inflight_settlements: x.inflight_settlements })),
              pending_ibc_packets: c.pending_ibc_packets,
              inflight: c.inflight.map((r) => ({
                key: r.key,
                id: r.id,
                upstream: r.upstream,
                version: r.version,
                phase: r.phase,
                deadline: r.deadline,
                created_at: r.created_at_ms / 1000
              }))
            }
          }
        }
      },
      {
        method: 'POST',
        path: '/admin/checkpoints/:id/validate',
        schema: {
          summary: 'Check a checkpoint again: its SHA-256 and its content',
          params: IdParams,
          response: {
            200: Type.Object({
              id: Type.String(),
              valid: Type.Boolean(),
              problems: Type.Array(Type.String())
            }, { additionalProperties: true })
          }
        },
        handler: (req) => ({ body: deps.files.validate(req.params.id as string) })
      }
    ]
  }
}
