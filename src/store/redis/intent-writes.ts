/**
 * The submission path's writes: admission and bind by group commit (./submission-scripts.ts), release, unknown
 * outcome and completion. Each one that records what already happened upstream is journaled here first
 * (./admission-journal.ts) and, when Redis cannot take it, kept and replayed in order once it returns
 * (./intent-repairs.ts), so the inflight accounting converges even across an outage.
 */
import type { Color } from '../../config/schema.js'
import { StoreUnavailableError } from '../../errors.js'
import { parseDrain, parseUpgrade } from '../control.js'
import { inflightHandle } from '../keys.js'
import { checkRecord, decodeRecord, decodeResponse, encodeRecord, encodeResponse } from '../records.js'
import type { AdmitRequest, AdmitResult, EndedIntent, StoredResponse } from '../types.js'
import type { AdmissionJournal } from './admission-journal.js'
import { fingerprintArg } from './fingerprint-arg.js'
import { applyRepair, type Repair, type RepairTargets } from './intent-repairs.js'
import type { LayoutGate } from './layout.js'
import type { RedisCalls } from './redis-calls.js'
import { neverSent } from './redis-errors.js'
import { RepairQueue } from './repair-queue.js'
import type { ReplicaWait } from './replica-wait.js'
import type { AdmitReply } from './submission-scripts.js'

/** Beyond this many waiting writes the oldest are dropped (and logged): memory stays bounded in a long outage. */
const MAX_REPAIRS = 10_000
/** How soon waiting writes are retried after a timeout on a connection that stayed up. */
const REPAIR_RETRY_MS = 500

export interface IntentWritesOptions extends RepairTargets {
  journal: AdmissionJournal
  layout: LayoutGate
  /** Waits for replicas to acknowledge an admission (`redis.wait_replicas`); null: no wait. */
  replicaWait: ReplicaWait | null
  /** Prefix of this instance's in-progress markers; with a counter, each admission's marker is unique. */
  markerPrefix: string
  /** Writes records under short handles with compact headers (layout 4: keys.ts, inflightHandle; records.ts). */
  handles: boolean
  /** Whether a replay can be tried now (connected, not closing). */
  connected: () => boolean
}

export class IntentWrites {
  /** Writes of what happened upstream that did not reach Redis yet, replayed in order (./repair-queue.ts). */
  readonly repairs: RepairQueue<Repair>
  private admissions = 0

  constructor (private readonly calls: RedisCalls, private readonly o: IntentWritesOptions) {
    this.repairs = new RepairQueue<Repair>({
      apply: async (repair) => await applyRepair(repair, o),
      connected: o.connected,
      succeeded: () => { calls.failing = false },
      log: o.log,
      max: MAX_REPAIRS,
      retryMs: REPAIR_RETRY_MS
    })
  }

