/**
 * The Redis store: shared state for every gateway instance of one namespace. Admission, binding, release and
 * completion are Lua scripts (one round trip each; the admissions, and the binds, of one event-loop turn share
 * theirs: ./submission-scripts.ts); the operator keys are polled by one timer per instance.
 * While Redis cannot answer, every call fails at once with StoreUnavailableError (the gateway fails closed) and
 * the store heals by itself when Redis returns. Writes that record what already happened upstream (bind,
 * release, complete) and the clean-up of an admission whose answer was lost are replayed in order on reconnect,
 * so the inflight accounting converges even across an outage.
 */
import { randomUUID } from 'node:crypto'
import { withRedisDefaults, type Color, type RedisSettings } from '../../config/schema.js'
import { InvalidCursorError, LayoutMismatchError, StoreUnavailableError } from '../../errors.js'
import { HANDLE_LAYOUT, KEY_LAYOUTS, type KeyLayouts } from '../../release.js'
import { channels } from '../../observability/channels.js'
import { readControl, drainValue, parseDrain, parseUpgrade, CONTROL_WRITE_DOC, drainWrite, activeWrite } from '../control.js'
import { ControlWatcher } from '../control-watcher.js'
import { inflightHandle, storeKeys, ENDED_BUCKETS, endedBucketSecs, type StoreKeys } from '../keys.js'
import { checkRecord, decodeEnded, decodeEndedRoute, decodeRecord, decodeResponse, emptyCounts, encodeRecord, encodeResponse, endedAtSecsOf } from '../records.js'
import { DEFAULT_ENDED_RETENTION_SECS, type StoreLogger, type StoreOptions } from '../options.js'
import type {
  AdmitRequest, AdmitResult, ControlState, DrainSwitch, EndedIntent, EndedRoute, ForgetResult, InflightPage, InflightRecord,
  InstanceRecord, Lease,
  Store, StoredResponse, StoreHealth, UpgradeFlag
} from '../types.js'
import { createRedisClient, keepConnecting, MAX_RECONNECT_DELAY_MS, type RedisClient } from './connection.js'
import { ControlChannel } from './control-channel.js'
import { defineScripts, type ScriptedRedis } from './scripts.js'
import { ReplicaWait } from './replica-wait.js'
import { checkLayout } from './layout.js'
import { AdmissionJournal, type JournalEntry } from './admission-journal.js'
import { JournalFile } from './journal-file.js'
import { RepairQueue } from './repair-queue.js'
import { isConnectivityError, neverSent } from './redis-errors.js'
import { fingerprintArg, NO_FINGERPRINT_RAW } from './fingerprint-arg.js'
import { SubmissionScripts, type AdmitReply } from './submission-scripts.js'
import { IntentScripts } from './intent-scripts.js'
import { LeaseScripts } from './lease-scripts.js'
import { pollControl } from './control-script.js'
import { awaitedIn, encodeInstance, fleetOf, markAwaited, markDone, readFleet } from './registry.js'

/** A write to replay once Redis is back. */
type Repair =
  | { kind: 'abandon', key: string, marker: string }
  | { kind: 'bind', key: string, id: string, response: string, ttl: number, phase: string, record: Submitting | undefined }
  | { kind: 'release', key: string, response: string, ttl: number }
  | { kind: 'unknown', key: string, ttl: number, at: number }
  | { kind: 'complete', id: string, status: string, via: EndedIntent['via'], at: number }

/** What this instance admitted: enough to register the record again (./admission-journal.ts). */
type Submitting = JournalEntry

/** How long a transaction Redis discarded (EXECABORT) on a Cluster is sent again: a failover's settling time. */
const DISCARDED_RETRY_MS = 3_000

/** Redis discarded a MULTI because a queued command was refused: nothing of it ran. */
function isDiscardedTransaction (err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('EXECABORT')
}

/** At most this many admitted, not yet seen ended, records are journaled (the oldest are forgotten first). */
const MAX_JOURNAL = 100_000
/** How long an instance's "registering again" mark counts, unless it renews or clears it (it clears when done). */
const RECOVERY_MARK_MS = 60_000

/** Beyond this many waiting writes the oldest are dropped (and logged): memory stays bounded in a long outage. */
const MAX_REPAIRS = 10_000
/** How soon waiting writes are retried after a timeout on a connection that stayed up. */
const REPAIR_RETRY_MS = 500

