/**
 * The store: the only part of intent-gate that knows where shared state lives. Two implementations sit behind
 * this interface (Redis for several instances, an embedded one for a single instance) and one conformance suite
 * (test/store/conformance.ts) runs against both.
 *
 * Keys (Redis): everything under `intent-gate:{<ns>}:` so one namespace is one hash slot. Operators use
 * `drain`, `active` and `upgrade` (docs/specification.md section 4); the rest is the gateway's own.
 * Times are Unix milliseconds inside the store; the admin API shows seconds.
 */
import type { Color } from '../config/schema.js'
import type { IntentEndedVia } from '../observability/channels.js'

/** The drain switch as an operator (or the admin API) set it. `SET drain 1` reads as `{}`. */
export interface DrainSwitch {
  deadline_secs?: number
  reason?: string
  /** When the switch was first seen set (written by the gateway next to the key; ms). */
  started_at_ms?: number
}

/** The running upgrade's flag: while it exists no intent is admitted, whatever `drain` says. */
export interface UpgradeFlag {
  id: string
  phase: string
  /** The coordinator's estimate of when admission resumes (ms); drives Retry-After. */
  resume_estimate_ms?: number
}

/** What every instance reads from the shared keys (polled, see `watchControl`). */
export interface ControlState {
  drain: DrainSwitch | null
  upgrade: UpgradeFlag | null
  /** The last valid value of `active`, or null while the key is unset. */
  active: Color | null
  /** Raw values that made no sense (e.g. `active` = `purple`), for logs and status; empty when all are fine. */
  invalid: Array<{ key: 'drain' | 'active' | 'upgrade', raw: string }>
}

/**
 * `submitting` until the upstream answered; `unknown` when it may have taken the intent but its answer never
 * came (a timeout, a connection broken after the body was sent, a gateway that died mid-exchange); then the last
 * status the gateway saw once bound.
 */
export type IntentPhase = 'submitting' | 'unknown' | string

/** One inflight intent, registered before it is forwarded. */
export interface InflightRecord {
  /**
   * The admission scope, one per owner and key (docs/specification.md section 3): `o:<owner>:k:<Idempotency-Key>` for a
   * client's key, `o:<owner>:n:<nonce>` for an order without one (see `admissionScope`). Records admitted by
   * the first layout carry the bare key.
   */
  key: string
  /** The intent id from the upstream's 2xx response; null until bound. */
  id: string | null
  /** The upstream (color) that owns it: status reads, retries of an unknown outcome and reconciliation go there. */
  upstream: Color
  /** The client's version (responses are translated back to it). */
  version: string
  /** The version the body was forwarded in (the upstream's). */
  upstream_version: string
  created_at_ms: number
  /** Unix seconds after which it can no longer settle (the intent's own deadline, possibly extended). */
  deadline: number
  /** `submitting`, `unknown`, or the last status the gateway saw. */
  phase: IntentPhase
  /** When the outcome became unknown (ms); absent otherwise. */
  unknown_since_ms?: number
  /** The client's Idempotency-Key as sent (forwarded upstream as it was); null for a key derived from owner:nonce. */
  client_key?: string | null
  /** SHA-256 (hex) of the client's canonical intent, signature included; absent where not known. */
  fingerprint?: string
  /**
   * The bytes forwarded to the owner, exactly: what a retry of an unknown outcome and the reconciler send again.
   * Absent on input means `JSON.stringify(intent)`.
   */
  payload?: string
  /** The body as forwarded (the upstream's version), parsed; kept so stored intents can be migrated between versions. */
  intent: Record<string, unknown>
  /**
   * True when the store no longer keeps the forwarded bytes (key layout 3 drops them at bind, when the owner has
   * answered 2xx and no resend can need them): `intent` is then `{}` and `payload` absent. Such a record is never
   * resent nor migrated to another version; a replay is answered from the idempotency record.
   */
  body_dropped?: boolean
}

/** A replayable answer to a submission (any upstream status below 500). */
export interface StoredResponse {
  status: number
  /** Only the headers worth replaying (content-type, intent-version, deprecation...). */
  headers: Record<string, string>
  body: string
}

export interface AdmitRequest {
  record: Omit<InflightRecord, 'id' | 'phase'>
  /** Idempotency retention (`proxy.idempotency_ttl_secs`). */
  idempotencyTtlSecs: number
  /**
   * At most `max` idempotency keys (scopes) per `owner` at once (`proxy.max_keys_per_owner`): a new key past it is
   * refused (`owner_limit`); a key the owner already holds is answered as usual. Absent: no cap.
   */
  ownerKeys?: { owner: string, max: number }
}

