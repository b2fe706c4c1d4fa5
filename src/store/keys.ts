/**
 * The store's key names, shared by both implementations' documentation and by tests that poke Redis with
 * redis-cli. Everything lives under `intent-gate:{<ns>}:` (one hash slot per namespace, so Redis Cluster and
 * multi-key Lua scripts work). `drain`, `active` and `upgrade` are the operators' (docs/specification.md section 4).
 */
import { hash } from 'node:crypto'

export function keyPrefix (namespace: string): string {
  return `intent-gate:{${namespace}}:`
}

export interface StoreKeys {
  readonly prefix: string
  /** Operator switch: `1` or `{"deadline_secs":N,"reason":"..."}`. */
  readonly drain: string
  /** When the current drain was first seen (ms); kept by the gateway next to `drain`. */
  readonly drainStarted: string
  /** `blue` or `green`. */
  readonly active: string
  /** The running upgrade's flag (JSON), written by the coordinator. */
  readonly upgrade: string
  /**
   * Hash: record field → inflight record. HLEN is the exact inflight count. A record's field is its admission
   * key (layouts 2 and 3) or, from layout 4, that key's handle (inflightHandle); every `inflight:*` hash uses it.
   */
  readonly inflight: string
  /**
   * Hash: record field → owning upstream, up to key layout 5; from layout 6 the owner is read from the record's
   * header and no entry is made (an entry a release up to 5 wrote is still read first, and kept up to date).
   */
  readonly inflightOwner: string
  /**
   * Hash: record field → last seen phase (absent: the phase a layout-7 bind wrote in the record's header, else
   * `submitting` while unbound, `accepted` once bound).
   */
  readonly inflightPhase: string
  /** Hash: record field → intent id (absent: not bound yet, or, from layout 7, bound in the record's header). */
  readonly inflightBound: string
  /** Hash: intent id → record field. */
  readonly inflightIds: string
  /** Sorted set: record field scored by its admission time (ms): the oldest, and pages in admission order. */
  readonly inflightSince: string
  /** Hash: upstream color → how many inflight records it owns (kept by every script that adds or removes one). */
  readonly inflightCount: string
  /** String: the newest key layout written in the namespace (see redis/layout.ts). */
  readonly layout: string
  /** String: a random id set once per namespace's life; missing or changed means Redis lost its data. */
  readonly epoch: string
  /** Hash: instance → until when (ms) it is registering its records again after a data loss. */
  readonly recovering: string
  /** Hash: instance id → its registry record (JSON, see redis/registry.ts). */
  readonly instances: string
  /** List of ended intents (JSON), newest first, capped. */
  readonly ended: string
  /** The first layouts' string per intent id (read for status reads, written no more); expires. */
  endedId (id: string): string
  /**
   * Hash per time bucket: intent id → `<upstream> <version> <upstream_version> <status> <ended at, s>`. One hash
   * entry per ended intent instead of one key (a third of the memory); the bucket expires after the retention.
   * From layout 9 the routes are fields of the bucket's shards, `<bucket>:<index>`, their number in `<bucket>:n`
   * (scripts/route_shards.lua); a route too long for a shard stays in the bucket itself.
   */
  endedIds (bucket: number): string
  /**
   * String per admission scope: `<p|u|r><fingerprint><marker or response>` (see admit.lua); expires. The name
   * carries a 128-bit hash of the scope, not the scope itself: it is kept for the whole retention.
   */
  idem (scope: string): string
  /**
   * Hash, from key layout 9: how many shards keep answered idempotency records (`n`), how many records they keep
   * (`count`) and where the sweep of expired ones stands (`cursor`, `swept`). The shards are `<replays>:<index>`,
   * hashes of idempotency-key hash → `<expiry><fingerprint><answer>` (scripts/replay_shards.lua).
   */
  readonly replays: string
  /**
   * String per answer template (key layout 8, ./redis/answer-templates.ts): `<offset>:<answer without its id>`,
   * shared by the idempotency records whose answer refers to it; expires after the idempotency TTL and a margin.
   */
  answer (ref: string): string
  /**
   * Sorted set per owner, up to key layout 4: the admission scopes the owner holds, scored by when their
   * idempotency record expires (ms); `proxy.max_keys_per_owner` caps its size. Layout 5 counts instead
   * (`ownerCounts`) and still reads it. The name carries a hash of the owner; it expires with its newest member.
   */
  ownerKeys (owner: string): string
  /**
   * Hash per owner from key layout 5: the end of a time bucket (s) → how many of the owner's keys admitted then
   * expire by it (a bucket is a 24th of the idempotency TTL); `proxy.max_keys_per_owner` caps the sum of the
   * buckets not yet ended. A few fields per owner instead of a member per key (admit.lua, countOwnerKey). The
   * name carries the hash `ownerKeys` does; it expires with its newest bucket.
   */
  ownerCounts (owner: string): string
  /** String: `<token> <holder>`, expiring with the lease. */
  lease (name: string): string
  /** Counter: the last fencing token handed out for a lease name. */
  leaseFence (name: string): string
  /** String: a part's JSON document. */
  doc (name: string): string
  /** Hash: a part's named field set (JSON values). */
  hash (name: string): string
}

