/**
 * A Redis that forgot (restarted without persistence, failed over to an empty replica, flushed): every
 * connection and every control poll compare the namespace's epoch with the one this instance first saw. On a
 * loss, this instance registers again what its journal holds (./admission-journal.ts) and holds the namespace in
 * `recovering` until every instance it last saw serving has done the same (./registry.ts).
 */
import { randomUUID } from 'node:crypto'
import type { Color } from '../../config/schema.js'
import { channels } from '../../observability/channels.js'
import { inflightHandle, type StoreKeys } from '../keys.js'
import type { StoreLogger } from '../options.js'
import type { InstanceRecord } from '../types.js'
import type { AdmissionJournal, JournalEntry } from './admission-journal.js'
import { fingerprintArg } from './fingerprint-arg.js'
import type { IntentScripts } from './intent-scripts.js'
import type { RedisCalls } from './redis-calls.js'
import { awaitedIn, markAwaited, markDone } from './registry.js'

/** How long an instance's "registering again" mark counts, unless it renews or clears it (it clears when done). */
const RECOVERY_MARK_MS = 60_000

/** Records registered again per round trip batch after a data loss. */
const REGISTER_BATCH = 500

export interface DataLossOptions {
  journal: AdmissionJournal
  scripts: IntentScripts
  log: StoreLogger | undefined
  /** This instance's id in the fleet's registry. */
  instanceId: string
  /** This instance's field in the `recovering` hash (unique per process). */
  mark: string
  /** The key layout this instance writes (set again if the layout key went with the data). */
  layout: number
  /** How long a noticed loss counts as recovering for the whole namespace. */
  lossGraceMs: number
  /** How long the idempotency records registered again are kept (s). */
  idempotencyTtlSecs: number
  /** The epoch this instance last saw before a restart (the journal file's), or null. */
  savedEpoch: string | null
  /** Whether the journal came from the file with entries: at the first connection those Redis still holds stay. */
  journalLoaded: boolean
  /** The fleet as this instance last read it: the instances awaited after a loss. */
  fleet: () => InstanceRecord[]
  /** The last good `active`, set again if the key went with the data. */
  lastGoodActive: () => Color | null
  /** What this instance believes Redis holds and must forget with the data (the answer templates it wrote). */
  forget: () => void
}

export class DataLoss {
  /**
   * The namespace's epoch as this instance first saw it (or, with a journal file, as it last saw it before a
   * restart): a different one later means Redis lost its data.
   */
  private epoch: string | null
  private recovery: Promise<void> | null = null
  private journalLoaded: boolean

  constructor (private readonly calls: RedisCalls, private readonly keys: StoreKeys, private readonly o: DataLossOptions) {
    this.epoch = o.savedEpoch
    this.journalLoaded = o.journalLoaded
  }

  /** The namespace epoch this instance knows: the one it last checked, null before its first check. */
  get knownEpoch (): string | null {
    return this.epoch
  }

  /** True while this instance registers its records again. */
  get registering (): boolean {
    return this.recovery !== null
  }

  /**
   * Compares the namespace's epoch with the one this instance knows; a loss starts the registering again.
   * Resolves to true when it noticed a loss.
   */
  async check (): Promise<boolean> {
    const k = this.keys
    const candidate = randomUUID()
    const previous = await this.calls.client.set(k.epoch, candidate, 'NX', 'GET')
    const current = previous ?? candidate
    const known = this.epoch
    this.epoch = current
    if (known === current && this.journalLoaded) await this.pruneJournal()
    this.journalLoaded = false
    if (known === null) this.o.journal.saveEpoch(current)
    if (known === null || known === current) return false
    this.recovery ??= this.registerAgain(known).finally(() => { this.recovery = null })
    return true
  }

  /** The control poll read `epoch`: true while it shows a loss, not yet handled (checked from now) or being handled. */
  polled (epoch: string | null): boolean {
    const changed = this.epoch !== null && epoch !== this.epoch
    if (changed && this.recovery === null) {
      this.check().catch((err: unknown) => this.o.log?.error({ err }, 'store: cannot compare the namespace epoch'))
    }
    return changed || this.recovery !== null
  }

  /** IntentStore.recovering: whether any instance still registers its records again after a loss. */
  async recovering (): Promise<boolean> {
    if (this.recovery !== null) return true
    const k = this.keys
    const client = this.calls.client
    const [marks, epoch] = await this.calls.call('recovering', async () => await Promise.all([client.hgetall(k.recovering), client.get(k.epoch)]))
    // A loss this instance has not handled yet (just reconnected, its epoch check still on the way), or began
    // handling while these reads were out: the count read beside this one may have seen an empty namespace.
    if ((this.epoch !== null && epoch !== this.epoch) || this.recovery !== null) return true
    // An instance that served before the loss and has not registered again (paused, partitioned, restarting).
    if (epoch !== null && awaitedIn(marks, epoch).length > 0) return true
    const now = Date.now()
    return Object.entries(marks).some(([field, until]) => !field.startsWith('awaiting:') && !field.startsWith('done:') && Number(until) > now)
  }