export type AdmitResult =
  /** Registered as inflight; forward it. */
  | { kind: 'admitted' }
  /** Draining or upgrading: refuse with 503. Nothing was registered. */
  | { kind: 'refused', reason: 'draining' | 'upgrading', drain: DrainSwitch | null, upgrade: UpgradeFlag | null }
  /** The same key is still being submitted: 409 with Retry-After: 1. */
  | { kind: 'in_progress' }
  /** The same key already has an answer: replay it. */
  | { kind: 'replay', response: StoredResponse }
  /** The same key with another intent (another fingerprint): 422, nothing forwarded. */
  | { kind: 'mismatch' }
  /** The owner holds `ownerKeys.max` keys already; the oldest expires in `retryAfterSecs`. Nothing registered. */
  | { kind: 'owner_limit', retryAfterSecs: number }
  /**
   * The same key's first submission has an unknown outcome: it is still inflight, owned by `record.upstream`.
   * Forward `record.payload` to that owner again (the service answers a resubmission with what it has).
   */
  | { kind: 'unknown', record: InflightRecord }

/** How an inflight intent ended; kept in a bounded log so an ending is reported, never silently dropped. */
export interface EndedIntent {
  id: string
  key: string
  upstream: Color
  status: string
  via: IntentEndedVia
  ended_at_ms: number
}

/** What the store remembers of an ended intent, by id, for the idempotency retention: later status reads still
 * go to the upstream that owned it and are translated back to the client's version. */
export interface EndedRoute {
  upstream: Color
  version: string
  upstream_version: string
  /** The terminal status it ended with. */
  status: string
}

export interface Lease {
  holder: string
  /** Strictly increasing across holders: a fencing token for every state change the leader makes. */
  token: number
}

/** `recovering`: reachable, but this instance is registering its records again after Redis lost its data. */
export type StoreHealth = 'ready' | 'unavailable' | 'recovering'

/** One page of the inflight records, oldest admission first; `next_cursor` is null on the last page. */
export interface InflightPage {
  records: InflightRecord[]
  next_cursor: string | null
}

/**
 * The store by role (small interfaces, one conformance suite for all of them). Parts depend on the role
 * they use; `Store` is all of them, what each implementation provides and the composition root hands out.
 */

/** Admission and the inflight records: the submission path, the reconciler, the drain, the coordinator. */
export interface IntentStore {
  /**
   * One atomic step: mismatch, replay, in-progress or unknown for a known key; refusal while `drain` or
   * `upgrade` is set; otherwise register the record as inflight and the key as in progress. Throws
   * StoreUnavailableError when the store cannot answer (the caller fails closed).
   */
  admit (req: AdmitRequest): Promise<AdmitResult>
  /**
   * A 2xx arrived: bind the record to the intent id, keep the response for replays. `phase` is the status the
   * response reported (default `accepted`). If the id is already bound to another inflight key (the upstream
   * deduplicated the order itself), this record is dropped so the intent is counted once.
   * On StoreUnavailableError the store replays this write when Redis returns (as it does for `release`,
   * `markUnknown` and `complete`), so the accounting converges; the caller still answers its client.
   */
  bind (key: string, id: string, response: StoredResponse, idempotencyTtlSecs: number, phase?: string): Promise<void>
  /**
   * The submission did not create an intent: remove the record. With a response (a refusal worth replaying)
   * the key keeps it for replays; without one (5xx, 401/403/408/409/429, unreachable) the key is forgotten so
   * a retry goes through.
   */
  release (key: string, response: StoredResponse | null, idempotencyTtlSecs: number): Promise<void>
  /**
   * The upstream may have taken the intent but its answer never came: the record stays inflight with its owner,
   * phase `unknown`, and a retry of its key is answered `unknown` (routed to that owner). False when the record
   * is gone or already bound.
   */
  markUnknown (key: string, idempotencyTtlSecs: number): Promise<boolean>
  /** The intent reached a terminal status: end its record and log the ending. False when it was not inflight. */
  complete (id: string, status: string, via: EndedIntent['via']): Promise<boolean>
  /** Updates the last seen status of a bound, still inflight intent. */
  setPhase (id: string, phase: string): Promise<void>

