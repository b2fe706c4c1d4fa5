/** How long to wait before the next try: the gateway's Retry-After, or a backoff where it gave none. */

/** Seconds from a Retry-After header (delay-seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterSecs (header: string | null, nowMs = Date.now()): number | null {
  if (header === null) return null
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000))
}

/**
 * The wait, with jitter on top: clients refused by the same drain are told the same seconds, and would come back
 * in one burst at the moment it ends. Never shorter than the gateway asked.
 */
export function withJitter (baseMs: number, random: () => number): number {
  return baseMs + Math.floor(random() * Math.max(250, baseMs * 0.2))
}

/** Exponential backoff from 250 ms, capped at 5 s, for tries the gateway gave no Retry-After for. */
export function backoffMs (failures: number): number {
  return Math.min(5000, 250 * 2 ** Math.max(0, failures - 1))
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