export class RedisStore implements Store {
  readonly kind = 'redis' as const
  private readonly client: ScriptedRedis
  private readonly keys: StoreKeys
  /** Admission and bind, by group commit (./submission-scripts.ts). */
  private readonly scripts: SubmissionScripts
  /** The other scripts, by field (./intent-scripts.ts, ./lease-scripts.ts). */
  private readonly intentScripts: IntentScripts
  private readonly leaseScripts: LeaseScripts
  private readonly watcher: ControlWatcher
  /** Pub/sub beside the poll: control writes reach every instance within a round trip (./control-channel.ts). */
  private readonly controlChannel: ControlChannel
  private readonly log: StoreLogger | undefined
  private readonly endedRetentionSecs: number
  private readonly replicaWait: ReplicaWait | null
  /** Prefix of this instance's in-progress markers; with a counter, each admission's marker is unique. */
  private readonly markerPrefix: string
  private admissions = 0
  private failing = false
  private connectedOnce = false
  private lastGoodActive: Color | null = null
  private lastInvalidLogged = '[]'
  /** Writes of what happened upstream that did not reach Redis yet, replayed in order (./repair-queue.ts). */
  private readonly repairs: RepairQueue<Repair>
  private readonly journal: AdmissionJournal
  /** The journal on local disk (options.journalFile), so it outlives a restart; null keeps it in the process. */
  private readonly journalFile: JournalFile | null
  /** Whether the journal came from the file with entries: at the first connection those Redis still holds stay. */
  private journalLoaded = false
  private journalErrorLoggedAt = 0
  /**
   * The namespace's epoch as this instance first saw it (or, with a journal file, as it last saw it before a
   * restart): a different one later means Redis lost its data.
   */
  private epoch: string | null = null
  private recovery: Promise<void> | null = null
  /** How long a noticed loss counts as recovering for the whole namespace (see registerAgain). */
  private readonly lossGraceMs: number
  private closed: Promise<void> | null = null
  /** The key layouts this instance writes and reads (docs/store.md, "Two releases on one namespace"). */
  readonly layouts: KeyLayouts
  /** Writes records under short handles with compact headers (layout 4: keys.ts, inflightHandle; records.ts). */
  private readonly handles: boolean
  /**
   * Whether the namespace's layout is one this instance shares: nothing is admitted until a connection has
   * checked it, nor while it is one this instance cannot share (then the refusal, kept for health and start).
   */
  private layout: 'unchecked' | 'shared' | LayoutMismatchError = 'unchecked'
  /** This instance's id in the fleet's registry, and the fleet as its last refresh read it (./registry.ts). */
  private readonly instanceId: string
  private fleet: InstanceRecord[] = []
  private readonly readyPromise: Promise<void>
  private rejectReady: (err: Error) => void = () => {}

  constructor (settings: RedisSettings, options: StoreOptions = {}) {
    const config = withRedisDefaults(settings)
    this.keys = storeKeys(config.namespace)
    this.layouts = options.layouts ?? KEY_LAYOUTS
    this.handles = this.layouts.writes >= HANDLE_LAYOUT
    this.log = options.logger
    this.endedRetentionSecs = options.endedRetentionSecs ?? DEFAULT_ENDED_RETENTION_SECS
    // Every instance still connected sees the loss at its next reconnection attempt or control poll; twice
    // the longest of those covers a loaded machine.
    this.lossGraceMs = 2 * (MAX_RECONNECT_DELAY_MS + config.poll_interval_ms)
    const instance = options.instanceId ?? randomUUID().slice(0, 8)
    this.instanceId = instance
    // Random per process too: a restarted instance with the same id must not reuse its predecessor's markers.
    this.markerPrefix = `in_progress:${instance}.${randomUUID().slice(0, 8)}.`
    this.journalFile = options.journalFile === undefined ? null : new JournalFile(options.journalFile)
    const saved = this.journalFile?.load(config.namespace)
    if (saved !== undefined && saved.dropped > 0) this.log?.warn({ file: options.journalFile, dropped: saved.dropped }, 'store: the admission journal held another namespace\'s intents; dropped')
    if (saved !== undefined && saved.entries.length > 0) this.log?.info({ file: options.journalFile, journaled: saved.entries.length }, 'store: admission journal read from disk')
    this.journal = new AdmissionJournal(MAX_JOURNAL, this.journalFile, saved?.entries ?? [], (err) => {
      if (Date.now() - this.journalErrorLoggedAt < 10_000) return
      this.journalErrorLoggedAt = Date.now()
      this.log?.error({ err, file: options.journalFile }, 'store: cannot write the admission journal to disk; kept in memory and retried (a restart before it is written forgets those admissions)')
    })
    this.epoch = saved?.epoch ?? null
    this.journalLoaded = (saved?.entries.length ?? 0) > 0
    this.client = defineScripts(createRedisClient(config, `intent-gate:${instance}`, options.env))
    this.scripts = new SubmissionScripts(this.client, this.keys, this.layouts.writes)
    this.intentScripts = new IntentScripts(this.client, this.keys, this.layouts.writes)
    this.leaseScripts = new LeaseScripts(this.client, this.keys)
    this.repairs = new RepairQueue<Repair>({
      apply: async (repair) => await this.apply(repair),
      connected: () => this.client.status === 'ready' && this.closed === null,
      succeeded: () => { this.failing = false },
      log: this.log,
      max: MAX_REPAIRS,
      retryMs: REPAIR_RETRY_MS
    })
    this.replicaWait = config.wait_replicas > 0
      ? new ReplicaWait(this.client, this.keys.drain, config.wait_replicas, config.wait_timeout_ms)
      : null
    this.watcher = new ControlWatcher(async () => await this.control(), config.poll_interval_ms,
      (err) => this.log?.error({ err }, 'store: a control-state listener threw'))
    this.controlChannel = new ControlChannel(config, `intent-gate:${instance}`, options.env, `${this.keys.prefix}control`,
      () => { this.watcher.check() }, this.log)
    this.readyPromise = new Promise((resolve, reject) => {
      this.rejectReady = reject
      this.client.on('ready', () => {
        this.failing = false
        if (this.connectedOnce) this.log?.info({}, 'store: Redis connection restored')
        const first = !this.connectedOnce
        this.connectedOnce = true
        // Every (re)connection checks the key layout (a Redis that came back with other data, an instance of a
        // release that cannot share it) and changes nothing it cannot share: the first one before it marks the
        // epoch. After a loss the namespace holds only what instances register again (registerAgain).
        const checked = first
          ? checkLayout(this.client, this.keys, this.layouts).then(async () => { await this.checkEpoch() })
          : this.checkEpoch().then(async (lost) => { if (!lost) await checkLayout(this.client, this.keys, this.layouts) })
        checked.then(() => {
          this.layout = 'shared'
        }, (err: unknown) => {
          if (!(err instanceof LayoutMismatchError)) {
            this.log?.error({ err }, 'store: cannot check the namespace\'s key layout; retried on the next connection')
            return
          }
          this.layout = err
          if (first) this.rejectReady(err)
          else this.log?.error({ err }, 'store: the namespace is now on a key layout this instance cannot share; refusing intents')
        }).finally(() => {
          if (first) resolve()
          this.repairs.run().catch(() => {})
          this.watcher.check()
        })
      })
    })
    this.readyPromise.catch(() => {}) // a rejection nobody awaited (closed before Redis answered) is not an error
    // Expected while Redis is down (every reconnect attempt fails); health() and the close event report it.
    this.client.on('error', () => {})
    this.client.on('close', () => {
      if (this.connectedOnce && !this.failing && this.closed === null) this.log?.warn({}, 'store: Redis connection lost; failing closed until it returns')
      this.failing = true
    })
    keepConnecting(this.client, () => this.closed !== null,
      () => { this.log?.warn({}, 'store: the Redis client gave up reconnecting (an ioredis failover race); connecting again') })
    this.client.connect().catch(() => {})
  }

