/**
 * The reconciler: every `proxy.reconcile_interval_ms` it walks the inflight records and
 *   - polls `GET <intent_path>/<id>` on the owning upstream for each bound record older than one interval; a
 *     terminal status ends it (`via: 'reconciler'`), another updates its phase;
 *   - ends a record whose deadline plus `[upgrade].extend_timeout_secs` has passed as `expired`
 *     (`via: 'expiry'`), logged at warn and published on `channels.intentEnded`: reported, never dropped;
 *   - resolves a record whose outcome is unknown (phase `unknown`: the owner timed out or broke the connection),
 *     or still unbound `2 × upstream_timeout_ms` after its admission (its gateway died between forwarding and
 *     binding): it sends the same bytes with the same key to the owner, never to another color, and the owner's
 *     answer binds, releases, or leaves it unknown (./outcome.ts). An unknown record is retried with backoff
 *     (one interval, doubling, at most a minute); an owner that stays unreachable keeps the record, visibly:
 *     it is inflight, the drain counts it, and past its deadline it ends as `expired` like any other.
 *
 * With several gateway instances one reconciles at a time: each round first takes (or renews) the store lease
 * `reconciler`; an instance without it skips the round.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config/schema.js'
import { channels, type IntentEndedMessage } from '../observability/channels.js'
import type { InflightRecord, IntentStore, Lease, LeaseStore } from '../store/types.js'
import { TERMINAL_STATUSES, type VersionCatalog } from '../versions/types.js'
import { forwardAndSettle, payloadHeaders } from './outcome.js'
import type { Upstreams } from './upstreams.js'

/** Parallel status polls per round: enough to keep up, not enough to load an upstream. */
const POLL_CONCURRENCY = 8
/** Records read from the store per page of a round. */
const RECONCILE_PAGE = 500

export interface ReconcileReport {
  /** False when another instance holds the lease (nothing was done). */
  leader: boolean
  polled: number
  ended: Array<{ id: string, status: string, via: 'reconciler' | 'expiry' }>
  /** Keys of unknown (or orphaned unbound) records resent to their owner this round, and what became of them. */
  resent: Array<{ key: string, upstream: string, outcome: 'bound' | 'released' | 'unknown' }>
  /** Polls that failed (upstream unreachable, non-2xx other than 404). */
  errors: number
}

export interface ReconcilerOptions {
  config: Config
  store: IntentStore & LeaseStore
  versions: VersionCatalog
  upstreams: Upstreams
  logger: Logger
  now: () => number
}

export class Reconciler {
  private timer: NodeJS.Timeout | null = null
  private round: Promise<ReconcileReport> | null = null
  private lease: Lease | null = null
  private readonly holder = `proxy-${randomUUID()}`
  private stopped = false
  /** Per unknown record: how many resends failed to resolve it, and when the next may go (backoff). */
  private readonly backoff = new Map<string, { failures: number, nextAtMs: number }>()

  constructor (private readonly o: ReconcilerOptions) {}

  start (): void {
    if (this.timer !== null || this.stopped) return
    this.timer = setInterval(() => { this.runOnce().catch(() => {}) }, this.o.config.proxy.reconcile_interval_ms)
    this.timer.unref()
  }

