/**
 * TypeBox schemas of the admin API's bodies that more than one route group answers with (the drain status is
 * part of the upgrade status too). A route group's own bodies live in its file.
 */
import { Type, type TSchema } from '@sinclair/typebox'

export const Nullable = <T extends TSchema>(t: T): ReturnType<typeof Type.Union<[T, ReturnType<typeof Type.Null>]>> =>
  Type.Union([t, Type.Null()])

export const UnixSecs = Type.Number({ description: 'Unix seconds' })

/** A POST without a body: `{}` (or nothing) and no field. */
export const EmptyBody = Type.Object({}, { additionalProperties: false })

export const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) })

export const DrainStatusSchema = Type.Object({
  mode: Type.Union([Type.Literal('active'), Type.Literal('draining'), Type.Literal('drained'), Type.Literal('upgrading'), Type.Literal('resuming'), Type.Literal('unknown')], {
    description: 'drained: the drain switch (or an upgrade\'s drain) is set and nothing is inflight nor pending on IBC; unknown: a count cannot be known now (never drained)'
  }),
  inflight_settlements: Nullable(Type.Integer({ description: 'exact, across every instance; null when unknown' })),
  pending_ibc_packets: Nullable(Type.Integer()),
  oldest_inflight_age_secs: Nullable(Type.Integer()),
  started_at: Nullable(UnixSecs),
  deadline: Nullable(UnixSecs),
  reason: Nullable(Type.String()),
  upgrade: Nullable(Type.Object({ id: Type.String(), phase: Type.String() })),
  invalid_keys: Type.Array(Type.Object({ key: Type.String(), raw: Type.String() }))
}, { $id: 'DrainStatus', additionalProperties: true })
