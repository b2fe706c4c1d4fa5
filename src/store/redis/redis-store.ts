/**
 * The Redis store: shared state for every gateway instance of one namespace. One module per role, composed here
 * with the connection they share:
 * - the submission path's writes, journaled and replayed after an outage: ./intent-writes.ts;
 * - the inflight records and the endings: ./inflight-records.ts;
 * - the operator keys, polled and pushed: ./control-keys.ts;
 * - leases: ./leases.ts; documents and hashes: ./documents.ts; the fleet's registry: ./fleet.ts;
 * - a Redis that lost its data, noticed and recovered from: ./data-loss.ts.
 * While Redis cannot answer, every call fails at once with StoreUnavailableError (./redis-calls.ts: the gateway
 * fails closed) and the store heals by itself when Redis returns.
 */
import { randomUUID } from 'node:crypto'
import { withRedisDefaults, type Color, type RedisSettings } from '../../config/schema.js'
import { LayoutMismatchError, StoreUnavailableError } from '../../errors.js'
import { ANSWER_TEMPLATE_LAYOUT, HANDLE_LAYOUT, KEY_LAYOUTS, OWNER_HEADER_LAYOUT, type KeyLayouts } from '../../release.js'
import { storeKeys, type StoreKeys } from '../keys.js'
import { DEFAULT_ENDED_RETENTION_SECS, type StoreLogger, type StoreOptions } from '../options.js'
import type {
  AdmitRequest, AdmitResult, ControlState, DrainSwitch, EndedIntent, EndedRoute, ForgetResult, InflightPage, InflightRecord,
  InstanceRecord, Lease, RegistryStore, Store, StoredResponse, StoreHealth, UpgradeFlag
} from '../types.js'
import { AnswerTemplates } from './answer-templates.js'
import { AdmissionJournal } from './admission-journal.js'
import { createRedisClient, keepConnecting, MAX_RECONNECT_DELAY_MS, type RedisClient } from './connection.js'
import { RedisControl } from './control-keys.js'
import { DataLoss } from './data-loss.js'
import { RedisDocuments } from './documents.js'
import { RedisFleet } from './fleet.js'
import { InflightRecords } from './inflight-records.js'
import { IntentScripts } from './intent-scripts.js'
import { IntentWrites } from './intent-writes.js'
import { JournalFile } from './journal-file.js'
import { checkLayout, LayoutGate } from './layout.js'
import { RedisLeases } from './leases.js'
import { RedisCalls } from './redis-calls.js'
import { DEFAULT_LISTPACK_VALUE, readListpackValueLimit } from './listpack-limit.js'
import { ReplaySweeper } from './replay-sweeper.js'
import { ReplicaWait } from './replica-wait.js'
import { defineScripts, type ScriptedRedis } from './scripts.js'
import { SubmissionScripts } from './submission-scripts.js'

/** At most this many admitted, not yet seen ended, records are journaled (the oldest are forgotten first). */
const MAX_JOURNAL = 100_000

export class RedisStore implements Store {
  readonly kind = 'redis' as const
  /** The key layouts this instance writes and reads (docs/store.md, "Two releases on one namespace"). */
  readonly layouts: KeyLayouts
  private readonly client: ScriptedRedis
  private readonly keys: StoreKeys
  private readonly calls: RedisCalls
  private readonly layout = new LayoutGate()
  private readonly journal: AdmissionJournal
  /** The journal on local disk (options.journalFile), so it outlives a restart; null keeps it in the process. */
  private readonly journalFile: JournalFile | null
  private readonly writes: IntentWrites
  private readonly records: InflightRecords
  private readonly controlKeys: RedisControl
  private readonly leases: RedisLeases
  private readonly documents: RedisDocuments
  private readonly fleet: RedisFleet
  private readonly dataLoss: DataLoss
  private readonly replaySweeper: ReplaySweeper
  private readonly log: StoreLogger | undefined
  private connectedOnce = false
  /** Redis' hash-max-listpack-value, read at every connection (./listpack-limit.ts). */
  private listpackValue = DEFAULT_LISTPACK_VALUE
  private closed: Promise<void> | null = null
  private readonly readyPromise: Promise<void>
  private rejectReady: (err: Error) => void = () => {}

