/**
 * What a load generator is asked to do and what it reports, whichever generator runs (wrk or autocannon).
 */
import type { BodyTemplate } from '../lib/intents.js'

export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:8080 */
  url: string
  method: 'GET' | 'POST'
  path: string
  /** POST bodies: each request gets `prefix + <fresh nonce> + suffix`. */
  body?: { template: BodyTemplate, nonceBase: number }
  /** POST bodies signed beforehand, one per line of `file` (`count` of them), sent in turn (see lib/signed.ts). */
  bodies?: { file: string, count: number }
  connections: number
  durationSec: number
}

export interface LoadResult {
  generator: 'wrk' | 'autocannon'
  requests: number
  durationSec: number
  rps: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  /** Answers with status 400 or more (wrk) / outside 2xx (autocannon). */
  badStatus: number
  /** Connection errors and timeouts. */
  errors: number
}

export interface LoadGenerator {
  readonly name: 'wrk' | 'autocannon'
  run (spec: LoadSpec): Promise<LoadResult>
}
