/**
 * The configured upstreams (colors): one undici Pool each, and an active health check per upstream that GETs
 * `health_path` every `health_interval_ms` (any 2xx within `health_timeout_ms` is a success). A healthy upstream
 * turns unhealthy after `unhealthy_threshold` consecutive failures, an unhealthy one healthy after
 * `healthy_threshold` successes; before the first check the state is `unknown` and the first result decides.
 */
import { Pool } from 'undici'
import type { Logger } from 'pino'
import { COLORS, type Color, type Config, type UpstreamConfig } from '../config/schema.js'
import { channels } from '../observability/channels.js'

/** An upstream's health as the proxy routes by it; `unknown` before its first check. */
export type UpstreamHealth = 'unknown' | 'healthy' | 'unhealthy'

/** What the admin API shows per upstream (inflight counts come from the store, not from here). */
export interface UpstreamState {
  color: Color
  url: string
  versions: readonly string[]
  status: UpstreamHealth
  healthy: boolean
  /** Unix ms of the last completed check, null before the first. */
  last_check_at_ms: number | null
  last_check_latency_ms: number | null
  /** Why the last check failed (status code or transport error), null when it passed. */
  last_error: string | null
  consecutive_successes: number
  consecutive_failures: number
}

export interface Upstream {
  readonly color: Color
  readonly config: UpstreamConfig
  readonly pool: Pool
  /** `host:port` of the upstream, for the Host header of forwarded requests. */
  readonly host: string
  /** The path of the upstream's URL without a trailing slash (`''` for none): every forwarded path is put under it. */
  readonly basePath: string
  state (): UpstreamState
  /** Runs one health check now (the timer runs them on its own; tests and the admin API may ask). */
  check (): Promise<UpstreamState>
}

export interface Upstreams {
  get (color: Color): Upstream | undefined
  states (): UpstreamState[]
  /** Starts the health-check timers (the first check runs at once). */
  start (): void
  /** Stops the checks and closes the pools gracefully (pending requests finish). */
  close (): Promise<void>
  /** Stops the checks and aborts everything in the pools. */
  destroy (): Promise<void>
}

export function createUpstreams (config: Config, logger: Logger, now: () => number): Upstreams {
  const all = new Map<Color, UpstreamImpl>()
  for (const color of COLORS) {
    const cfg = config.upstreams[color]
    if (cfg !== undefined) all.set(color, new UpstreamImpl(color, cfg, logger, now))
  }
  return {
    get: (color) => all.get(color),
    states: () => [...all.values()].map((u) => u.state()),
    start: () => { for (const u of all.values()) u.start() },
    close: async () => { await Promise.all([...all.values()].map(async (u) => await u.close())) },
    destroy: async () => { await Promise.all([...all.values()].map(async (u) => await u.destroy())) }
  }
}

class UpstreamImpl implements Upstream {
  readonly pool: Pool
  readonly host: string
  readonly basePath: string
  private status: UpstreamHealth = 'unknown'
  private lastCheckAt: number | null = null
  private lastLatency: number | null = null
  private lastError: string | null = null
  private successes = 0
  private failures = 0
  private timer: NodeJS.Timeout | null = null
  private running: Promise<UpstreamState> | null = null
  private stopped = false

  constructor (
    readonly color: Color,
    readonly config: UpstreamConfig,
    private readonly logger: Logger,
    private readonly now: () => number
  ) {
    const url = new URL(config.url)
    this.host = url.host
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.pool = new Pool(url.origin, {
      connections: config.connections,
      keepAliveTimeout: 30_000,
      // Pipelining would let one slow submission hold back others on the same socket.
      pipelining: 1
    })
  }

  start (): void {
    if (this.timer !== null || this.stopped) return
    this.check().catch(() => {})
    this.timer = setInterval(() => { this.check().catch(() => {}) }, this.config.health_interval_ms)
    this.timer.unref()
  }

  state (): UpstreamState {
    return {
      color: this.color,
      url: this.config.url,
      versions: this.config.versions,
      status: this.status,
      healthy: this.status === 'healthy',
      last_check_at_ms: this.lastCheckAt,
      last_check_latency_ms: this.lastLatency,
      last_error: this.lastError,
      consecutive_successes: this.successes,
      consecutive_failures: this.failures
    }
  }

  async check (): Promise<UpstreamState> {
    // One check at a time: a slow upstream must not pile up checks.
    this.running ??= this.runCheck().finally(() => { this.running = null })
    return await this.running
  }

  private async runCheck (): Promise<UpstreamState> {
    const started = performance.now()
    let error: string | null = null
    let statusCode: number | null = null
    try {
      const res = await this.pool.request({
        method: 'GET',
        path: this.basePath + this.config.health_path,
        headers: { 'user-agent': 'intent-gate-health' },
        signal: AbortSignal.timeout(this.config.health_timeout_ms)
      })
      statusCode = res.statusCode
      await res.body.dump()
      if (statusCode < 200 || statusCode > 299) error = `status ${statusCode}`
    } catch (err) {
      const e = err as Error & { code?: string }
      error = e.name === 'TimeoutError' ? `timeout after ${this.config.health_timeout_ms} ms` : (e.code ?? e.message)
    }
    const latency = performance.now() - started
    if (this.stopped) return this.state()
    this.record(error, latency)
    if (channels.upstream.hasSubscribers) {
      channels.upstream.publish({ upstream: this.color, route: 'health', status: statusCode, durationMs: latency })
    }
    return this.state()
  }

  private record (error: string | null, latency: number): void {
    const before = this.status
    this.lastCheckAt = this.now()
    this.lastLatency = Math.round(latency * 1000) / 1000
    this.lastError = error
    if (error === null) {
      this.successes++
      this.failures = 0
      if (this.status === 'unknown' || (this.status === 'unhealthy' && this.successes >= this.config.healthy_threshold)) this.status = 'healthy'
    } else {
      this.failures++
      this.successes = 0
      if (this.status === 'unknown' || (this.status === 'healthy' && this.failures >= this.config.unhealthy_threshold)) this.status = 'unhealthy'
    }
    if (before !== this.status) {
      const log = { upstream: this.color, url: this.config.url, from: before, to: this.status, error }
      if (this.status === 'healthy') this.logger.info(log, 'upstream healthy')
      else this.logger.warn(log, 'upstream unhealthy')
    }
  }

  private stop (): void {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  async close (): Promise<void> {
    this.stop()
    if (!this.pool.closed && !this.pool.destroyed) await this.pool.close()
  }

  async destroy (): Promise<void> {
    this.stop()
    if (!this.pool.destroyed) await this.pool.destroy()
  }
}
