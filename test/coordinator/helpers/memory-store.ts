/**
 * A STAND-IN Store for the coordinator's tests while src/store has no implementation in the tree yet; once the
 * embedded and Redis stores land, the tests run over those (see stores.ts) and this file only fills the gap.
 * It follows the Store contract as written in src/store/types.ts: atomic steps, lease fencing tokens.
 */
import type { Color } from '../../../src/config/schema.js'
import type {
  AdmitRequest, AdmitResult, ControlState, DrainSwitch, EndedIntent, InflightRecord, Lease, Store, StoredResponse, UpgradeFlag
} from '../../../src/store/types.js'

export class MemoryStore implements Store {
  readonly kind = 'embedded' as const
  private readonly records = new Map<string, InflightRecord>()
  private readonly responses = new Map<string, StoredResponse>()
  private drain: DrainSwitch | null = null
  private upgrade: UpgradeFlag | null = null
  private active: Color | null = null
  private readonly leases = new Map<string, { holder: string, token: number, expires: number }>()
  private tokenSeq = 0
  private readonly docs = new Map<string, string>()
  private readonly hashes = new Map<string, Map<string, string>>()
  private readonly endings: EndedIntent[] = []
  private readonly listeners = new Set<(s: ControlState) => void>()
  /** Tests flip this to simulate an outage. */
  down = false

  private check (): void { if (this.down) throw new Error('store unavailable') }

  async admit (req: AdmitRequest): Promise<AdmitResult> {
    this.check()
    const replay = this.responses.get(req.record.key)
    if (replay !== undefined) return { kind: 'replay', response: replay }
    if (this.records.has(req.record.key)) return { kind: 'in_progress' }
    if (this.upgrade !== null) return { kind: 'refused', reason: 'upgrading', drain: this.drain, upgrade: this.upgrade }
    if (this.drain !== null) return { kind: 'refused', reason: 'draining', drain: this.drain, upgrade: null }
    this.records.set(req.record.key, { ...req.record, id: null, phase: 'submitting' })
    return { kind: 'admitted' }
  }

  async bind (key: string, id: string, response: StoredResponse): Promise<void> {
    const r = this.records.get(key)
    if (r !== undefined) this.records.set(key, { ...r, id, phase: 'accepted' })
    this.responses.set(key, response)
  }

  async release (key: string, response: StoredResponse | null): Promise<void> {
    this.records.delete(key)
    if (response !== null) this.responses.set(key, response)
  }

  async complete (id: string, status: string, via: EndedIntent['via']): Promise<boolean> {
    this.check()
    for (const [key, r] of this.records) {
      if (r.id === id) {
        this.records.delete(key)
        this.endings.unshift({ id, key, upstream: r.upstream, status, via, ended_at_ms: Date.now() })
        return true
      }
    }
    return false
  }

  async setPhase (id: string, phase: string): Promise<void> {
    for (const [key, r] of this.records) if (r.id === id) this.records.set(key, { ...r, phase })
  }

  async inflight (): Promise<InflightRecord[]> { this.check(); return [...this.records.values()].map((r) => structuredClone(r)) }
  async inflightCount (): Promise<number> { this.check(); return this.records.size }
  async inflightByUpstream (): Promise<Record<Color, number>> {
    const counts: Record<Color, number> = { blue: 0, green: 0 }
    for (const r of this.records.values()) counts[r.upstream]++
    return counts
  }

  async inflightById (id: string): Promise<InflightRecord | null> {
    return [...this.records.values()].find((r) => r.id === id) ?? null
  }

  async updateInflight (record: InflightRecord): Promise<boolean> {
    this.check()
    if (!this.records.has(record.key)) return false
    this.records.set(record.key, structuredClone(record))
    return true
  }

  async replaceInflight (records: InflightRecord[]): Promise<void> {
    this.check()
    this.records.clear()
    for (const r of records) this.records.set(r.key, structuredClone(r))
  }

  async ended (limit: number): Promise<EndedIntent[]> { return this.endings.slice(0, limit) }

  async control (): Promise<ControlState> {
    this.check()
    return { drain: this.drain, upgrade: this.upgrade, active: this.active, invalid: [] }
  }

  watchControl (onChange: (state: ControlState) => void): () => void {
    this.listeners.add(onChange)
    return () => this.listeners.delete(onChange)
  }

  private async changed (): Promise<void> {
    const state = await this.control()
    for (const l of this.listeners) l(state)
  }

  async setDrain (value: DrainSwitch | null): Promise<void> { this.check(); this.drain = value; await this.changed() }
  async setUpgrade (value: UpgradeFlag | null): Promise<void> { this.check(); this.upgrade = value; await this.changed() }
  async setActive (color: Color): Promise<void> { this.check(); this.active = color; await this.changed() }

  async acquireLease (name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    this.check()
    const now = Date.now()
    const current = this.leases.get(name)
    if (current !== undefined && current.expires > now && current.holder !== holder) return null
    const token = ++this.tokenSeq
    this.leases.set(name, { holder, token, expires: now + ttlMs })
    return { holder, token }
  }

  async renewLease (name: string, lease: Lease, ttlMs: number): Promise<boolean> {
    this.check()
    const current = this.leases.get(name)
    if (current === undefined || current.token !== lease.token || current.expires <= Date.now()) return false
    current.expires = Date.now() + ttlMs
    return true
  }

  async releaseLease (name: string, lease: Lease): Promise<void> {
    const current = this.leases.get(name)
    if (current?.token === lease.token) this.leases.delete(name)
  }

  /** Test hook: the lease expires now (a leader that stalled past its TTL). */
  expireLease (name: string): void {
    const current = this.leases.get(name)
    if (current !== undefined) current.expires = 0
  }

  async getDoc<T> (name: string): Promise<T | null> {
    this.check()
    const raw = this.docs.get(name)
    return raw === undefined ? null : JSON.parse(raw) as T
  }

  async setDoc (name: string, value: unknown): Promise<void> {
    this.check()
    if (value === null) this.docs.delete(name)
    else this.docs.set(name, JSON.stringify(value))
  }

  async hashSet (name: string, fields: Record<string, unknown>): Promise<void> {
    const h = this.hashes.get(name) ?? new Map<string, string>()
    for (const [k, v] of Object.entries(fields)) h.set(k, JSON.stringify(v))
    this.hashes.set(name, h)
  }

  async hashDelete (name: string, fields: string[]): Promise<void> {
    for (const f of fields) this.hashes.get(name)?.delete(f)
  }

  async hashGetAll<T> (name: string): Promise<Record<string, T>> {
    const out: Record<string, T> = {}
    for (const [k, v] of this.hashes.get(name) ?? []) out[k] = JSON.parse(v) as T
    return out
  }

  health (): 'ready' | 'unavailable' { return this.down ? 'unavailable' : 'ready' }
  async ready (): Promise<void> {}
  async close (): Promise<void> {}
}
