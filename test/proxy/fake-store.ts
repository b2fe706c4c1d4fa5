/**
 * TEMPORARY: an in-memory Store for developing the proxy tests until src/store/embedded lands; the final tests
 * use the real embedded store and a real Redis. Only what the proxy calls is implemented.
 */
import type { Color } from '../../src/config/schema.js'
import type { AdmitRequest, AdmitResult, ControlState, DrainSwitch, EndedIntent, InflightRecord, Lease, Store, StoredResponse } from '../../src/store/types.js'

export function fakeStore (): Store & { failing: boolean } {
  const inflight = new Map<string, InflightRecord>()
  const replies = new Map<string, StoredResponse>()
  const ended: EndedIntent[] = []
  const watchers = new Set<(s: ControlState) => void>()
  let drain: DrainSwitch | null = null
  let active: Color | null = null
  let lease: Lease | null = null
  let token = 0
  const state = (): ControlState => ({ drain, upgrade: null, active, invalid: [] })
  const notify = (): void => { for (const w of watchers) w(state()) }
  const self = {
    kind: 'embedded' as const,
    failing: false,
    check () { if (self.failing) throw new Error('store down') },
    async admit (req: AdmitRequest): Promise<AdmitResult> {
      self.check()
      const reply = replies.get(req.record.key)
      if (reply !== undefined) return { kind: 'replay', response: reply }
      if (inflight.has(req.record.key) && inflight.get(req.record.key)!.id === null) return { kind: 'in_progress' }
      if (drain !== null) return { kind: 'refused', reason: 'draining', drain, upgrade: null }
      inflight.set(req.record.key, { ...req.record, id: null, phase: 'submitting' })
      return { kind: 'admitted' }
    },
    async bind (key: string, id: string, response: StoredResponse) {
      self.check()
      const r = inflight.get(key)
      if (r !== undefined) { r.id = id; r.phase = 'accepted' }
      replies.set(key, response)
    },
    async release (key: string, response: StoredResponse | null) {
      self.check()
      inflight.delete(key)
      if (response !== null) replies.set(key, response)
    },
    async complete (id: string, status: string, via: EndedIntent['via']) {
      self.check()
      for (const [k, r] of inflight) {
        if (r.id === id) {
          inflight.delete(k)
          ended.unshift({ id, key: k, upstream: r.upstream, status, via, ended_at_ms: Date.now() })
          return true
        }
      }
      return false
    },
    async setPhase (id: string, phase: string) { for (const r of inflight.values()) if (r.id === id) r.phase = phase },
    async inflight () { self.check(); return [...inflight.values()].map((r) => ({ ...r })) },
    async inflightCount () { return inflight.size },
    async inflightByUpstream () {
      const out: Record<Color, number> = { blue: 0, green: 0 }
      for (const r of inflight.values()) out[r.upstream]++
      return out
    },
    async inflightById (id: string) { self.check(); for (const r of inflight.values()) if (r.id === id) return { ...r }; return null },
    async updateInflight (record: InflightRecord) { if (!inflight.has(record.key)) return false; inflight.set(record.key, record); return true },
    async replaceInflight (records: InflightRecord[]) { inflight.clear(); for (const r of records) inflight.set(r.key, r) },
    async ended (limit: number) { return ended.slice(0, limit) },
    async control () { self.check(); return state() },
    watchControl (fn: (s: ControlState) => void) { watchers.add(fn); return () => { watchers.delete(fn) } },
    async setDrain (value: DrainSwitch | null) { drain = value === null ? null : { started_at_ms: Date.now(), ...value }; notify() },
    async setUpgrade () {},
    async setActive (color: Color) { active = color; notify() },
    async acquireLease (_name: string, holder: string) {
      if (lease !== null && lease.holder !== holder) return null
      lease = { holder, token: ++token }
      return lease
    },
    async renewLease (_name: string, l: Lease) { return lease?.token === l.token },
    async releaseLease () { lease = null },
    async getDoc () { return null },
    async setDoc () {},
    async hashSet () {},
    async hashDelete () {},
    async hashGetAll () { return {} },
    health: () => 'ready' as const,
    ready: async () => {},
    close: async () => {}
  }
  return self as unknown as Store & { failing: boolean }
}
