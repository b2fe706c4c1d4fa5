/**
 * Durable admissions (`redis.wait_replicas`): an admission is forwarded only once `WAIT n` says that many replicas
 * hold it, so a crash of the primary (or of the slot's master on a Cluster) right after the admission cannot lose
 * it. `WAIT` covers every write this client sent before it, so the admissions whose answers arrived in one tick
 * share one `WAIT` (issued on the next turn of the event loop, after all of them): the cost is one round trip to
 * the slowest of the first `n` replicas per batch, not per intent.
 *
 * The `WAIT` travels in a pipeline with a read of a key of the namespace, so that on a Cluster it reaches the
 * slot's master (the node that took the admissions) rather than a random node. While it blocks, the connection's
 * other commands wait behind it, so:
 * - at most one `WAIT` is in flight; admissions answered meanwhile form the next batch, sent when it returns;
 * - `wait_timeout_ms` is kept below `command_timeout_ms` (checked at load);
 * - after a `WAIT` came back short (a replica down or resyncing), the next ones wait only `SHORT_WAIT_MS` until
 *   one succeeds again, except one full `WAIT` per `PROBE_EVERY_MS` (slow replicas may still answer within the
 *   full timeout): admissions are refused at once instead of holding the connection for every batch.
 */
import type { RedisClient } from './connection.js'

/** How long a WAIT waits while the replicas are known to be short (a refusal, not a hold of the connection). */
const SHORT_WAIT_MS = 10
/** While the replicas are short, one WAIT per this long still gets the full timeout. */
const PROBE_EVERY_MS = 1000

export class ReplicaWait {
  private batch: Array<(replicated: boolean) => void> = []
  private inFlight = false
  private short = false
  private lastFullAt = 0

  constructor (
    private readonly client: RedisClient,
    /** Any key of the namespace: it routes the WAIT to the namespace's master. */
    private readonly routeKey: string,
    private readonly replicas: number,
    private readonly timeoutMs: number
  ) {}

  /** True once `replicas` replicas acknowledged every write this client sent before the call; false otherwise. */
  async replicated (): Promise<boolean> {
    return await new Promise((resolve) => {
      this.batch.push(resolve)
      // The first of a batch schedules it for after this turn of the event loop (more answers may arrive in it).
      if (this.batch.length === 1 && !this.inFlight) setImmediate(() => { this.flush() })
    })
  }

  private flush (): void {
    if (this.inFlight || this.batch.length === 0) return
    const waiters = this.batch
    this.batch = []
    this.inFlight = true
    const full = !this.short || Date.now() - this.lastFullAt >= PROBE_EVERY_MS
    if (full) this.lastFullAt = Date.now()
    this.client.pipeline().exists(this.routeKey).wait(this.replicas, full ? this.timeoutMs : SHORT_WAIT_MS).exec().then(
      (results) => {
        const [err, acked] = results?.[1] ?? [new Error('no reply'), 0]
        return err === null && Number(acked) >= this.replicas
      },
      () => false
    ).then((replicated) => {
      this.short = !replicated
      this.inFlight = false
      for (const resolve of waiters) resolve(replicated)
      this.flush()
    }, () => {})
  }
}
