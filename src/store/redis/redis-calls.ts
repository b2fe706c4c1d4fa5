/**
 * How one store operation meets Redis: a failure becomes StoreUnavailableError (the gateway fails closed), a
 * connectivity failure marks the store failing until the next success, and on a Cluster a transaction Redis
 * discarded during a failover is sent again. Every role of the Redis store sends through one of these.
 */
import { StoreUnavailableError } from '../../errors.js'
import { isConnectivityError } from './redis-errors.js'
import type { ScriptedRedis } from './scripts.js'

/** How long a transaction Redis discarded (EXECABORT) on a Cluster is sent again: a failover's settling time. */
const DISCARDED_RETRY_MS = 3_000

/** Redis discarded a MULTI because a queued command was refused: nothing of it ran. */
function isDiscardedTransaction (err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('EXECABORT')
}

export class RedisCalls {
  /** Set by a connectivity failure or a closed connection; cleared by any success (the store's health reads it). */
  failing = false

  constructor (readonly client: ScriptedRedis) {}

  /** `run` builds its transaction inside itself: a discarded one is sent again by calling `run` again. */
  async call<T> (op: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run()
      this.failing = false
      return result
    } catch (err) {
      if (this.client.isCluster && isDiscardedTransaction(err)) return await this.callAgainAfterDiscard(op, run, err)
      throw this.unavailable(op, err)
    }
  }

  /** The error a caller sees for `err`; marks the store failing when Redis could not be reached. */
  unavailable (op: string, err: unknown): StoreUnavailableError {
    if (err instanceof StoreUnavailableError) return err
    if (isConnectivityError(err)) this.failing = true
    const message = err instanceof Error ? err.message : String(err)
    return new StoreUnavailableError(`store unavailable (${op}): ${message}`, { cause: err })
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
}

/** MULTI results: the first command error fails the whole call. */
export function unwrapMulti (results: Array<[Error | null, unknown]> | null): unknown[] {
  if (results === null) throw new Error('transaction aborted')
  return results.map(([err, value]) => {
    if (err !== null) throw err
    return value
  })
}
