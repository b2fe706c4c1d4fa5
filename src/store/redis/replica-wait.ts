/**
 * Durable admissions (`redis.wait_replicas`): an admission is forwarded only once `WAIT n` says that many replicas
 * hold it, so a crash of the primary (or of the slot's master on a Cluster) right after the admission cannot lose
 * it. `WAIT` covers every write this client sent before it, so the admissions whose answers arrived in one tick
 * share one `WAIT` (issued on the next turn of the event loop, after all of them): the cost is one round trip to
 * the slowest of the first `n` replicas per batch, not per intent.
 *
 * The `WAIT` travels in a pipeline with a read of a key of the namespace, so that on a Cluster it reaches the
 * slot's master (the node that took the admissions) rather than a random node. While it blocks, the connection's
 * other commands wait behind it: `wait_timeout_ms` is kept below `command_timeout_ms` (checked at load).
 */
import type { RedisClient } from './connection.js'

export class ReplicaWait {
  private batch: Array<(replicated: boolean) => void> | null = null

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
      if (this.batch === null) {
        this.batch = []
        setImmediate(() => { this.flush() })
      }
      this.batch.push(resolve)
    })
  }

  private flush (): void {
    const waiters = this.batch ?? []
    this.batch = null
    this.client.pipeline().exists(this.routeKey).wait(this.replicas, this.timeoutMs).exec().then(
      (results) => {
        const [err, acked] = results?.[1] ?? [new Error('no reply'), 0]
        return err === null && Number(acked) >= this.replicas
      },
      () => false
    ).then((replicated) => { for (const resolve of waiters) resolve(replicated) }, () => {})
  }
}