  /** Every inflight record (bound or not). O(n): for checkpoints and migrations, not for status reads. */
  inflight (): Promise<InflightRecord[]>
  /** At most `limit` records, oldest admission first, after `cursor` (null: from the start). O(log n + limit). */
  inflightPage (limit: number, cursor: string | null): Promise<InflightPage>
  /** The exact number of inflight records (one store read, no listing). */
  inflightCount (): Promise<number>
  /** Inflight counts per owning upstream (counters, no listing). */
  inflightByUpstream (): Promise<Record<Color, number>>
  /** When the oldest inflight record was admitted (ms), or null when none is; O(log n). */
  oldestInflightMs (): Promise<number | null>
  /** The record bound to `id`, or null. */
  inflightById (id: string): Promise<InflightRecord | null>
  /** Replaces one record in place (stored-intent migration, deadline extension); false when it is gone. */
  updateInflight (record: InflightRecord): Promise<boolean>
  /** Replaces ALL inflight records (checkpoint restore). */
  replaceInflight (records: InflightRecord[]): Promise<void>
  /** How the intent `id` ended (owner, versions, status), kept for `proxy.idempotency_ttl_secs`; null when unknown. */
  endedById (id: string): Promise<EndedRoute | null>
  /** The most recent endings, newest first. */
  ended (limit: number): Promise<EndedIntent[]>
  /**
   * True while some instance registers its records again after the store lost its data (docs/specification.md section 4):
   * the inflight count cannot be believed yet, so the drain status is `unknown` and upgrades are refused.
   */
  recovering (): Promise<boolean>
}

/** The operator keys every instance reads (docs/specification.md section 4). */
export interface ControlStore {
  /** Reads `drain`, `upgrade`, `active` now. */
  control (): Promise<ControlState>
  /** Calls `onChange` whenever the control state changes (any instance, within `redis.poll_interval_ms`). */
  watchControl (onChange: (state: ControlState) => void): () => void
  setDrain (value: DrainSwitch | null): Promise<void>
  setUpgrade (value: UpgradeFlag | null): Promise<void>
  setActive (color: Color): Promise<void>
}

/** Leases with fencing tokens (the coordinator's leader election, the reconciler's one-at-a-time). */
export interface LeaseStore {
  acquireLease (name: string, holder: string, ttlMs: number): Promise<Lease | null>
  /** Extends a held lease; false when it was lost (expired, or taken by another holder). */
  renewLease (name: string, lease: Lease, ttlMs: number): Promise<boolean>
  releaseLease (name: string, lease: Lease): Promise<void>
}

/** Small JSON documents and hashes owned by one part (the IBC watcher's height and pending packets, ...). */
export interface DocumentStore {
  getDoc<T> (name: string): Promise<T | null>
  setDoc (name: string, value: unknown): Promise<void>
  /** Fields of a named hash (e.g. pending packets keyed by `channel/sequence`). */
  hashSet (name: string, fields: Record<string, unknown>): Promise<void>
  hashDelete (name: string, fields: string[]): Promise<void>
  hashGetAll<T> (name: string): Promise<Record<string, T>>
}

/** One gateway instance of the namespace as the fleet's registry knows it (docs/specification.md section 4, *The fleet*). */
export interface InstanceRecord {
  id: string
  /** The gateway's release (package.json version). */
  version: string
  /** The key layout it writes (src/release.ts). */
  layout: string
  /** `gone`: it stopped refreshing its record for longer than the registry's TTL (read-time, never written). */
  state: 'serving' | 'leaving' | 'gone'
  started_at_ms: number
  last_seen_at_ms: number
  /** How many intents it admitted and has not seen end (its journal), as of its last refresh. */
  journaled: number
}

/** What `forgetInstance` did. */
export type ForgetResult =
  | { kind: 'forgotten', uncounted: number }
  | { kind: 'serving', record: InstanceRecord }
  | { kind: 'unknown' }

/** The fleet's registry: every instance registers, refreshes and deregisters itself. */
export interface RegistryStore {
  /** Writes this instance's record (last_seen_at = now); resolves to the whole fleet as read in the same step. */
  refreshInstance (record: Omit<InstanceRecord, 'last_seen_at_ms' | 'journaled' | 'state'> & { state: 'serving' | 'leaving' }): Promise<InstanceRecord[]>
  /** Removes this instance's record (it left: nothing it admitted is held outside the store any more). */
  deregisterInstance (id: string): Promise<void>
  /** The fleet: records not refreshed for the TTL read `gone`, and are dropped some time after. */
  instances (): Promise<InstanceRecord[]>
  /**
   * An operator gives up on an instance after a Redis loss: the count no longer waits for it to register again
   * what it admitted. `serving` (409) while it still refreshes as serving or leaving.
   */
  forgetInstance (id: string): Promise<ForgetResult>
}

export interface StoreLifecycle {
  readonly kind: 'redis' | 'embedded'
  /** Current health: `unavailable` while Redis cannot be reached, `recovering` after it lost its data. */
  health (): StoreHealth
  /** Resolves once the store answered at least once (start-up). */
  ready (): Promise<void>
  /** Writes of what happened upstream still waiting for the store to take them (0 when none can wait). */
  pendingRepairs (): number
  /** Replays those writes now; resolves when it stops (taken, or the store failed again). */
  flushRepairs (): Promise<void>
  /** Stops polling and closes connections; idempotent. */
  close (): Promise<void>
}

export interface Store extends IntentStore, ControlStore, LeaseStore, DocumentStore, RegistryStore, StoreLifecycle {}
