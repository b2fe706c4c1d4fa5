/**
 * The store: the only part of intent-gate that knows where shared state lives. Two implementations sit behind
 * this interface (Redis for several instances, an embedded one for a single instance) and one conformance suite
 * (test/store/conformance.ts) runs against both.
 *
 * Keys (Redis): everything under `intent-gate:{<ns>}:` so one namespace is one hash slot. Operators use
 * `drain`, `active` and `upgrade` (INTERFACE section 4); the rest is the gateway's own.
 * Times are Unix milliseconds inside the store; the admin API shows seconds.
 */
import type { Color } from '../config/schema.js'

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

export type IntentPhase = 'submitting' | 'accepted' | string

/** One inflight intent, registered before it is forwarded. */
export interface InflightRecord {
  /** The admission key: the Idempotency-Key header, or `<owner>:<nonce>` (one signed order is one intent). */
  key: string
  /** The intent id from the upstream's 2xx response; null until bound. */
  id: string | null
  /** The upstream (color) that owns it: status reads and reconciliation go there. */
  upstream: Color
  /** The client's version (responses are translated back to it). */
  version: string
  /** The version the body was forwarded in (the upstream's). */
  upstream_version: string
  created_at_ms: number
  /** Unix seconds after which it can no longer settle (the intent's own deadline, possibly extended). */
  deadline: number
  /** `submitting` until bound, then the last status the gateway saw. */
  phase: IntentPhase
  /** The body as forwarded (the upstream's version); kept so stored intents can be migrated between versions. */
  intent: Record<string, unknown>
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

/** How an inflight intent ended; kept in a bounded log so an ending is reported, never silently dropped. */
export interface EndedIntent {
  id: string
  key: string
  upstream: Color
  status: string
  via: 'response' | 'reconciler' | 'admin' | 'chain' | 'expiry'
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

export type StoreHealth = 'ready' | 'unavailable'

export interface Store {
  readonly kind: 'redis' | 'embedded'

  /**
   * One atomic step: replay or in-progress for a known key; refusal while `drain` or `upgrade` is set; otherwise
   * register the record as inflight and the key as in progress. Throws StoreUnavailableError when the store
   * cannot answer (the caller fails closed).
   */
  admit (req: AdmitRequest): Promise<AdmitResult>
  /**
   * A 2xx arrived: bind the record to the intent id, keep the response for replays. `phase` is the status the
   * response reported (default `accepted`). If the id is already bound to another inflight key (the upstream
   * deduplicated the order itself), this record is dropped so the intent is counted once.
   * On StoreUnavailableError the store replays this write when Redis returns (as it does for `release` and
   * `complete`), so the accounting converges; the caller still answers its client.
   */
  bind (key: string, id: string, response: StoredResponse, idempotencyTtlSecs: number, phase?: string): Promise<void>
  /**
   * The submission did not create an intent: remove the record. With a response (an upstream status below 500)
   * the key keeps it for replays; without one (5xx, unreachable) the key is forgotten so a retry goes through.
   */
  release (key: string, response: StoredResponse | null, idempotencyTtlSecs: number): Promise<void>
  /** The intent reached a terminal status: end its record and log the ending. False when it was not inflight. */
  complete (id: string, status: string, via: EndedIntent['via']): Promise<boolean>
  /** Updates the last seen status of a bound, still inflight intent. */
  setPhase (id: string, phase: string): Promise<void>

  /** Every inflight record (bound or not). */
  inflight (): Promise<InflightRecord[]>
  /** The exact number of inflight records (one store read, no listing). */
  inflightCount (): Promise<number>
  /** Inflight counts per owning upstream. */
  inflightByUpstream (): Promise<Record<Color, number>>
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

  /** Reads `drain`, `upgrade`, `active` now. */
  control (): Promise<ControlState>
  /** Calls `onChange` whenever the control state changes (any instance, within `redis.poll_interval_ms`). */
  watchControl (onChange: (state: ControlState) => void): () => void
  setDrain (value: DrainSwitch | null): Promise<void>
  setUpgrade (value: UpgradeFlag | null): Promise<void>
  setActive (color: Color): Promise<void>

  /** Leases with fencing tokens (the coordinator's leader election). */
  acquireLease (name: string, holder: string, ttlMs: number): Promise<Lease | null>
  /** Extends a held lease; false when it was lost (expired, or taken by another holder). */
  renewLease (name: string, lease: Lease, ttlMs: number): Promise<boolean>
  releaseLease (name: string, lease: Lease): Promise<void>

  /** Small JSON documents owned by one part (the IBC watcher's height and pending packets, ...). */
  getDoc<T> (name: string): Promise<T | null>
  setDoc (name: string, value: unknown): Promise<void>
  /** Fields of a named hash (e.g. pending packets keyed by `channel/sequence`). */
  hashSet (name: string, fields: Record<string, unknown>): Promise<void>
  hashDelete (name: string, fields: string[]): Promise<void>
  hashGetAll<T> (name: string): Promise<Record<string, T>>

  /** Current health: `unavailable` while Redis cannot be reached. */
  health (): StoreHealth
  /** Resolves once the store answered at least once (start-up). */
  ready (): Promise<void>
  /** Stops polling and closes connections; idempotent. */
  close (): Promise<void>
}
