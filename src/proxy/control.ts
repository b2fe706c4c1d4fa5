/**
 * This instance's view of the shared control state (`drain`, `upgrade`, `active`): read once at start, then kept
 * current through the store's watch. The proxy asks it for the active color on every submission and pass-through;
 * admission itself never relies on this view (the store's `admit` checks drain and upgrade atomically).
 *
 * `active` unset means `proxy.initial_active`. A color without an `[upstreams.<color>]` section is ignored and
 * logged, like any value that makes no sense: the last good color stays in force.
 */
import type { Logger } from 'pino'
import type { Color } from '../config/schema.js'
import type { ControlState, ControlStore } from '../store/types.js'
import type { Upstream, Upstreams } from './upstreams.js'

export class ControlView {
  private state: ControlState | null = null
  private active: Color
  private activeUpstream: Upstream
  private unwatch: (() => void) | null = null
  private readonly reported = new Set<string>()

  constructor (
    private readonly store: Pick<ControlStore, 'control' | 'watchControl'>,
    private readonly upstreams: Upstreams,
    private readonly initialActive: Color,
    private readonly logger: Logger
  ) {
    const upstream = upstreams.get(initialActive)
    if (upstream === undefined) throw new Error(`proxy.initial_active: '${initialActive}' has no [upstreams.${initialActive}] section`)
    this.active = initialActive
    this.activeUpstream = upstream
  }

  /** Reads the state once (a store that cannot answer leaves `initial_active` in force) and starts watching. */
  async start (): Promise<void> {
    if (this.unwatch !== null) return
    try {
      this.apply(await this.store.control())
    } catch (err) {
      this.logger.warn({ err }, 'cannot read the control state at start; using proxy.initial_active until the store answers')
    }
    this.unwatch = this.store.watchControl((state) => this.apply(state))
  }

  close (): void {
    this.unwatch?.()
    this.unwatch = null
  }

  current (): ControlState | null {
    return this.state
  }

  activeColor (): Color {
    return this.active
  }

  /** The active color's upstream (always a configured one). */
  upstream (): Upstream {
    return this.activeUpstream
  }

  private apply (state: ControlState): void {
    this.state = state
    // Once every value makes sense again, a later mistake (even the same one) is reported again.
    if (state.invalid.length === 0 && (state.active === null || this.upstreams.get(state.active) !== undefined)) this.reported.clear()
    for (const bad of state.invalid) this.reportOnce(`${bad.key}=${bad.raw}`, { key: bad.key, raw: bad.raw }, 'ignoring a control key value that makes no sense')
    const wanted = state.active ?? this.initialActive
    if (wanted === this.active) return
    const upstream = this.upstreams.get(wanted)
    if (upstream === undefined) {
      this.reportOnce(`active=${wanted}`, { key: 'active', raw: wanted, kept: this.active }, 'ignoring active: no such upstream is configured')
      return
    }
    this.logger.info({ from: this.active, to: wanted }, 'active upstream changed')
    this.active = wanted
    this.activeUpstream = upstream
  }

  private reportOnce (id: string, fields: Record<string, unknown>, message: string): void {
    if (this.reported.has(id)) return
    this.reported.add(id)
    this.logger.warn(fields, message)
  }
}