  async admit (req: AdmitRequest): Promise<AdmitResult> {
    const record = req.record
    checkRecord(record)
    this.o.layout.require('admit')
    const marker = this.o.markerPrefix + String(++this.admissions)
    const json = encodeRecord(record, this.o.handles)
    let reply: AdmitReply
    try {
      reply = await this.o.submissions.admit({
        scope: record.key,
        handle: inflightHandle(record.key),
        record: json,
        upstream: record.upstream,
        ttlSecs: req.idempotencyTtlSecs,
        nowMs: record.created_at_ms,
        marker,
        fingerprint: fingerprintArg(record.fingerprint),
        owner: req.ownerKeys?.owner ?? '',
        maxOwnerKeys: req.ownerKeys?.max ?? 0
      })
      this.calls.failing = false
    } catch (err) {
      // The answer was lost, not necessarily the admission: undo it (only if still ours) once Redis is back.
      if (!neverSent(err)) this.repairs.add({ kind: 'abandon', key: record.key, marker })
      throw this.calls.unavailable('admit', err)
    }
    const [kind, upgradeRaw, drainRaw, startedRaw] = reply
    switch (kind) {
      case 'admitted':
        this.o.journal.admitted(record.key, {
          json,
          upstream: record.upstream,
          createdAtMs: record.created_at_ms,
          fingerprint: record.fingerprint
        })
        if (this.o.replicaWait !== null && !await this.o.replicaWait.replicated()) {
          // Not on enough replicas in time: a crash of the primary could lose it. Undo it (while ours) and refuse.
          this.o.journal.released(record.key)
          await this.writeOrRepair('admit', { kind: 'abandon', key: record.key, marker }).catch(() => {})
          throw new StoreUnavailableError('store unavailable (admit): the replicas did not acknowledge the admission in time (redis.wait_replicas)')
        }
        return { kind: 'admitted' }
      case 'in_progress': return { kind: 'in_progress' }
      case 'mismatch': return { kind: 'mismatch' }
      case 'owner_limit': return { kind: 'owner_limit', retryAfterSecs: Math.max(1, Math.ceil((Number(upgradeRaw) - record.created_at_ms) / 1000)) }
      case 'replay': return { kind: 'replay', response: decodeResponse(await this.o.templates.resolve(upgradeRaw as string)) }
      case 'unknown': {
        // { 'unknown', record, owner, phase }: the record names its owner; the owner hash is the truth if they differ.
        const found = decodeRecord(upgradeRaw as string, null, startedRaw ?? null)
        if (drainRaw !== null && drainRaw !== undefined && drainRaw !== '') found.upstream = drainRaw as Color
        return { kind: 'unknown', record: found }
      }
      default: {
        const drain = drainRaw == null ? null : parseDrain(drainRaw, startedRaw ?? null).value
        const upgrade = upgradeRaw == null ? null : parseUpgrade(upgradeRaw).value
        return { kind: 'refused', reason: kind === 'upgrading' ? 'upgrading' : 'draining', drain, upgrade }
      }
    }
  }

  async bind (key: string, id: string, response: StoredResponse, idempotencyTtlSecs: number, phase = 'accepted'): Promise<void> {
    const journal = this.o.journal
    const record = journal.get(key)
    const encoded = encodeResponse(response)
    const repair: Repair = { kind: 'bind', key, id, response: encoded, ttl: idempotencyTtlSecs, phase, record: record === undefined ? undefined : { ...record } }
    journal.bound(key, id, phase, encoded)
    // Written to the journal file in this turn's check phase, before Redis can answer: the 202 waits for both.
    const journaled = journal.written()
    await this.writeOrRepair('bind', repair)
    await journaled
  }

  async release (key: string, response: StoredResponse | null, idempotencyTtlSecs: number): Promise<void> {
    this.o.journal.released(key)
    const repair: Repair = { kind: 'release', key, response: response === null ? '' : encodeResponse(response), ttl: idempotencyTtlSecs }
    await this.writeOrRepair('release', repair)
  }

  async markUnknown (key: string, idempotencyTtlSecs: number): Promise<boolean> {
    // Still journaled as ours: a bind that later finds the record missing can register it again.
    const at = Date.now()
    this.o.journal.unknown(key, at)
    return await this.writeOrRepair('markUnknown', { kind: 'unknown', key, ttl: idempotencyTtlSecs, at }) === 1
  }

  async complete (id: string, status: string, via: EndedIntent['via']): Promise<boolean> {
    this.o.journal.completed(id)
    return await this.writeOrRepair('complete', { kind: 'complete', id, status, via, at: Date.now() }) === 1
  }

  /** Applies a write now; if Redis cannot take it, keeps it for the reconnect and reports the failure. */
  private async writeOrRepair (op: string, repair: Repair): Promise<number> {
    try {
      const result = await applyRepair(repair, this.o)
      this.calls.failing = false
      return result
    } catch (err) {
      this.repairs.add(repair)
      throw this.calls.unavailable(op, err)
    }
  }
}