  constructor (settings: RedisSettings, options: StoreOptions = {}) {
    const config = withRedisDefaults(settings)
    this.keys = storeKeys(config.namespace)
    this.layouts = options.layouts ?? KEY_LAYOUTS
    this.log = options.logger
    const endedRetentionSecs = options.endedRetentionSecs ?? DEFAULT_ENDED_RETENTION_SECS
    const handles = this.layouts.writes >= HANDLE_LAYOUT
    const instance = options.instanceId ?? randomUUID().slice(0, 8)
    const connectionName = `intent-gate:${instance}`
    // Random per process too: a restarted instance with the same id must not reuse its predecessor's markers.
    const markerPrefix = `in_progress:${instance}.${randomUUID().slice(0, 8)}.`
    this.journalFile = options.journalFile === undefined ? null : new JournalFile(options.journalFile)
    const saved = this.journalFile?.load(config.namespace)
    if (saved !== undefined && saved.dropped > 0) this.log?.warn({ file: options.journalFile, dropped: saved.dropped }, 'store: the admission journal held another namespace\'s intents; dropped')
    if (saved !== undefined && saved.entries.length > 0) this.log?.info({ file: options.journalFile, journaled: saved.entries.length }, 'store: admission journal read from disk')
    let journalErrorLoggedAt = 0
    this.journal = new AdmissionJournal(MAX_JOURNAL, this.journalFile, saved?.entries ?? [], (err) => {
      if (Date.now() - journalErrorLoggedAt < 10_000) return
      journalErrorLoggedAt = Date.now()
      this.log?.error({ err, file: options.journalFile }, 'store: cannot write the admission journal to disk; kept in memory and retried (a restart before it is written forgets those admissions)')
    })
    this.client = defineScripts(createRedisClient(config, connectionName, options.env))
    this.calls = new RedisCalls(this.client)
    const scripts = new IntentScripts(this.client, this.keys, this.layouts.writes)
    const templates = new AnswerTemplates({
      writes: this.layouts.writes >= ANSWER_TEMPLATE_LAYOUT,
      fetch: async (ref) => await this.calls.call('replay', async () => await this.client.get(this.keys.answer(ref)))
    })
    this.writes = new IntentWrites(this.calls, {
      submissions: new SubmissionScripts(this.client, this.keys, this.layouts.writes, () => this.listpackValue),
      scripts,
      templates,
      log: this.log,
      endedRetentionSecs,
      journal: this.journal,
      layout: this.layout,
      replicaWait: config.wait_replicas > 0
        ? new ReplicaWait(this.client, this.keys.drain, config.wait_replicas, config.wait_timeout_ms)
        : null,
      markerPrefix,
      handles,
      connected: () => this.client.status === 'ready' && this.closed === null
    })
    const ownerEntries = this.layouts.writes < OWNER_HEADER_LAYOUT
    this.records = new InflightRecords(this.calls, this.keys, { scripts, handles, ownerEntries, endedRetentionSecs })
    this.fleet = new RedisFleet(this.calls, this.keys,
      { layout: this.layout, log: this.log, journaled: () => this.journal.size, knownEpoch: () => this.dataLoss.knownEpoch })
    this.dataLoss = new DataLoss(this.calls, this.keys, {
      journal: this.journal,
      scripts,
      log: this.log,
      instanceId: instance,
      mark: markerPrefix,
      layout: this.layouts.writes,
      // Every instance still connected sees the loss at its next reconnection attempt or control poll; twice
      // the longest of those covers a loaded machine.
      lossGraceMs: 2 * (MAX_RECONNECT_DELAY_MS + config.poll_interval_ms),
      idempotencyTtlSecs: endedRetentionSecs,
      savedEpoch: saved?.epoch ?? null,
      journalLoaded: (saved?.entries.length ?? 0) > 0,
      fleet: () => this.fleet.fleet,
      lastGoodActive: () => this.controlKeys.lastGoodActive,
      forget: () => { templates.forgetWritten() }
    })
    this.controlKeys = new RedisControl(this.calls, this.keys,
      { config, connectionName, env: options.env, log: this.log, epochs: this.dataLoss })
    this.leases = new RedisLeases(this.calls, this.keys)
    this.replaySweeper = new ReplaySweeper(this.client, this.keys, {
      idempotencyTtlSecs: endedRetentionSecs,
      ready: () => this.layout.shared && this.client.status === 'ready' && this.closed === null,
      log: this.log
    })
    this.replaySweeper.start()
    this.documents = new RedisDocuments(this.calls, this.keys)
    this.readyPromise = new Promise((resolve, reject) => {
      this.rejectReady = reject
      this.client.on('ready', () => { this.onReady(resolve) })
    })
    this.readyPromise.catch(() => {}) // a rejection nobody awaited (closed before Redis answered) is not an error
    // Expected while Redis is down (every reconnect attempt fails); health() and the close event report it.
    this.client.on('error', () => {})
    this.client.on('close', () => {
      if (this.connectedOnce && !this.calls.failing && this.closed === null) this.log?.warn({}, 'store: Redis connection lost; failing closed until it returns')
      this.calls.failing = true
    })
    keepConnecting(this.client, () => this.closed !== null,
      () => { this.log?.warn({}, 'store: the Redis client gave up reconnecting (an ioredis failover race); connecting again') })
    this.client.connect().catch(() => {})
  }