  /** Stops the timer, waits for a running round, gives the lease back. */
  async close (): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.round?.catch(() => {})
    if (this.lease !== null) {
      await this.o.store.releaseLease('reconciler', this.lease).catch(() => {})
      this.lease = null
    }
  }

  /** One round now; a round already running is joined, not doubled. */
  async runOnce (): Promise<ReconcileReport> {
    this.round ??= this.reconcile().finally(() => { this.round = null })
    return await this.round
  }

  private async reconcile (): Promise<ReconcileReport> {
    const report: ReconcileReport = { leader: false, polled: 0, ended: [], resent: [], errors: 0 }
    try {
      if (!await this.holdLease()) return report
      report.leader = true
      // Page by page (oldest first): a round over 100,000 records never holds them, or the event loop, at once.
      const unboundKeys = new Set<string>()
      let cursor: string | null = null
      do {
        const page = await this.o.store.inflightPage(RECONCILE_PAGE, cursor)
        cursor = page.next_cursor
        // A record younger than one interval was just answered by its upstream: polling it now would only add load.
        const pollBefore = this.o.now() - this.o.config.proxy.reconcile_interval_ms
        const bound = page.records.filter((r) => r.id !== null && r.created_at_ms <= pollBefore)
        await forEachLimited(bound, POLL_CONCURRENCY, async (r) => await this.reconcileBound(r, report))
        const unbound = page.records.filter((r) => r.id === null)
        for (const r of unbound) unboundKeys.add(r.key)
        await forEachLimited(unbound, POLL_CONCURRENCY, async (r) => await this.reconcileUnbound(r, report))
      } while (cursor !== null && !this.stopped)
      for (const key of this.backoff.keys()) if (!unboundKeys.has(key)) this.backoff.delete(key)
    } catch (err) {
      this.o.logger.warn({ err }, 'reconciler round failed; retrying next round')
    }
    return report
  }

  private async holdLease (): Promise<boolean> {
    const ttl = Math.max(3 * this.o.config.proxy.reconcile_interval_ms, 5000)
    if (this.lease !== null && await this.o.store.renewLease('reconciler', this.lease, ttl)) return true
    this.lease = await this.o.store.acquireLease('reconciler', this.holder, ttl)
    return this.lease !== null
  }

  private async reconcileBound (r: InflightRecord, report: ReconcileReport): Promise<void> {
    const id = r.id as string
    const seen = await this.poll(r, report)
    if (seen !== null && TERMINAL_STATUSES.has(seen)) {
      await this.end(id, seen, 'reconciler', r, report)
      return
    }
    const expiresAtMs = (r.deadline + this.o.config.upgrade.extend_timeout_secs) * 1000
    if (this.o.now() > expiresAtMs) {
      this.o.logger.warn({ id, key: r.key, upstream: r.upstream, deadline: r.deadline, last_phase: seen ?? r.phase }, 'inflight intent passed its deadline (plus extend_timeout_secs): ended as expired')
      await this.end(id, 'expired', 'expiry', r, report)
      return
    }
    if (seen !== null && seen !== r.phase) await this.o.store.setPhase(id, seen).catch(() => {})
  }

  /** The owner's status of `r`, or null when it cannot be had right now. */
  private async poll (r: InflightRecord, report: ReconcileReport): Promise<string | null> {
    const upstream = this.o.upstreams.get(r.upstream)
    // An owner its health check calls down is not asked (each poll could hang for the whole timeout); the
    // expiry check still runs, so intents on a dead upstream end as `expired` on time.
    if (upstream === undefined || upstream.state().status === 'unhealthy') {
      report.errors++
      return null
    }
    report.polled++
    const timeout = this.o.config.proxy.upstream_timeout_ms
    const started = performance.now()
    let status: number | null = null
    try {
      const res = await upstream.pool.request({
        method: 'GET',
        path: `${upstream.basePath}${this.o.config.proxy.intent_path}/${encodeURIComponent(r.id as string)}`,
        headers: { accept: 'application/json', 'user-agent': 'intent-gate-reconciler' },
        headersTimeout: timeout,
        bodyTimeout: timeout
      })
      status = res.statusCode
      if (status < 200 || status > 299) {
        await res.body.dump()
        report.errors++
        return null
      }
      return this.o.versions.statusOf(await res.body.json(), r.upstream_version)
    } catch (err) {
      report.errors++
      this.o.logger.debug({ err, id: r.id, upstream: r.upstream }, 'reconciler poll failed')
      return null
    } finally {
      if (channels.upstream.hasSubscribers) channels.upstream.publish({ upstream: r.upstream, route: 'reconcile', status, durationMs: performance.now() - started })
    }
  }

  private async end (id: string, status: string, via: 'reconciler' | 'expiry', r: InflightRecord, report: ReconcileReport): Promise<void> {
    if (!await this.o.store.complete(id, status, via)) return
    report.ended.push({ id, status, via })
    if (via === 'reconciler') this.o.logger.debug({ id, status, upstream: r.upstream }, 'inflight intent ended (reconciler)')
    if (channels.intentEnded.hasSubscribers) channels.intentEnded.publish({ id, status, via } satisfies IntentEndedMessage)
  }

  private async reconcileUnbound (r: InflightRecord, report: ReconcileReport): Promise<void> {
    const now = this.o.now()
    const { proxy, upgrade } = this.o.config
    const orphaned = r.phase === 'submitting' && now > r.created_at_ms + 2 * proxy.upstream_timeout_ms
    if (r.phase !== 'unknown' && !orphaned) return
    if (now > (r.deadline + upgrade.extend_timeout_secs) * 1000) {
      // It can no longer settle: ended as expired, reported like a bound intent that expired.
      await this.o.store.release(r.key, null, proxy.idempotency_ttl_secs)
      this.backoff.delete(r.key)
      report.ended.push({ id: r.key, status: 'expired', via: 'expiry' })
      this.o.logger.warn({ key: r.key, upstream: r.upstream, deadline: r.deadline }, 'an intent whose outcome stayed unknown passed its deadline (plus extend_timeout_secs): ended as expired')
      if (channels.intentEnded.hasSubscribers) channels.intentEnded.publish({ id: r.key, status: 'expired', via: 'expiry' } satisfies IntentEndedMessage)
      return
    }
    const waiting = this.backoff.get(r.key)
    if (waiting !== undefined && now < waiting.nextAtMs) return
    const upstream = this.o.upstreams.get(r.upstream)
    // The owner alone may say what it has: one its health check calls down is asked again later, never replaced.
    if (upstream === undefined || upstream.state().status === 'unhealthy') {
      report.errors++
      return
    }
    const payload = r.payload ?? JSON.stringify(r.intent)
    const settled = await forwardAndSettle({
      store: this.o.store,
      versions: this.o.versions,
      logger: this.o.logger,
      idempotencyTtlSecs: proxy.idempotency_ttl_secs,
      upstreamTimeoutMs: proxy.upstream_timeout_ms
    }, {
      key: r.key,
      upstream,
      clientVersion: r.version,
      upstreamVersion: r.upstream_version,
      path: proxy.intent_path,
      payload,
      headers: [
        'user-agent', 'intent-gate-reconciler', ...payloadHeaders(payload),
        ...(r.client_key === null || r.client_key === undefined ? [] : ['idempotency-key', r.client_key])
      ],
      resend: true,
      route: 'reconcile'
    })
    const outcome = settled.kind === 'answered' ? (settled.bound !== null ? 'bound' : 'released') : settled.kind === 'unknown' ? 'unknown' : 'released'
    report.resent.push({ key: r.key, upstream: r.upstream, outcome })
    if (outcome === 'unknown') {
      const failures = (waiting?.failures ?? 0) + 1
      const delay = Math.min(MAX_BACKOFF_MS, proxy.reconcile_interval_ms * 2 ** (failures - 1))
      this.backoff.set(r.key, { failures, nextAtMs: now + delay })
      report.errors++
      this.o.logger.warn({ key: r.key, upstream: r.upstream, failures }, 'an intent whose outcome is unknown is still unresolved by its owner; it stays inflight there')
    } else {
      this.backoff.delete(r.key)
      this.o.logger.info({ key: r.key, upstream: r.upstream, outcome }, 'resolved an intent whose outcome was unknown by resending it to its owner')
    }
  }
}

/** The longest wait between two resends of one unknown record. */
const MAX_BACKOFF_MS = 60_000

async function forEachLimited<T> (items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await fn(item).catch(() => {})
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
