/**
 * The embedded store: one gateway instance, state in this process's memory, the same semantics as the Redis
 * store (the conformance suite runs against both). Each operation runs to completion without awaiting, so
 * admission is as atomic here as a Lua script is in Redis.
 * Limits: nothing survives a restart (inflight records, idempotency records, the drain switch), and nothing is
 * shared with another instance; run Redis for either. Operators drive it through the admin API (there is no
 * key to `redis-cli SET`).
 */
import type { Color, RedisSettings } from '../../config/schema.js'
import { InvalidCursorError } from '../../errors.js'
import { activeWrite, CONTROL_WRITE_DOC, drainValue, drainWrite, readControl, type RawControl } from '../control.js'
import { ControlWatcher } from '../control-watcher.js'
import { ENDED_LOG_CAP } from '../keys.js'
import { checkRecord, emptyCounts, NO_FINGERPRINT } from '../records.js'
import { DEFAULT_ENDED_RETENTION_SECS, type StoreLogger, type StoreOptions } from '../options.js'
import type {
  ForgetResult, InstanceRecord,
  AdmitRequest, AdmitResult, ControlState, DrainSwitch, EndedIntent, EndedRoute, InflightPage, InflightRecord, Lease, Store, StoredResponse,
  StoreHealth, UpgradeFlag
} from '../types.js'

interface IdempotencyEntry {
  /** `p` in progress, `u` outcome unknown, `r` answered (`response` set). */
  state: 'p' | 'u' | 'r'
  fingerprint: string
  response: StoredResponse | null
  expiresAtMs: number
}

interface EndedEntry { route: EndedRoute, expiresAtMs: number }

interface HeldLease { holder: string, token: number, expiresAtMs: number }

/** How often expired idempotency records are swept (they are also ignored on read once expired). */
const SWEEP_INTERVAL_MS = 60_000
/**
 * At most this many answered idempotency records are kept; beyond, the oldest are forgotten first, so traffic
 * (anonymous or not) cannot grow this process without limit. Records of inflight intents are never dropped.
 */