  /** Every (re)connection: the layout and the epoch are checked, then waiting writes replayed and control re-read. */
  private onReady (resolveFirst: () => void): void {
    this.calls.failing = false
    if (this.connectedOnce) this.log?.info({}, 'store: Redis connection restored')
    const first = !this.connectedOnce
    this.connectedOnce = true
    // Every (re)connection checks the key layout (a Redis that came back with other data, an instance of a
    // release that cannot share it) and changes nothing it cannot share: the first one before it marks the
    // epoch. After a loss the namespace holds only what instances register again (./data-loss.ts).
    readListpackValueLimit(this.client).then((limit) => { this.listpackValue = limit }, () => {})
    const checked = first
      ? checkLayout(this.client, this.keys, this.layouts).then(async () => { await this.dataLoss.check() })
      : this.dataLoss.check().then(async (lost) => { if (!lost) await checkLayout(this.client, this.keys, this.layouts) })
    checked.then(() => {
      this.layout.state = 'shared'
    }, (err: unknown) => {
      if (!(err instanceof LayoutMismatchError)) {
        this.log?.error({ err }, 'store: cannot check the namespace\'s key layout; retried on the next connection')
        return
      }
      this.layout.state = err
      if (first) this.rejectReady(err)
      else this.log?.error({ err }, 'store: the namespace is now on a key layout this instance cannot share; refusing intents')
    }).finally(() => {
      if (first) resolveFirst()
      this.writes.repairs.run().catch(() => {})
      this.controlKeys.check()
    })
  }

  // ---- every role, delegated -------------------------------------------------------------------------------

  // The submission path (./intent-writes.ts)
  async admit (req: AdmitRequest): Promise<AdmitResult> { return await this.writes.admit(req) }
  async release (key: string, response: StoredResponse | null, ttl: number): Promise<void> { await this.writes.release(key, response, ttl) }
  async markUnknown (key: string, ttlSecs: number): Promise<boolean> { return await this.writes.markUnknown(key, ttlSecs) }
  async complete (id: string, status: string, via: EndedIntent['via']): Promise<boolean> { return await this.writes.complete(id, status, via) }
  async bind (key: string, id: string, response: StoredResponse, ttlSecs: number, phase?: string): Promise<void> {
    await this.writes.bind(key, id, response, ttlSecs, phase)
  }

