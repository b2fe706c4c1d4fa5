/**
 * What this build is, in one place: its release version (kept equal to package.json's by
 * test/release/version.test.ts) and the Redis key layouts it shares a namespace with (docs/store.md,
 * "Two releases on one namespace"). `intent-gate --version`, the fleet registry and the status page read these.
 *
 * A layout is the shape of everything the gateway keeps in a namespace: records, keys, script arguments,
 * control values. Two adjacent releases must each read what the other writes, so a release `writes` one
 * layout and `reads` that one and its neighbours'. A change is made in two releases: the first reads the new
 * form and still writes the old; the next writes the new (and still reads the old, for a rollback).
 */

export const RELEASE_VERSION = '0.16.0'

export interface KeyLayouts {
  /** The layout this release writes (and marks the namespace with). */
  readonly writes: number
  /** Every layout whose data this release reads correctly, ascending; `writes` is one of them. */
  readonly reads: readonly number[]
}

/**
 * Layout 3, lean records: a bound inflight record keeps its header line only (the forwarded bytes are dropped
 * at bind, when no resend can need them), and an owner's key set holds a 12-character hash of each scope
 * instead of the scope. A store writes it when its `writes` is this or above.
 */
export const LEAN_LAYOUT = 3

/**
 * Layout 4, short handles: an inflight record is kept under a 16-character hash of its admission scope
 * (keys.ts, inflightHandle) in every `inflight:*` hash, the scope once in the record's header line, which is a
 * JSON array instead of an object (records.ts). The idempotency and owner-set keys are layout 3's.
 */
export const HANDLE_LAYOUT = 4

/**
 * Layout 5, owner counts: an owner's idempotency keys are counted per time bucket (keys.ts, ownerCounts: a few
 * fields per owner) instead of kept as a member each in a sorted set (`ok:<owner>`, about 155 bytes per key
 * for the whole retention). `proxy.max_keys_per_owner` caps the larger of the two counts.
 */
export const OWNER_COUNTS_LAYOUT = 5

/**
 * Layout 6, owner in the header: a record's owning upstream is read from its header line (records.ts), which
 * names it already, instead of kept again in `inflight:owner` (about 90 bytes per inflight intent). Every reader
 * takes an `inflight:owner` entry where one exists, the header's owner where none does.
 */
export const OWNER_HEADER_LAYOUT = 6

/**
 * Layout 7, bound in the header: a bind writes the intent id and the answer's phase into the record's header
 * line, which it rewrites anyway (bind.lua, records.ts), instead of an `inflight:bound` and an `inflight:phase`
 * entry (about 190 bytes per inflight intent). Every reader takes an entry where one exists, the header's where
 * none does.
 */
export const BOUND_HEADER_LAYOUT = 7

/**
 * Layout 8, answers by template: an idempotency record keeps `#<ref><id>` in place of an answer that differs
 * from others only by its intent id, the answer's template once under `a:<ref>` (store/redis/answer-templates.ts;
 * about 80 bytes per intent, inflight and ended). A replay expands it; an answer seen once, or with the id in it
 * more than once, is kept whole as before.
 */
export const ANSWER_TEMPLATE_LAYOUT = 8

/**
 * Layout 9, records in shards: a bind keeps the answer a replay gets as a field of a small hash (one of
 * `replays:<index>`, grown by linear hashing: store/redis/scripts/linear_shards.lua) instead of an idempotency
 * key of its own, the expiry in the value and expired records swept (store/redis/replay-sweeper.ts); an ending
 * keeps the intent's route in small shards of its time bucket instead of one big hash. Every reader looks for the
 * key (the bucket's field) first, then in the shards.
 */
export const REPLAY_SHARDS_LAYOUT = 9

/**
 * This release, the second step of the records-in-shards change: it writes layout 9 (a bind keeps the answer a
 * replay gets in a shard, an ending the intent's route in a shard of its bucket) and still reads layout 8 (the
 * keys and buckets 0.15.0 writes beside it and after a rollback). 0.15.0 reads layout 9, so it can run beside this
 * release and is the one to roll back to; 0.14.0 refuses a namespace marked 9.
 */
export const KEY_LAYOUTS: KeyLayouts = { writes: REPLAY_SHARDS_LAYOUT, reads: [ANSWER_TEMPLATE_LAYOUT, REPLAY_SHARDS_LAYOUT] }