export const DEFAULT_MAX_IDEMPOTENCY_ENTRIES = 500_000

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const
  private readonly idempotency = new Map<string, IdempotencyEntry>()
  /** Admission key → record (id and phase included). */
  private readonly records = new Map<string, InflightRecord>()
  /** Owner → the admission scopes it holds → when each one's idempotency record expires (ms). */
  private readonly ownerKeys = new Map<string, Map<string, number>>()
  /** Intent id → admission key. */
  private readonly ids = new Map<string, string>()
  private readonly endings: EndedIntent[] = []
  /** Intent id → how it ended, for status reads after the record is gone; expires like an idempotency record. */
  private readonly endedRoutes = new Map<string, EndedEntry>()
  private readonly endedRetentionMs: number
  private readonly raw: RawControl = { drain: null, drainStarted: null, upgrade: null, active: null }
  private lastGoodActive: Color | null = null
  private readonly leases = new Map<string, HeldLease>()
  private readonly fences = new Map<string, number>()
  private readonly docs = new Map<string, string>()
  private readonly hashes = new Map<string, Map<string, string>>()
  private readonly watcher: ControlWatcher
  private readonly sweeper: NodeJS.Timeout
  private readonly log: StoreLogger | undefined
  private readonly maxIdempotencyEntries: number

  constructor (_config?: RedisSettings, options: StoreOptions = {}) {
    this.log = options.logger
    this.maxIdempotencyEntries = options.maxIdempotencyEntries ?? DEFAULT_MAX_IDEMPOTENCY_ENTRIES
    this.endedRetentionMs = (options.endedRetentionSecs ?? DEFAULT_ENDED_RETENTION_SECS) * 1000
    this.watcher = new ControlWatcher(async () => await this.control(), null,
      (err) => this.log?.error({ err }, 'store: a control-state listener threw'))
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS)
    this.sweeper.unref()
  }

  async admit (req: AdmitRequest): Promise<AdmitResult> {
    const record = req.record
    checkRecord(record)
    const fingerprint = record.fingerprint ?? NO_FINGERPRINT
    const entry = this.idempotencyEntry(record.key)
    if (entry !== null) {
      if (entry.fingerprint !== fingerprint && entry.fingerprint !== NO_FINGERPRINT && fingerprint !== NO_FINGERPRINT) return { kind: 'mismatch' }
      if (entry.state === 'r' && entry.response !== null) return { kind: 'replay', response: structuredClone(entry.response) }
      const known = this.records.get(record.key)
      if (entry.state === 'u' && known !== undefined) return { kind: 'unknown', record: structuredClone(known) }
      return { kind: 'in_progress' }
    }
    const known = this.records.get(record.key)
    if (known !== undefined) return known.phase === 'unknown' ? { kind: 'unknown', record: structuredClone(known) } : { kind: 'in_progress' }
    if (this.raw.upgrade !== null || this.raw.drain !== null) {
      if (this.raw.drain !== null) this.raw.drainStarted ??= String(Date.now())
      const state = readControl(this.raw, this.lastGoodActive)
      return { kind: 'refused', reason: state.upgrade !== null ? 'upgrading' : 'draining', drain: state.drain, upgrade: state.upgrade }
    }
    if (req.ownerKeys !== undefined) {
      const now = Date.now()
      let held = this.ownerKeys.get(req.ownerKeys.owner)
      if (held === undefined) this.ownerKeys.set(req.ownerKeys.owner, held = new Map())
      for (const [scope, expires] of held) if (expires <= now) held.delete(scope)
      if (held.size >= req.ownerKeys.max) {
        const oldest = Math.min(...held.values())
        return { kind: 'owner_limit', retryAfterSecs: Math.max(1, Math.ceil((oldest - now) / 1000)) }
      }
      held.set(record.key, now + req.idempotencyTtlSecs * 1000)
    }
    // Kept as given (optional fields absent stay absent), like the Redis store reads it back.
    this.records.set(record.key, { ...structuredClone(record), id: null, phase: 'submitting' })
    this.remember(record.key, { state: 'p', fingerprint, response: null, expiresAtMs: Date.now() + req.idempotencyTtlSecs * 1000 })
    return { kind: 'admitted' }
  }

  async bind (key: string, id: string, response: StoredResponse, idempotencyTtlSecs: number, phase = 'accepted'): Promise<void> {
    this.answer(key, response, idempotencyTtlSecs)
    const record = this.records.get(key)
    if (record === undefined) return
    const other = this.ids.get(id)
    if (other !== undefined && other !== key && this.records.has(other)) {
      this.records.delete(key)
      return
    }
    if (record.id !== null && record.id !== id) this.ids.delete(record.id)
    record.id = id
    record.phase = phase
    delete record.unknown_since_ms
    this.ids.set(id, key)
  }

  async release (key: string, response: StoredResponse | null, idempotencyTtlSecs: number): Promise<void> {
    this.removeRecord(key)
    if (response === null) this.idempotency.delete(key)
    else this.answer(key, response, idempotencyTtlSecs)
  }

  async markUnknown (key: string, idempotencyTtlSecs: number): Promise<boolean> {
    const record = this.records.get(key)
    if (record === undefined || record.id !== null) return false
    if (record.phase !== 'unknown') {
      record.phase = 'unknown'
      record.unknown_since_ms = Date.now()
    }
    const fingerprint = this.idempotency.get(key)?.fingerprint ?? record.fingerprint ?? NO_FINGERPRINT
    this.remember(key, { state: 'u', fingerprint, response: null, expiresAtMs: Date.now() + idempotencyTtlSecs * 1000 })
    return true
  }

  async complete (id: string, status: string, via: EndedIntent['via']): Promise<boolean> {
    const key = this.ids.get(id)
    if (key === undefined) return false
    this.ids.delete(id)
    const record = this.records.get(key)
    if (record === undefined || record.id !== id) return false
    this.records.delete(key)
    const now = Date.now()
    this.endings.push({ id, key, upstream: record.upstream, status, via, ended_at_ms: now })
    const route = { upstream: record.upstream, version: record.version, upstream_version: record.upstream_version, status }
    this.endedRoutes.set(id, { route, expiresAtMs: now + this.endedRetentionMs })
    if (this.endings.length > 2 * ENDED_LOG_CAP) this.endings.splice(0, this.endings.length - ENDED_LOG_CAP)
    return true
  }

  async setPhase (id: string, phase: string): Promise<void> {
    const key = this.ids.get(id)
    const record = key === undefined ? undefined : this.records.get(key)
    if (record !== undefined) record.phase = phase
  }

  async inflight (): Promise<InflightRecord[]> {
    return [...this.records.values()].map((r) => structuredClone(r))
  }

  async inflightPage (limit: number, cursor: string | null): Promise<InflightPage> {
    const sorted = [...this.records.values()].sort(byAdmission)
    let start = 0
    if (cursor !== null && cursor !== '') {
      // `<key>\n<ms>`: the page goes on after that record's place in admission order, whether it ended or not.
      const text = Buffer.from(cursor, 'base64url').toString('utf8')
      const nl = text.lastIndexOf('\n')
      const ms = Number(text.slice(nl + 1))
      if (nl < 1 || !Number.isFinite(ms)) throw new InvalidCursorError(cursor)
      const key = text.slice(0, nl)
      start = sorted.findIndex((r) => r.created_at_ms > ms || (r.created_at_ms === ms && r.key > key))
      if (start === -1) start = sorted.length
    }
    const page = sorted.slice(start, start + limit)
    const last = page[page.length - 1]
    const more = start + limit < sorted.length && last !== undefined
    return {
      records: page.map((r) => structuredClone(r)),
      next_cursor: more ? Buffer.from(`${last.key}\n${last.created_at_ms}`, 'utf8').toString('base64url') : null
    }
  }

  async inflightCount (): Promise<number> {
    return this.records.size
  }

  async inflightByUpstream (): Promise<Record<Color, number>> {
    const counts = emptyCounts()
    for (const record of this.records.values()) counts[record.upstream]++
    return counts
  }

  async oldestInflightMs (): Promise<number | null> {
    let oldest: number | null = null
    for (const record of this.records.values()) if (oldest === null || record.created_at_ms < oldest) oldest = record.created_at_ms
    return oldest
  }

  async inflightById (id: string): Promise<InflightRecord | null> {
    const key = this.ids.get(id)
    const record = key === undefined ? undefined : this.records.get(key)
    return record === undefined ? null : structuredClone(record)
  }

  async updateInflight (record: InflightRecord): Promise<boolean> {
    checkRecord(record)
    const current = this.records.get(record.key)
    if (current === undefined) return false
    if (current.id !== null && current.id !== record.id && this.ids.get(current.id) === record.key) this.ids.delete(current.id)
    if (record.id !== null) this.ids.set(record.id, record.key)
    this.records.set(record.key, structuredClone(record))
    return true
  }

  async replaceInflight (records: InflightRecord[]): Promise<void> {
    records.forEach(checkRecord)
    this.records.clear()
    this.ids.clear()
    for (const record of records) {
      this.records.set(record.key, structuredClone(record))
      if (record.id !== null) this.ids.set(record.id, record.key)
    }
  }

  async endedById (id: string): Promise<EndedRoute | null> {
    const entry = this.endedRoutes.get(id)
    if (entry === undefined) return null
    if (entry.expiresAtMs <= Date.now()) {
      this.endedRoutes.delete(id)
      return null
    }
    return { ...entry.route }
  }

  async ended (limit: number): Promise<EndedIntent[]> {
    if (limit <= 0) return []
    return this.endings.slice(-Math.min(limit, ENDED_LOG_CAP)).reverse().map((e) => ({ ...e }))
  }

  /** Nothing to register again: this store's data lives and dies with the process. */
  async recovering (): Promise<boolean> {
    return false
  }

  // The fleet of an embedded store is this one process: its registry is the record it refreshes.
  private self: InstanceRecord | null = null

  async refreshInstance (record: Omit<InstanceRecord, 'last_seen_at_ms' | 'journaled' | 'state'> & { state: 'serving' | 'leaving' }): Promise<InstanceRecord[]> {
    this.self = { ...record, last_seen_at_ms: Date.now(), journaled: 0 }
    return [{ ...this.self }]
  }

  async deregisterInstance (id: string): Promise<void> {
    if (this.self?.id === id) this.self = null
  }

  async instances (): Promise<InstanceRecord[]> {
    return this.self === null ? [] : [{ ...this.self }]
  }

  async forgetInstance (id: string): Promise<ForgetResult> {
    return this.self?.id === id ? { kind: 'serving', record: { ...this.self } } : { kind: 'unknown' }
  }

  async control (): Promise<ControlState> {
    const state = readControl(this.raw, this.lastGoodActive)
    if (state.active !== null) this.lastGoodActive = state.active
    return state
  }

  watchControl (onChange: (state: ControlState) => void): () => void {
    return this.watcher.watch(onChange)
  }

  async setDrain (value: DrainSwitch | null): Promise<void> {
    if (value === null) {
      this.raw.drain = null
      this.raw.drainStarted = null
    } else {
      this.raw.drain = drainValue(value)
      this.raw.drainStarted ??= String(Date.now())
    }
    this.docs.set(CONTROL_WRITE_DOC, drainWrite(value))
    this.watcher.check()
  }

  async setUpgrade (value: UpgradeFlag | null): Promise<void> {
    this.raw.upgrade = value === null ? null : JSON.stringify(value)
    this.watcher.check()
  }

  async setActive (color: Color): Promise<void> {
    this.raw.active = color
    this.docs.set(CONTROL_WRITE_DOC, activeWrite(color))
    this.watcher.check()
  }

  async acquireLease (name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const now = Date.now()
    const held = this.leases.get(name)
    if (held !== undefined && held.expiresAtMs > now) {
      if (held.holder !== holder) return null
      held.expiresAtMs = now + ttlMs
      return { holder, token: held.token }
    }
    const token = (this.fences.get(name) ?? 0) + 1
    this.fences.set(name, token)
    this.leases.set(name, { holder, token, expiresAtMs: now + ttlMs })
    return { holder, token }
  }

  async renewLease (name: string, lease: Lease, ttlMs: number): Promise<boolean> {
    const held = this.heldBy(name, lease)
    if (held === null) return false
    held.expiresAtMs = Date.now() + ttlMs
    return true
  }

  async releaseLease (name: string, lease: Lease): Promise<void> {
    if (this.heldBy(name, lease) !== null) this.leases.delete(name)
  }

  async getDoc<T> (name: string): Promise<T | null> {
    const json = this.docs.get(name)
    return json === undefined ? null : JSON.parse(json) as T
  }

  async setDoc (name: string, value: unknown): Promise<void> {
    this.docs.set(name, JSON.stringify(value))
  }

  async hashSet (name: string, fields: Record<string, unknown>): Promise<void> {
    let hash = this.hashes.get(name)
    if (hash === undefined) this.hashes.set(name, hash = new Map())
    for (const [field, value] of Object.entries(fields)) hash.set(field, JSON.stringify(value))
  }

  async hashDelete (name: string, fields: string[]): Promise<void> {
    const hash = this.hashes.get(name)
    if (hash === undefined) return
    for (const field of fields) hash.delete(field)
    if (hash.size === 0) this.hashes.delete(name)
  }

  async hashGetAll<T> (name: string): Promise<Record<string, T>> {
    const hash = this.hashes.get(name) ?? new Map<string, string>()
    return Object.fromEntries([...hash].map(([field, json]) => [field, JSON.parse(json) as T]))
  }

  health (): StoreHealth {
    return 'ready'
  }

  async ready (): Promise<void> {}

  /** Every write lands at once in the process: nothing ever waits. */
  pendingRepairs (): number {
    return 0
  }

  async flushRepairs (): Promise<void> {}

  async close (): Promise<void> {
    this.watcher.close()
    clearInterval(this.sweeper)
  }

  private idempotencyEntry (key: string): IdempotencyEntry | null {
    const entry = this.idempotency.get(key)
    if (entry === undefined) return null
    if (entry.expiresAtMs <= Date.now()) {
      this.idempotency.delete(key)
      return null
    }
    return entry
  }

  /** Keeps an answer for replays under the key's fingerprint. */
  private answer (key: string, response: StoredResponse, ttlSecs: number): void {
    const fingerprint = this.idempotency.get(key)?.fingerprint ?? this.records.get(key)?.fingerprint ?? NO_FINGERPRINT
    this.remember(key, { state: 'r', fingerprint, response: structuredClone(response), expiresAtMs: Date.now() + ttlSecs * 1000 })
  }

  /** Sets an idempotency record as the newest, then forgets the oldest answered ones beyond the bound. */
  private remember (key: string, entry: IdempotencyEntry): void {
    this.idempotency.delete(key)
    this.idempotency.set(key, entry)
    if (this.idempotency.size <= this.maxIdempotencyEntries) return
    for (const [oldKey, old] of this.idempotency) {
      if (this.idempotency.size <= this.maxIdempotencyEntries) break
      if (old.state === 'r' || !this.records.has(oldKey)) this.idempotency.delete(oldKey)
    }
  }

  private removeRecord (key: string): void {
    const record = this.records.get(key)
    if (record === undefined) return
    this.records.delete(key)
    if (record.id !== null && this.ids.get(record.id) === key) this.ids.delete(record.id)
  }

  private heldBy (name: string, lease: Lease): HeldLease | null {
    const held = this.leases.get(name)
    if (held === undefined || held.expiresAtMs <= Date.now()) return null
    return held.holder === lease.holder && held.token === lease.token ? held : null
  }

  private sweep (): void {
    const now = Date.now()
    for (const [key, entry] of this.idempotency) if (entry.expiresAtMs <= now) this.idempotency.delete(key)
    for (const [id, entry] of this.endedRoutes) if (entry.expiresAtMs <= now) this.endedRoutes.delete(id)
    for (const [name, lease] of this.leases) if (lease.expiresAtMs <= now) this.leases.delete(name)
    for (const [owner, held] of this.ownerKeys) {
      for (const [scope, expires] of held) if (expires <= now) held.delete(scope)
      if (held.size === 0) this.ownerKeys.delete(owner)
    }
  }
}

function byAdmission (a: InflightRecord, b: InflightRecord): number {
  return a.created_at_ms - b.created_at_ms || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}
