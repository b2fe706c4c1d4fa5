/**
 * What a start reads from the store before this instance may admit (the coordinator's documents: a running
 * upgrade's flag set again before anything is admitted). A store that is not up yet is waited for, never a
 * reason to end the process (docs/specification.md section 3, *Starting before its store*): the reads run once the store
 * answers, again after each failure, until they all succeeded or the gateway closes.
 */
import type { Logger } from '../log.js'

export interface StartReadsOptions {
  /** Resolves once the store answered at least once. */
  storeReady: () => Promise<void>
  /** Each read, in order; a throw retries them all from the first after `retryMs` (doubling up to 10 s). */
  reads: Array<() => Promise<unknown>>
  /** Runs once every read succeeded (the coordinator starts contending). */
  onDone: () => void
  logger: Logger
  retryMs?: number
}

export interface StartReads {
  done (): boolean
  close (): void
}

const MAX_RETRY_MS = 10_000

export function runStartReads (o: StartReadsOptions): StartReads {
  let done = false
  let closed = false
  let timer: NodeJS.Timeout | null = null
  let delay = o.retryMs ?? 250
  const attempt = async (): Promise<void> => {
    if (closed) return
    try {
      for (const read of o.reads) await read()
      if (closed) return
      done = true
      o.onDone()
    } catch (err) {
      if (closed) return
      o.logger.warn({ err, retry_ms: delay }, 'the start-up reads from the store failed; retrying (submissions are refused until they succeed)')
      timer = setTimeout(() => { timer = null; attempt().catch(() => {}) }, delay)
      delay = Math.min(delay * 2, MAX_RETRY_MS)
    }
  }
  o.storeReady().then(async () => { await attempt() }, () => {})
  return {
    done: () => done,
    close: () => {
      closed = true
      if (timer !== null) clearTimeout(timer)
    }
  }
}
