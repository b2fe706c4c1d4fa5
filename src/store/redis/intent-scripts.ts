/**
 * The intent path's scripts that are not grouped (admission and bind are: ./submission-scripts.ts), one typed
 * method each. The keys a script touches are named here once, from the namespace's keys; its arguments come by
 * field and go out in the order its header (scripts/<name>.lua) lists them.
 */
import { ENDED_LOG_CAP, inflightHandle, type StoreKeys } from '../keys.js'
import type { ScriptedRedis } from './scripts.js'

export interface ReleaseCall {
  scope: string
  /** The response kept for replays, or '' (the key is forgotten). */
  response: string
  ttlSecs: number
  /** Only while the key is still this admission in progress (the clean-up of a lost answer), or '' (any). */
  marker: string
  fingerprint: string
}

export interface MarkUnknownCall {
  scope: string
  nowMs: number
  ttlSecs: number
  fingerprint: string
}

export interface ReregisterCall {
  scope: string
  record: string
  upstream: string
  admittedAtMs: number
  /** The last status seen, `unknown:<since ms>`, or '' (submitting). */
  phase: string
  /** The intent id, or '' (not bound). */
  id: string
  /** The idempotency key's value (see admit.lua). */
  idempotency: string
  ttlSecs: number
}

export interface CompleteCall {
  id: string
  status: string
  via: string
  nowMs: number
  /** The ended-ids bucket of now (keys.ts, endedIds). */
  bucket: number
  /** How long that bucket lives (s). */
  bucketTtlSecs: number
}

export interface UpdateCall {
  scope: string
  record: string
  upstream: string
  phase: string
  /** The intent id, or ''. */
  id: string
}

export class IntentScripts {
  /** `layout`: the key layout this instance writes (reregister.lua keeps records under handles from 4). */
  constructor (private readonly client: ScriptedRedis, private readonly keys: StoreKeys, private readonly layout: number) {}

  /** 1: a record was removed; 0: none was there; -1: the marker did not match. */
  async release (c: ReleaseCall): Promise<number> {
    const k = this.keys
    return await this.client.igRelease(
      k.idem(c.scope), k.inflight, k.inflightOwner, k.inflightPhase, k.inflightBound, k.inflightIds, k.inflightSince, k.inflightCount,
      k.replays, c.scope, c.response, c.ttlSecs, c.marker, c.fingerprint, inflightHandle(c.scope))
  }

  /** 1: marked (or already unknown); 0: the record is gone or bound. */
  async markUnknown (c: MarkUnknownCall): Promise<number> {
    const k = this.keys
    return await this.client.igMarkUnknown(k.idem(c.scope), k.inflight, k.inflightPhase, k.inflightBound,
      c.scope, c.nowMs, c.ttlSecs, c.fingerprint, inflightHandle(c.scope))
  }

  /** 1: registered; 0: it was there already. */
  async reregister (c: ReregisterCall): Promise<number> {
    const k = this.keys
    return await this.client.igReregister(
      k.idem(c.scope), k.inflight, k.inflightOwner, k.inflightPhase, k.inflightBound, k.inflightIds, k.inflightSince, k.inflightCount,
      c.scope, c.record, c.upstream, c.admittedAtMs, c.phase, c.id, c.idempotency, c.ttlSecs, inflightHandle(c.scope), this.layout)
  }

  /** 1: it was inflight; 0 otherwise. */
  async complete (c: CompleteCall): Promise<number> {
    const k = this.keys
    return await this.client.igComplete(
      k.inflight, k.inflightOwner, k.inflightPhase, k.inflightBound, k.inflightIds, k.ended, k.endedIds(c.bucket), k.inflightSince,
      k.inflightCount, c.id, c.status, c.via, c.nowMs, ENDED_LOG_CAP, c.bucketTtlSecs, this.layout)
  }

  async setPhase (c: { id: string, phase: string }): Promise<number> {
    const k = this.keys
    return await this.client.igSetPhase(k.inflight, k.inflightPhase, k.inflightIds, c.id, c.phase)
  }

  /** `[record JSON, phase]`, or an empty list when no record is bound to the id. */
  async lookup (c: { id: string }): Promise<string[]> {
    const k = this.keys
    return await this.client.igLookup(k.inflight, k.inflightPhase, k.inflightIds, c.id)
  }

  /** 1: replaced; 0: the record is gone. */
  async update (c: UpdateCall): Promise<number> {
    const k = this.keys
    return await this.client.igUpdate(k.inflight, k.inflightOwner, k.inflightPhase, k.inflightBound, k.inflightIds, k.inflightCount,
      c.scope, c.record, c.upstream, c.phase, c.id, inflightHandle(c.scope))
  }

  /** The stored route of an ended intent: the newest of `buckets` (ended-ids buckets, newest first) holding it. */
  async endedLookup (c: { id: string, buckets: number[] }): Promise<string | null> {
    const k = this.keys
    const keys = [...c.buckets.map((b) => k.endedIds(b)), k.endedId(c.id)]
    return await this.client.igEndedLookup(keys.length, ...keys, c.id)
  }
}
