/**
 * This instance's record in the fleet's registry: written at start, rewritten every REFRESH_MS (with its state,
 * `serving` or `leaving`), removed when it has left. The fleet as last read is kept for /metrics and the status
 * page. A refresh that fails (the store is down) is tried again at the next tick: the record comes back by
 * itself after a Redis loss.
 */
import type { Logger } from '../log.js'
import { REFRESH_MS } from '../store/redis/registry.js'
import type { InstanceRecord, RegistryStore } from '../store/types.js'

export interface RegistrationOptions {
  store: RegistryStore
  id: string
  version: string
  layout: string
  logger: Logger
  refreshMs?: number
}

export class Registration {
  private state: 'serving' | 'leaving' = 'serving'
  private readonly startedAtMs = Date.now()
  private timer: NodeJS.Timeout | null = null
  private lastFleet: InstanceRecord[] | null = null
  private refreshing: Promise<void> = Promise.resolve()
  private deregistered = false
  private started = false
  private failing = false

  constructor (private readonly o: RegistrationOptions) {}

  get id (): string {
    return this.o.id
  }

  start (): void {
    if (this.timer !== null || this.deregistered) return
    this.started = true
    const tick = (): void => {
      this.refreshing = this.refresh()
      this.refreshing.finally(() => {
        if (this.timer !== null) this.timer = setTimeout(tick, this.o.refreshMs ?? REFRESH_MS)
      }).catch(() => {})
    }
    this.timer = setTimeout(tick, 0)
  }

  /** The fleet as the last refresh read it (null before the first succeeded). */
  fleet (): InstanceRecord[] | null {
    return this.lastFleet
  }

  async setState (state: 'serving' | 'leaving'): Promise<void> {
    this.state = state
    await this.refreshing
    await this.refresh()
  }

  /** Stops refreshing and removes the record; a store that cannot answer leaves it to go `gone` by its TTL. */
  async deregister (): Promise<void> {
    this.close()
    this.deregistered = true
    // Never started (the store never answered, or the namespace was refused): nothing of its own to remove.
    if (!this.started) return
    await this.refreshing
    try {
      await this.o.store.deregisterInstance(this.o.id)
      this.o.logger.info({ instance: this.o.id }, 'deregistered from the fleet')
    } catch (err) {
      this.o.logger.warn({ err, instance: this.o.id }, 'cannot deregister from the fleet; the record goes gone by itself')
    }
  }

  close (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private async refresh (): Promise<void> {
    if (this.deregistered) return
    try {
      this.lastFleet = await this.o.store.refreshInstance({
        id: this.o.id, version: this.o.version, layout: this.o.layout, state: this.state, started_at_ms: this.startedAtMs
      })
      if (this.failing) this.o.logger.info({ instance: this.o.id }, 'registered in the fleet again')
      this.failing = false
    } catch (err) {
      if (!this.failing) this.o.logger.warn({ err, instance: this.o.id }, 'cannot refresh this instance\'s record in the fleet; retrying')
      this.failing = true
    }
  }
}
