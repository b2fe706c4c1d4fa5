/**
 * A fixed number of submissions as fast as the target takes them, from the bench's own process (undici, one
 * request per connection at a time): for loading a gateway with inflight intents before a case measures
 * something else. Not a measurement: the load generators (wrk, autocannon) measure.
 */
import { Pool } from 'undici'

export interface CountResult { sent: number, seconds: number, byStatus: Record<string, number> }

export async function sendCount (
  origin: string,
  path: string,
  count: number,
  connections: number,
  body: (i: number) => string
): Promise<CountResult> {
  const pool = new Pool(origin, { connections, pipelining: 1 })
  const byStatus: Record<string, number> = {}
  let next = 0
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      let key: string
      try {
        const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: body(i) })
        await res.body.dump()
        key = String(res.statusCode)
      } catch (err) {
        key = (err as { code?: string }).code ?? 'error'
      }
      byStatus[key] = (byStatus[key] ?? 0) + 1
    }
  }
  try {
    await Promise.all(Array.from({ length: connections }, worker))
  } finally {
    await pool.close()
  }
  return { sent: count, seconds: (performance.now() - started) / 1000, byStatus }
}