/**
 * What stands for an admission scope in its owner's key set from key layout 3: 12 characters (72 bits) of the
 * scope's hash instead of the scope (about 70 characters), kept for the whole retention. The set is only
 * counted and trimmed by expiry, never read back, so a stand-in does: two scopes of one owner that met in 72
 * bits would count as one key against the cap. It is the first 12 characters of the scope's handle, so the
 * scripts take it from the handle (admit.lua).
 */
export function ownerKeyMember (scope: string): string {
  return inflightHandle(scope).slice(0, 12)
}

/**
 * The short handle an inflight record is kept under from key layout 4: 16 characters (96 bits) of the scope's
 * SHA-256 in base64url, the field of `inflight`, `inflight:owner`, `inflight:phase`, `inflight:bound` and
 * `inflight:since` and the value in `inflight:ids`, where layout 3 repeats the scope (about 70 characters) five
 * times. The scope itself is stored once, in the record's header line. A handle has no `:`, a scope always
 * does (`o:...`), so a script tells the two forms apart. Among a million inflight records the chance that two
 * scopes meet in 96 bits is about 1 in 10^16 (and a meeting refuses, never forwards twice: in_progress).
 */
export function inflightHandle (scope: string): string {
  return hash('sha256', scope, 'base64url').slice(0, 16)
}

/** Whether an `inflight` field is a handle (layout 4) rather than an admission scope (layouts 2 and 3). */
export function isInflightHandle (field: string): boolean {
  return /^[A-Za-z0-9_-]{16}$/.test(field)
}

/** What stands for an owner in the names of its key set and counts: 22 characters (132 bits) of its hash. */
function ownerHash (owner: string): string {
  return hash('sha256', owner, 'base64url').slice(0, 22)
}

export function storeKeys (namespace: string): StoreKeys {
  const p = keyPrefix(namespace)
  return {
    prefix: p,
    drain: `${p}drain`,
    drainStarted: `${p}drain:started`,
    active: `${p}active`,
    upgrade: `${p}upgrade`,
    inflight: `${p}inflight`,
    inflightOwner: `${p}inflight:owner`,
    inflightPhase: `${p}inflight:phase`,
    inflightBound: `${p}inflight:bound`,
    inflightIds: `${p}inflight:ids`,
    inflightSince: `${p}inflight:since`,
    inflightCount: `${p}inflight:count`,
    layout: `${p}layout`,
    epoch: `${p}epoch`,
    recovering: `${p}recovering`,
    instances: `${p}instances`,
    ended: `${p}ended`,
    endedId: (id) => `${p}ended:id:${id}`,
    endedIds: (bucket) => `${p}ended:ids:${bucket}`,
    idem: (scope) => `${p}i:${hash('sha256', scope, 'base64url').slice(0, 22)}`,
    answer: (ref) => `${p}a:${ref}`,
    replays: `${p}replays`,
    ownerKeys: (owner) => `${p}ok:${ownerHash(owner)}`,
    ownerCounts: (owner) => `${p}oc:${ownerHash(owner)}`,
    lease: (name) => `${p}lease:${name}`,
    leaseFence: (name) => `${p}lease:${name}:fence`,
    doc: (name) => `${p}doc:${name}`,
    hash: (name) => `${p}hash:${name}`
  }
}

/** How many endings the log keeps (the most recent, for operators; every ending is also counted in metrics). */
export const ENDED_LOG_CAP = 1_000

/** Ended routes are kept in this many time buckets across the retention (and one more being filled). */
export const ENDED_BUCKETS = 24

/** The width (s) of one ended-route bucket for a retention. */
export function endedBucketSecs (retentionSecs: number): number {
  return Math.max(1, Math.ceil(retentionSecs / ENDED_BUCKETS))
}