  // The inflight records and the endings (./inflight-records.ts); a loss not yet recovered from (./data-loss.ts)
  async setPhase (id: string, phase: string): Promise<void> { await this.records.setPhase(id, phase) }
  async inflight (): Promise<InflightRecord[]> { return await this.records.inflight() }
  async inflightPage (limit: number, cursor: string | null): Promise<InflightPage> { return await this.records.inflightPage(limit, cursor) }
  async inflightCount (): Promise<number> { return await this.records.inflightCount() }
  async inflightByUpstream (): Promise<Record<Color, number>> { return await this.records.inflightByUpstream() }
  async oldestInflightMs (): Promise<number | null> { return await this.records.oldestInflightMs() }
  async inflightById (id: string): Promise<InflightRecord | null> { return await this.records.inflightById(id) }
  async updateInflight (record: InflightRecord): Promise<boolean> { return await this.records.updateInflight(record) }
  async replaceInflight (records: InflightRecord[]): Promise<void> { await this.records.replaceInflight(records) }
  async endedById (id: string): Promise<EndedRoute | null> { return await this.records.endedById(id) }
  async ended (limit: number): Promise<EndedIntent[]> { return await this.records.ended(limit) }
  async recovering (): Promise<boolean> { return await this.dataLoss.recovering() }

  // The fleet's registry (./fleet.ts)
  async refreshInstance (record: Parameters<RegistryStore['refreshInstance']>[0]): Promise<InstanceRecord[]> { return await this.fleet.refreshInstance(record) }
  async deregisterInstance (id: string): Promise<void> { await this.fleet.deregisterInstance(id) }
  async instances (): Promise<InstanceRecord[]> { return await this.fleet.instances() }
  async forgetInstance (id: string): Promise<ForgetResult> { return await this.fleet.forgetInstance(id) }

  // The operator keys (./control-keys.ts)
  async control (): Promise<ControlState> { return await this.controlKeys.control() }
  watchControl (onChange: (state: ControlState) => void): () => void { return this.controlKeys.watchControl(onChange) }
  async setDrain (value: DrainSwitch | null): Promise<void> { await this.controlKeys.setDrain(value) }
  async setUpgrade (value: UpgradeFlag | null): Promise<void> { await this.controlKeys.setUpgrade(value) }
  async setActive (color: Color): Promise<void> { await this.controlKeys.setActive(color) }

  // Leases (./leases.ts)
  async acquireLease (name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    return await this.leases.acquireLease(name, holder, ttlMs)
  }

  async renewLease (name: string, lease: Lease, ttlMs: number): Promise<boolean> { return await this.leases.renewLease(name, lease, ttlMs) }
  async releaseLease (name: string, lease: Lease): Promise<void> { await this.leases.releaseLease(name, lease) }

  // Documents and hashes (./documents.ts)
  async getDoc<T> (name: string): Promise<T | null> { return await this.documents.getDoc<T>(name) }
  async setDoc (name: string, value: unknown): Promise<void> { await this.documents.setDoc(name, value) }
  async hashSet (name: string, fields: Record<string, unknown>): Promise<void> { await this.documents.hashSet(name, fields) }
  async hashDelete (name: string, fields: string[]): Promise<void> { await this.documents.hashDelete(name, fields) }
  async hashGetAll<T> (name: string): Promise<Record<string, T>> { return await this.documents.hashGetAll<T>(name) }

  // ---- lifecycle --------------------------------------------------------------------------------------------

  health (): StoreHealth {
    if (this.client.status !== 'ready' || this.calls.failing || !this.layout.shared) return 'unavailable'
    return this.dataLoss.registering ? 'recovering' : 'ready'
  }

  async ready (): Promise<void> {
    await this.readyPromise
  }

  /** Writes still waiting for Redis to return (bind, release, complete, lost admissions). */
  pendingRepairs (): number {
    return this.writes.repairs.pending
  }

  /** Replays the waiting writes now (they also run on every reconnect); resolves when it stops. */
  async flushRepairs (): Promise<void> {
    await this.writes.repairs.run()
  }

  /**
   * One sweep of expired answered records (./replay-sweeper.ts; it also runs every second): what it did, or null
   * when the store is not ready. `nowMs` is for tests that look past the idempotency TTL.
   */
  async sweepReplays (nowMs?: number): Promise<{ dropped: number, swept: number, shards: number } | null> {
    return await this.replaySweeper.sweepOnce(nowMs)
  }

  async close (): Promise<void> {
    this.closed ??= (async () => {
      this.rejectReady(new StoreUnavailableError('store closed before Redis answered'))
      const control = this.controlKeys.close() // stops the poll at once
      this.replaySweeper.stop()
      this.writes.repairs.close() // before the first await: no replay starts once closing began
      await control
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
}