  // ---- admission and the inflight records -------------------------------------------------------------------

  async admit (req: AdmitRequest): Promise<AdmitResult> {
    const record = req.record
    checkRecord(record)
    this.requireSharedLayout('admit')
    const marker = this.markerPrefix + String(++this.admissions)
    const json = encodeRecord(record, this.handles)
    let reply: AdmitReply
    try {
      reply = await this.scripts.admit({
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
      this.failing = false
    } catch (err) {
      // The answer was lost, not necessarily the admission: undo it (only if still ours) once Redis is back.
      if (!neverSent(err)) this.repairs.add({ kind: 'abandon', key: record.key, marker })
      throw this.unavailable('admit', err)
    }
    const [kind, upgradeRaw, drainRaw, startedRaw] = reply
    switch (kind) {
      case 'admitted':
        this.journal.admitted(record.key, {
          json,
          upstream: record.upstream,
          createdAtMs: record.created_at_ms,
          fingerprint: record.fingerprint
        })
        if (this.replicaWait !== null && !await this.replicaWait.replicated()) {
          // Not on enough replicas in time: a crash of the primary could lose it. Undo it (while ours) and refuse.
          this.journal.released(record.key)
          await this.writeOrRepair('admit', { kind: 'abandon', key: record.key, marker }).catch(() => {})
          throw new StoreUnavailableError('store unavailable (admit): the replicas did not acknowledge the admission in time (redis.wait_replicas)')
        }
        return { kind: 'admitted' }
      case 'in_progress': return { kind: 'in_progress' }
      case 'mismatch': return { kind: 'mismatch' }
      case 'owner_limit': return { kind: 'owner_limit', retryAfterSecs: Math.max(1, Math.ceil((Number(upgradeRaw) - record.created_at_ms) / 1000)) }
      case 'replay': return { kind: 'replay', response: decodeResponse(upgradeRaw as string) }
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
    const record = this.journal.get(key)
    const encoded = encodeResponse(response)
    const repair: Repair = { kind: 'bind', key, id, response: encoded, ttl: idempotencyTtlSecs, phase, record: record === undefined ? undefined : { ...record } }
    this.journal.bound(key, id, phase, encoded)
    // Written to the journal file in this turn's check phase, before Redis can answer: the 202 waits for both.
    const journaled = this.journal.written()
    await this.writeOrRepair('bind', repair)
    await journaled
  }

  async release (key: string, response: StoredResponse | null, idempotencyTtlSecs: number): Promise<void> {
    this.journal.released(key)
    const repair: Repair = { kind: 'release', key, response: response === null ? '' : encodeResponse(response), ttl: idempotencyTtlSecs }
    await this.writeOrRepair('release', repair)
  }

  async markUnknown (key: string, idempotencyTtlSecs: number): Promise<boolean> {
    // Still journaled as ours: a bind that later finds the record missing can register it again.
    const at = Date.now()
    this.journal.unknown(key, at)
    return await this.writeOrRepair('markUnknown', { kind: 'unknown', key, ttl: idempotencyTtlSecs, at }) === 1
  }

  async complete (id: string, status: string, via: EndedIntent['via']): Promise<boolean> {
    this.journal.completed(id)
    return await this.writeOrRepair('complete', { kind: 'complete', id, status, via, at: Date.now() }) === 1
  }

  async setPhase (id: string, phase: string): Promise<void> {
    await this.call('setPhase', async () => await this.intentScripts.setPhase({ id, phase }))
  }

  async inflight (): Promise<InflightRecord[]> {
    const k = this.keys
    const [records, bound, phases] = await this.call('inflight', async () => {
      const results = await this.client.multi().hgetall(k.inflight).hgetall(k.inflightBound).hgetall(k.inflightPhase).exec()
      return unwrapMulti(results) as [Record<string, string>, Record<string, string>, Record<string, string>]
    })
    return Object.entries(records).map(([key, json]) => decodeRecord(json, bound[key] ?? null, phases[key] ?? null))
  }

  async inflightPage (limit: number, cursor: string | null): Promise<InflightPage> {
    const k = this.keys
    const after = parseCursor(cursor)
    // Ties on the same millisecond are ordered by key; fetch a few more than asked so a page never stalls on them.
    const entries = await this.call('inflightPage', async () => await this.client.zrangebyscore(k.inflightSince,
      after === null ? '-inf' : after.ms, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1 + PAGE_TIE_SLACK))
    const picked: Array<{ key: string, ms: number }> = []
    for (let i = 0; i + 1 < entries.length && picked.length <= limit; i += 2) {
      const key = entries[i] as string
      const ms = Number(entries[i + 1])
      if (after !== null && ms === after.ms && key <= after.key) continue
      picked.push({ key, ms })
    }
    const more = picked.length > limit
    const page = picked.slice(0, limit)
    if (page.length === 0) return { records: [], next_cursor: null }
    const keys = page.map((p) => p.key)
    const [records, bound, phases] = await this.call('inflightPage', async () => unwrapMulti(await this.client.multi()
      .hmget(k.inflight, ...keys).hmget(k.inflightBound, ...keys).hmget(k.inflightPhase, ...keys).exec()
    ) as [Array<string | null>, Array<string | null>, Array<string | null>])
    const out: InflightRecord[] = []
    keys.forEach((_key, i) => {
      const json = records[i]
      if (json !== null && json !== undefined) out.push(decodeRecord(json, bound[i] ?? null, phases[i] ?? null))
    })
    const last = page[page.length - 1] as { key: string, ms: number }
    return { records: out, next_cursor: more ? encodeCursor(last.ms, last.key) : null }
  }

  async inflightCount (): Promise<number> {
    return await this.call('inflightCount', async () => await this.client.hlen(this.keys.inflight))
  }

  async inflightByUpstream (): Promise<Record<Color, number>> {
    const stored = await this.call('inflightByUpstream', async () => await this.client.hgetall(this.keys.inflightCount))
    const counts = emptyCounts()
    for (const [owner, n] of Object.entries(stored)) if (owner in counts) counts[owner as Color] = Math.max(0, Number(n))
    return counts
  }

  async oldestInflightMs (): Promise<number | null> {
    const oldest = await this.call('oldestInflightMs', async () => await this.client.zrange(this.keys.inflightSince, 0, 0, 'WITHSCORES'))
    return oldest.length < 2 ? null : Number(oldest[1])
  }

  async inflightById (id: string): Promise<InflightRecord | null> {
    const found = await this.call('inflightById', async () => await this.intentScripts.lookup({ id }))
    if (found.length < 2) return null
    return decodeRecord(found[0] as string, id, found[1] === '' ? null : found[1] ?? null)
  }

  async updateInflight (record: InflightRecord): Promise<boolean> {
    checkRecord(record)
    const updated = await this.call('updateInflight', async () => await this.intentScripts.update({
      scope: record.key,
      record: encodeRecord(record, this.handles),
      upstream: record.upstream,
      phase: storedPhase(record),
      id: record.id ?? ''
    }))
    return updated === 1
  }

  async replaceInflight (records: InflightRecord[]): Promise<void> {
    records.forEach(checkRecord)
    const k = this.keys
    const tx = this.client.multi()
      .del(k.inflight, k.inflightOwner, k.inflightPhase, k.inflightBound, k.inflightIds, k.inflightSince, k.inflightCount)
    for (const record of records) {
      const field = this.handles ? inflightHandle(record.key) : record.key
      tx.hset(k.inflight, field, encodeRecord(record, this.handles)).hset(k.inflightOwner, field, record.upstream)
        .zadd(k.inflightSince, record.created_at_ms, field).hincrby(k.inflightCount, record.upstream, 1)
      if (record.phase !== 'submitting') tx.hset(k.inflightPhase, field, storedPhase(record))
      if (record.id !== null) tx.hset(k.inflightBound, field, record.id).hset(k.inflightIds, record.id, field)
    }
    await this.call('replaceInflight', async () => unwrapMulti(await tx.exec()))
  }

  async endedById (id: string): Promise<EndedRoute | null> {
    const width = endedBucketSecs(this.endedRetentionSecs)
    const newest = Math.floor(Date.now() / 1000 / width)
    const buckets = Array.from({ length: ENDED_BUCKETS + 2 }, (_, i) => newest - i)
    const raw = await this.call('endedById', async () => await this.intentScripts.endedLookup({ id, buckets }))
    if (raw === null) return null
    // The bucket outlives the retention by up to its width: the entry's own time decides. That time is whole
    // seconds rounded down, so the intent ended before at + 1: kept until the retention has surely run out.
    const at = endedAtSecsOf(raw)
    if (at !== null && (at + 1 + this.endedRetentionSecs) * 1000 <= Date.now()) return null
    return decodeEndedRoute(raw)
  }

  async ended (limit: number): Promise<EndedIntent[]> {
    if (limit <= 0) return []
    const items = await this.call('ended', async () => await this.client.lrange(this.keys.ended, 0, limit - 1))
    return items.map(decodeEnded)
  }

  async recovering (): Promise<boolean> {
    if (this.recovery !== null) return true
    const k = this.keys
    const [marks, epoch] = await this.call('recovering', async () => await Promise.all([this.client.hgetall(k.recovering), this.client.get(k.epoch)]))
    // A loss this instance has not handled yet (just reconnected, its epoch check still on the way), or began
    // handling while these reads were out: the count read beside this one may have seen an empty namespace.
    if ((this.epoch !== null && epoch !== this.epoch) || this.recovery !== null) return true
    // An instance that served before the loss and has not registered again (paused, partitioned, restarting).
    if (epoch !== null && awaitedIn(marks, epoch).length > 0) return true
    const now = Date.now()
    return Object.entries(marks).some(([field, until]) => !field.startsWith('awaiting:') && !field.startsWith('done:') && Number(until) > now)
  }

  // ---- the fleet's registry (./registry.ts) -------------------------------------------------------------------

  async refreshInstance (record: Omit<InstanceRecord, 'last_seen_at_ms' | 'journaled' | 'state'> & { state: 'serving' | 'leaving' }): Promise<InstanceRecord[]> {
    const now = Date.now()
    // A namespace this instance cannot share (or has not checked yet) is left untouched, registry included.
    this.requireSharedLayout('refreshInstance')
    const full: InstanceRecord = { ...record, last_seen_at_ms: now, journaled: this.journal.size }
    const k = this.keys
    const [, raw] = await this.call('refreshInstance', async () => unwrapMulti(await this.client.multi()
      .hset(k.instances, record.id, encodeInstance(full)).hgetall(k.instances).exec()) as [number, Record<string, string>])
    const { fleet, drop } = fleetOf(raw, now)
    if (drop.length > 0) await this.call('refreshInstance', async () => await this.client.hdel(k.instances, ...drop))
    this.fleet = fleet
    return fleet
  }

  async deregisterInstance (id: string): Promise<void> {
    this.requireSharedLayout('deregisterInstance')
    await this.call('deregisterInstance', async () => await this.client.hdel(this.keys.instances, id))
    this.fleet = this.fleet.filter((r) => r.id !== id)
  }

  /** The registry, and the instances still awaited after a Redis loss that have no record again yet. */
  async instances (): Promise<InstanceRecord[]> {
    const k = this.keys
    const [fleet, marks, epoch] = await this.call('instances', async () => await Promise.all([readFleet(this.client, k), this.client.hgetall(k.recovering), this.client.get(k.epoch)]))
    const awaited = epoch === null ? [] : awaitedIn(marks, epoch).filter((a) => !fleet.some((r) => r.id === a.id))
    return [...fleet, ...awaited]
  }

  async forgetInstance (id: string): Promise<ForgetResult> {
    const k = this.keys
    const [fleet, epoch] = await this.call('forgetInstance', async () => await Promise.all([readFleet(this.client, k), this.client.get(k.epoch)]))
    // Its record after the loss, if it registered again since; only a gone (or never back) instance is forgotten.
    const record = fleet.find((r) => r.id === id)
    if (record !== undefined && record.state !== 'gone') return { kind: 'serving', record }
    const cleared = epoch === null ? null : await this.call('forgetInstance', async () => await markDone(this.client, k, epoch, id))
    if (record === undefined && cleared === null) return { kind: 'unknown' }
    await this.call('forgetInstance', async () => await this.client.hdel(k.instances, id))
    const uncounted = cleared?.journaled ?? 0
    this.log?.warn({ instance: id, uncounted }, 'store: an operator forgot an instance; what it admitted and did not register again is no longer counted')
    return { kind: 'forgotten', uncounted }
  }

  // ---- control keys -----------------------------------------------------------------------------------------

  async control (): Promise<ControlState> {
    const { drain, drainStarted, upgrade, active, epoch } = await this.call('control',
      async () => await pollControl(this.client, this.keys, { nowMs: Date.now() }))
    // Every poll sees a flushed namespace, not only a reconnection.
    if (this.epoch !== null && epoch !== this.epoch && this.recovery === null) {
      this.checkEpoch().catch((err: unknown) => this.log?.error({ err }, 'store: cannot compare the namespace epoch'))
    }
    // A Redis that lost its data has no `active` until this instance's recovery sets the last good one again:
    // meanwhile the key's absence means the loss, not `proxy.initial_active` (which made the active color flap
    // green -> blue -> green for the few hundred ms the recovery took).
    const lost = this.lastGoodActive !== null && ((this.epoch !== null && epoch !== this.epoch) || this.recovery !== null)
    const state = readControl({ drain, drainStarted, upgrade, active: active ?? (lost ? this.lastGoodActive : null) }, this.lastGoodActive)
    if (state.active !== null) this.lastGoodActive = state.active
    this.reportInvalid(state)
    return state
  }

  watchControl (onChange: (state: ControlState) => void): () => void {
    return this.watcher.watch(onChange)
  }

  async setDrain (value: DrainSwitch | null): Promise<void> {
    const k = this.keys
    await this.call('setDrain', async () => {
      const tx = this.client.multi()
      if (value === null) tx.del(k.drain, k.drainStarted)
      else tx.set(k.drain, drainValue(value)).set(k.drainStarted, Date.now(), 'NX')
      tx.set(k.doc(CONTROL_WRITE_DOC), drainWrite(value))
      unwrapMulti(await this.controlChannel.publishIn(tx).exec())
    })
    this.watcher.check()
  }

  async setUpgrade (value: UpgradeFlag | null): Promise<void> {
    const k = this.keys
    await this.call('setUpgrade', async () => {
      const tx = value === null ? this.client.multi().del(k.upgrade) : this.client.multi().set(k.upgrade, JSON.stringify(value))
      unwrapMulti(await this.controlChannel.publishIn(tx).exec())
    })
    this.watcher.check()
  }

  async setActive (color: Color): Promise<void> {
    const tx = this.client.multi().set(this.keys.active, color).set(this.keys.doc(CONTROL_WRITE_DOC), activeWrite(color))
    await this.call('setActive', async () => unwrapMulti(await this.controlChannel.publishIn(tx).exec()))
    this.watcher.check()
  }

  // ---- leases -----------------------------------------------------------------------------------------------

  async acquireLease (name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const token = await this.call('acquireLease', async () => await this.leaseScripts.acquire({ name, holder, ttlMs }))
    return token === null ? null : { holder, token: Number(token) }
  }

  async renewLease (name: string, lease: Lease, ttlMs: number): Promise<boolean> {
    const renewed = await this.call('renewLease', async () => await this.leaseScripts.renew({ name, lease, ttlMs }))
    return renewed === 1
  }

  async releaseLease (name: string, lease: Lease): Promise<void> {
    await this.call('releaseLease', async () => await this.leaseScripts.release({ name, lease }))
  }

  // ---- documents and hashes of other parts --------------------------------------------------------------------

  async getDoc<T> (name: string): Promise<T | null> {
    const raw = await this.call('getDoc', async () => await this.client.get(this.keys.doc(name)))
    return raw === null ? null : JSON.parse(raw) as T
  }

  async setDoc (name: string, value: unknown): Promise<void> {
    await this.call('setDoc', async () => await this.client.set(this.keys.doc(name), JSON.stringify(value)))
  }

  async hashSet (name: string, fields: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(fields)
    if (entries.length === 0) return
    const flat = entries.flatMap(([field, value]) => [field, JSON.stringify(value)])
    await this.call('hashSet', async () => await this.client.hset(this.keys.hash(name), ...flat))
  }

  async hashDelete (name: string, fields: string[]): Promise<void> {
    if (fields.length === 0) return
    await this.call('hashDelete', async () => await this.client.hdel(this.keys.hash(name), ...fields))
  }

  async hashGetAll<T> (name: string): Promise<Record<string, T>> {
    const raw = await this.call('hashGetAll', async () => await this.client.hgetall(this.keys.hash(name)))
    return Object.fromEntries(Object.entries(raw).map(([field, json]) => [field, JSON.parse(json) as T]))
  }

  // ---- lifecycle --------------------------------------------------------------------------------------------

  health (): StoreHealth {
    if (this.client.status !== 'ready' || this.failing || this.layout !== 'shared') return 'unavailable'
    return this.recovery === null ? 'ready' : 'recovering'
  }

  async ready (): Promise<void> {
    await this.readyPromise
  }

  /** Writes still waiting for Redis to return (bind, release, complete, lost admissions). */
  pendingRepairs (): number {
    return this.repairs.pending
  }

  /** Replays the waiting writes now (they also run on every reconnect); resolves when it stops. */
  async flushRepairs (): Promise<void> {
    await this.repairs.run()
  }

  async close (): Promise<void> {
    this.closed ??= (async () => {
      this.rejectReady(new StoreUnavailableError('store closed before Redis answered'))
      this.watcher.close()
      this.repairs.close() // before the first await: no replay starts once closing began
      await this.controlChannel.close()
      try {
        if (this.client.status === 'ready') await this.client.quit()
      } catch {
        // quit failed: the disconnect below ends it anyway
      }
      this.client.disconnect()
      await this.journal.written()
      this.journalFile?.close()
    })()
    await this.closed
  }

  /** The raw client, for tests and tools that inspect Redis directly. */
  get redis (): RedisClient {
    return this.client
  }

  // ---- a Redis that forgot ---------------------------------------------------------------------------------

  /**
   * Every connection compares the namespace's epoch with the one this instance first saw. A Redis restarted
   * without persistence, failed over to an empty replica or flushed has none (or a newer one, set by another
   * instance that noticed first): the loss is reported and this instance's journal registered again.
   * Resolves to true when it noticed a loss.
   */
  private async checkEpoch (): Promise<boolean> {
    const k = this.keys
    const candidate = randomUUID()
    const previous = await this.client.set(k.epoch, candidate, 'NX', 'GET')
    const current = previous ?? candidate
    const known = this.epoch
    this.epoch = current
    if (known === current && this.journalLoaded) await this.pruneJournal()
    this.journalLoaded = false
    if (known === null) this.journal.saveEpoch(current)
    if (known === null || known === current) return false
    this.recovery ??= this.registerAgain(known).finally(() => { this.recovery = null })
    return true
  }

  /**
   * A restart with Redis intact: the journal read from disk keeps only the records Redis still holds (the others
   * ended while this process was away, at another instance's reconciler).
   */
  private async pruneJournal (): Promise<void> {
    const keys = this.journal.all().map(([key]) => key)
    const held = new Set<string>()
    for (let i = 0; i < keys.length; i += REGISTER_BATCH) {
      const batch = keys.slice(i, i + REGISTER_BATCH)
      // Either form: the record may be kept under its scope or its handle (another release wrote it).
      const found = await this.client.hmget(this.keys.inflight, ...batch, ...batch.map(inflightHandle))
      batch.forEach((key, j) => { if (found[j] !== null || found[batch.length + j] !== null) held.add(key) })
    }
    const pruned = this.journal.prune((key) => held.has(key))
    if (pruned > 0) this.log?.info({ pruned, journaled: this.journal.size }, 'store: journaled admissions that ended while this instance was away are dropped')
  }

  /** `previous`: the epoch before the loss, compared again at the next connection if this fails. */
  private async registerAgain (previous: string): Promise<void> {
    const k = this.keys
    const entries = this.journal.all()
    const mark = this.markerPrefix
    this.log?.error({ journaled: entries.length, forgotten: this.journal.forgotten }, 'store: Redis lost its data (the namespace epoch changed); registering this instance\'s inflight records again, drain status is unknown until done')
    if (channels.storeDataLost.hasSubscribers) channels.storeDataLost.publish({ journaled: entries.length })
    try {
      // Only each instance knows what it admitted, and the others may not have noticed yet (a later reconnection,
      // a paused process): the first to notice holds the whole namespace in `recovering` for as long as they
      // need to notice and set their own marks, so no instance's count of its own records passes for the total.
      await this.client.hsetnx(k.recovering, `loss:${String(this.epoch)}`, Date.now() + this.lossGraceMs)
      // However long the others take to notice (paused, partitioned, restarting): every instance this one last
      // saw serving is awaited until it registered again or an operator forgot it (./registry.ts).
      const epoch = String(this.epoch)
      await markAwaited(this.client, k, epoch, this.fleet.filter((r) => r.id !== this.instanceId))
      // The layout key went with the data. Missing, the next connection's layout migration would rebuild the
      // admission-time index and the counters from a snapshot while records are being written, and drop those
      // written in between: invisible to the reconciler, never ended, the drain stuck above zero.
      await this.client.set(k.layout, String(this.layouts.writes), 'NX')
      await this.client.hset(k.recovering, mark, Date.now() + RECOVERY_MARK_MS)
      if (this.lastGoodActive !== null) await this.client.set(k.active, this.lastGoodActive, 'NX')
      let registered = 0
      for (let i = 0; i < entries.length; i += REGISTER_BATCH) {
        const batch = entries.slice(i, i + REGISTER_BATCH)
        const results = await Promise.all(batch.map(async ([key, e]) => await this.intentScripts.reregister({
          scope: key,
          record: e.json,
          upstream: e.upstream,
          admittedAtMs: e.createdAtMs,
          phase: e.id !== undefined ? (e.phase ?? 'accepted') : e.unknownSinceMs !== undefined ? `unknown:${e.unknownSinceMs}` : '',
          id: e.id ?? '',
          idempotency: idempotencyValue(e),
          ttlSecs: this.endedRetentionSecs
        })))
        registered += results.filter((r) => r === 1).length
        await this.client.hset(k.recovering, mark, Date.now() + RECOVERY_MARK_MS)
      }
      await this.client.hdel(k.recovering, mark)
      await markDone(this.client, k, epoch, this.instanceId)
      // Only now: a process killed while registering finds the loss again at its next start.
      this.journal.saveEpoch(epoch)
      this.log?.warn({ registered, journaled: entries.length }, 'store: inflight records registered again after Redis lost its data')
    } catch (err) {
      // The mark expires by itself; the next reconnection tries again (the epoch is compared anew).
      this.epoch = previous
      this.log?.error({ err }, 'store: registering the inflight records again failed; retried on the next connection')
    }
  }

  // ---- internals --------------------------------------------------------------------------------------------

  /** Nothing is written to a namespace before its layout was checked, nor to one this instance cannot share. */
  private requireSharedLayout (op: string): void {
    if (this.layout !== 'shared') {
      throw new StoreUnavailableError(`store unavailable (${op}): ${this.layout === 'unchecked' ? 'the namespace\'s key layout is not checked yet' : this.layout.message}`)
    }
  }

  private async call<T> (op: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run()
      this.failing = false
      return result
    } catch (err) {
      if (this.client.isCluster && isDiscardedTransaction(err)) return await this.callAgainAfterDiscard(op, run, err)
      throw this.unavailable(op, err)
    }
  }

  /**
   * A Cluster node that has just taken over its slots (a promoted replica) can refuse the commands queued in a
   * MULTI for a moment (CLUSTERDOWN, MOVED, TRYAGAIN), and Redis then discards the whole transaction: EXECABORT.
   * Nothing of it ran, so sending it again is safe for any transaction; it is sent again until the node takes it,
   * within DISCARDED_RETRY_MS.
   */
  private async callAgainAfterDiscard<T> (op: string, run: () => Promise<T>, first: unknown): Promise<T> {
    const deadline = Date.now() + DISCARDED_RETRY_MS
    let last = first
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      try {
        const result = await run()
        this.failing = false
        return result
      } catch (err) {
        if (!isDiscardedTransaction(err)) throw this.unavailable(op, err)
        last = err
      }
    }
    throw this.unavailable(op, last)
  }

  private unavailable (op: string, err: unknown): StoreUnavailableError {
    if (err instanceof StoreUnavailableError) return err
    if (isConnectivityError(err)) this.failing = true
    const message = err instanceof Error ? err.message : String(err)
    return new StoreUnavailableError(`store unavailable (${op}): ${message}`, { cause: err })
  }

  private async apply (repair: Repair): Promise<number> {
    switch (repair.kind) {
      case 'abandon':
        return await this.intentScripts.release({
          scope: repair.key, response: '', ttlSecs: 0, marker: repair.marker, fingerprint: NO_FINGERPRINT_RAW
        })
      case 'bind': {
        // The fingerprint it admitted with, when journaled: bind.lua then reads and writes the key in one command.
        const fingerprint = fingerprintArg(repair.record?.fingerprint)
        const bind = async (record: Submitting | undefined): Promise<number> => await this.scripts.bind({
          scope: repair.key,
          handle: inflightHandle(repair.key),
          id: repair.id,
          response: repair.response,
          ttlSecs: repair.ttl,
          phase: repair.phase,
          record: record?.json ?? '',
          upstream: record?.upstream ?? '',
          fingerprint,
          admittedAtMs: record?.createdAtMs ?? ''
        })
        // The record travels again only in the rare case it went missing (see bind.lua).
        const bound = await bind(undefined)
        if (bound !== 0 || repair.record === undefined) return bound
        this.log?.warn({ key: repair.key, id: repair.id }, 'store: an admitted record was missing at bind (lost in a failover, or abandoned during an outage); registered again')
        return await bind(repair.record)
      }
      case 'release':
        return await this.intentScripts.release({
          scope: repair.key, response: repair.response, ttlSecs: repair.ttl, marker: '', fingerprint: NO_FINGERPRINT_RAW
        })
      case 'unknown':
        return await this.intentScripts.markUnknown({
          scope: repair.key, nowMs: repair.at, ttlSecs: repair.ttl, fingerprint: NO_FINGERPRINT_RAW
        })
      case 'complete': {
        const width = endedBucketSecs(this.endedRetentionSecs)
        return await this.intentScripts.complete({
          id: repair.id,
          status: repair.status,
          via: repair.via,
          nowMs: repair.at,
          bucket: Math.floor(Date.now() / 1000 / width),
          bucketTtlSecs: this.endedRetentionSecs + 2 * width
        })
      }
    }
  }

  /** Applies a write now; if Redis cannot take it, keeps it for the reconnect and reports the failure. */
  private async writeOrRepair (op: string, repair: Repair): Promise<number> {
    try {
      const result = await this.apply(repair)
      this.failing = false
      return result
    } catch (err) {
      this.repairs.add(repair)
      throw this.unavailable(op, err)
    }
  }

  private reportInvalid (state: ControlState): void {
    const invalid = JSON.stringify(state.invalid)
    if (invalid === this.lastInvalidLogged) return
    this.lastInvalidLogged = invalid
    if (state.invalid.length > 0) this.log?.warn({ invalid: state.invalid }, 'store: ignoring control values that make no sense')
  }
}

/** How many records past a page's end are read so same-millisecond ties never stall it. */
const PAGE_TIE_SLACK = 64

/** A page cursor: the last record's admission time and key, `<ms>.<key>` in base64url (opaque to clients). */
function encodeCursor (ms: number, key: string): string {
  return Buffer.from(`${ms}.${key}`, 'utf8').toString('base64url')
}

function parseCursor (cursor: string | null): { ms: number, key: string } | null {
  if (cursor === null || cursor === '') return null
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const dot = text.indexOf('.')
  const ms = Number(text.slice(0, dot))
  if (dot < 1 || !Number.isFinite(ms)) throw new InvalidCursorError(cursor)
  return { ms, key: text.slice(dot + 1) }
}

/** The phase as kept in Redis: `unknown:<since ms>` carries when the outcome became unknown. */
function storedPhase (record: InflightRecord): string {
  return record.phase === 'unknown' && record.unknown_since_ms !== undefined ? `unknown:${record.unknown_since_ms}` : record.phase
}

/** Records registered again per round trip batch after a data loss. */
const REGISTER_BATCH = 500

/** The idempotency value a journaled record had: answered (bound) or in progress / unknown. */
function idempotencyValue (e: JournalEntry): string {
  const state = e.response !== undefined ? 'r' : e.unknownSinceMs !== undefined ? 'u' : 'p'
  const rest = e.response ?? (state === 'p' ? 'registered-again' : '')
  return state + fingerprintArg(e.fingerprint) + rest
}

/** MULTI results: the first command error fails the whole call. */
function unwrapMulti (results: Array<[Error | null, unknown]> | null): unknown[] {
  if (results === null) throw new Error('transaction aborted')
  return results.map(([err, value]) => {
    if (err !== null) throw err
    return value
  })
}