  /**
   * A restart with Redis intact: the journal read from disk keeps only the records Redis still holds (the others
   * ended while this process was away, at another instance's reconciler).
   */
  private async pruneJournal (): Promise<void> {
    const journal = this.o.journal
    const keys = journal.all().map(([key]) => key)
    const held = new Set<string>()
    for (let i = 0; i < keys.length; i += REGISTER_BATCH) {
      const batch = keys.slice(i, i + REGISTER_BATCH)
      // Either form: the record may be kept under its scope or its handle (another release wrote it).
      const found = await this.calls.client.hmget(this.keys.inflight, ...batch, ...batch.map(inflightHandle))
      batch.forEach((key, j) => { if (found[j] !== null || found[batch.length + j] !== null) held.add(key) })
    }
    const pruned = journal.prune((key) => held.has(key))
    if (pruned > 0) this.o.log?.info({ pruned, journaled: journal.size }, 'store: journaled admissions that ended while this instance was away are dropped')
  }

  /** `previous`: the epoch before the loss, compared again at the next connection if this fails. */
  private async registerAgain (previous: string): Promise<void> {
    const k = this.keys
    const client = this.calls.client
    const { journal, log, mark } = this.o
    const entries = journal.all()
    // Read now, in the turn that noticed the loss: once this instance knows the new epoch, its next registry
    // refresh reads the emptied registry (./fleet.ts keeps the old one only until then).
    const lastSeen = this.o.fleet().filter((r) => r.id !== this.o.instanceId)
    this.o.forget()
    log?.error({ journaled: entries.length, forgotten: journal.forgotten }, 'store: Redis lost its data (the namespace epoch changed); registering this instance\'s inflight records again, drain status is unknown until done')
    if (channels.storeDataLost.hasSubscribers) channels.storeDataLost.publish({ journaled: entries.length })
    try {
      // Only each instance knows what it admitted, and the others may not have noticed yet (a later reconnection,
      // a paused process): the first to notice holds the whole namespace in `recovering` for as long as they
      // need to notice and set their own marks, so no instance's count of its own records passes for the total.
      await client.hsetnx(k.recovering, `loss:${String(this.epoch)}`, Date.now() + this.o.lossGraceMs)
      // However long the others take to notice (paused, partitioned, restarting): every instance this one last
      // saw serving is awaited until it registered again or an operator forgot it (./registry.ts).
      const epoch = String(this.epoch)
      await markAwaited(client, k, { epoch, awaited: lastSeen })
      // The layout key went with the data. Missing, the next connection's layout migration would rebuild the
      // admission-time index and the counters from a snapshot while records are being written, and drop those
      // written in between: invisible to the reconciler, never ended, the drain stuck above zero.
      await client.set(k.layout, String(this.o.layout), 'NX')
      await client.hset(k.recovering, mark, Date.now() + RECOVERY_MARK_MS)
      const active = this.o.lastGoodActive()
      if (active !== null) await client.set(k.active, active, 'NX')
      let registered = 0
      for (let i = 0; i < entries.length; i += REGISTER_BATCH) {
        const batch = entries.slice(i, i + REGISTER_BATCH)
        const results = await Promise.all(batch.map(async ([key, e]) => await this.o.scripts.reregister({
          scope: key,
          record: e.json,
          upstream: e.upstream,
          admittedAtMs: e.createdAtMs,
          phase: e.id !== undefined ? (e.phase ?? 'accepted') : e.unknownSinceMs !== undefined ? `unknown:${e.unknownSinceMs}` : '',
          id: e.id ?? '',
          idempotency: idempotencyValue(e),
          ttlSecs: this.o.idempotencyTtlSecs
        })))
        registered += results.filter((r) => r === 1).length
        await client.hset(k.recovering, mark, Date.now() + RECOVERY_MARK_MS)
      }
      await client.hdel(k.recovering, mark)
      await markDone(client, k, { epoch, id: this.o.instanceId })
      // Only now: a process killed while registering finds the loss again at its next start.
      journal.saveEpoch(epoch)
      log?.warn({ registered, journaled: entries.length }, 'store: inflight records registered again after Redis lost its data')
    } catch (err) {
      // The mark expires by itself; the next reconnection tries again (the epoch is compared anew).
      this.epoch = previous
      log?.error({ err }, 'store: registering the inflight records again failed; retried on the next connection')
    }
  }
}

/** The idempotency value a journaled record had: answered (bound) or in progress / unknown. */
function idempotencyValue (e: JournalEntry): string {
  const state = e.response !== undefined ? 'r' : e.unknownSinceMs !== undefined ? 'u' : 'p'
  const rest = e.response ?? (state === 'p' ? 'registered-again' : '')
  return state + fingerprintArg(e.fingerprint) + rest
}
