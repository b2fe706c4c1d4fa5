/**
 * One instance leaves the fleet (docs/specification.md section 3, *Instances*): `instance leave`, `POST /admin/instance/leave`,
 * SIGTERM and SIGINT all run this, once. The fleet's drain switch is never touched: the others admit throughout.
 *
 *   1. readiness off at once (load balancers stop sending), the registry says `leaving`; held submissions are
 *      answered now (503 with Retry-After) so they retry elsewhere
 *   2. admission goes on for `proxy.leave_grace_secs` (requests already routed here still land), then every new
 *      submission is refused: 503 instance-leaving, Retry-After 1
 *   3. open exchanges finish, up to `proxy.shutdown_grace_secs` (or the leave's own deadline)
 *   4. what this process alone holds goes to the store: writes that waited for Redis (a bind, a release, an
 *      abandoned admission) are replayed
 *   5. it deregisters: state `left`. A signal then closes the process (exit 0); an API leave leaves it running,
 *      refusing, until the kubelet's SIGTERM.
 */
import type { Logger } from '../log.js'
import type { AdmissionGate } from '../proxy/admission-gate.js'
import type { Registration } from './registration.js'

export type LeaveState = 'serving' | 'leaving' | 'left'

export interface LeaveDeps {
  gate: AdmissionGate
  proxy: { stopHolding: () => void, openExchanges: () => number, held: () => number, abandonExchanges: () => Promise<void> }
  /** Writes still waiting for the store, and their replay (the Redis store; absent for the embedded one). */
  pendingWrites: () => number
  flushWrites: () => Promise<void>
  registration: Pick<Registration, 'setState' | 'deregister'>
  leaveGraceSecs: number
  shutdownGraceSecs: number
  logger: Logger
}

export interface LeaveStatus {
  state: LeaveState
  /** Submissions, status reads and WebSocket tunnels still open on this instance. */
  exchanges: number
  /** Submissions held here for a coordinated upgrade. */
  held: number
  /** What only this process holds: store writes (binds, releases, abandoned admissions) not in Redis yet. */
  unbound: number
  leaving_since: string | null
  /** When admission stops (the grace's end) and when the leave gives up waiting. */
  refusing_from: string | null
  deadline: string | null
}

/** How often the leave looks at open exchanges and waiting writes. */
const POLL_MS = 50

export class InstanceLeave {
  private state: LeaveState = 'serving'
  private sinceMs: number | null = null
  private deadlineMs: number | null = null
  private running: Promise<void> | null = null
  private hurried = false
  private wake: (() => void) | null = null

  constructor (private readonly d: LeaveDeps) {}

  /** Starts the leave (idempotent; a later call may only shorten the deadline); resolves when it is done. */
  async leave (deadlineSecs?: number): Promise<void> {
    const now = Date.now()
    const grace = this.d.leaveGraceSecs * 1000
    const deadline = now + (deadlineSecs !== undefined ? deadlineSecs * 1000 : grace + this.d.shutdownGraceSecs * 1000)
    this.deadlineMs = this.deadlineMs === null ? deadline : Math.min(this.deadlineMs, deadline)
    this.running ??= this.run(now)
    await this.running
  }

  /** Ends the waits at once (a second signal); the leave finishes what it can without waiting. */
  hurry (): void {
    this.hurried = true
    this.wake?.()
  }

  status (): LeaveStatus {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
    return {
      state: this.state,
      exchanges: this.d.proxy.openExchanges(),
      held: this.d.proxy.held(),
      unbound: this.d.pendingWrites(),
      leaving_since: iso(this.sinceMs),
      refusing_from: iso(this.sinceMs === null ? null : this.sinceMs + this.d.leaveGraceSecs * 1000),
      deadline: iso(this.deadlineMs)
    }
  }

  private async run (startedMs: number): Promise<void> {
    const log = this.d.logger
    this.state = 'leaving'
    this.sinceMs = startedMs
    this.d.gate.leave()
    this.d.proxy.stopHolding()
    log.info({ leave_grace_secs: this.d.leaveGraceSecs, deadline: new Date(this.deadlineMs ?? startedMs).toISOString() },
      'leaving the fleet: not ready; admitting through the grace, then refusing (the fleet\'s drain is untouched)')
    await this.d.registration.setState('leaving')
    await this.sleepUntil(Math.min(startedMs + this.d.leaveGraceSecs * 1000, this.deadline()))
    this.d.gate.refuse()
    log.info('leave grace over: new submissions are refused (503 instance-leaving); open exchanges finish')
    const exchangesBy = Math.min(Date.now() + this.d.shutdownGraceSecs * 1000, this.deadline())
    await this.until(() => this.d.proxy.openExchanges() === 0, exchangesBy)
    if (this.d.proxy.openExchanges() > 0) {
      // Submissions still waiting for their upstream are cut now: sent, unanswered, so their records stay in the
      // store marked unknown with their owner, for the client's retry (on another instance) and any reconciler.
      log.warn({ exchanges: this.d.proxy.openExchanges() }, 'leave: exchanges still open at the grace\'s end; handing them to the store as unknown outcomes')
      await this.d.proxy.abandonExchanges()
      await this.until(() => this.d.proxy.openExchanges() === 0, Math.max(this.deadline(), Date.now() + 1000))
    }
    // Each write retried until the store takes it or the leave's deadline passes.
    await this.until(() => this.d.pendingWrites() === 0, this.deadline(), async () => { await this.d.flushWrites().catch(() => {}) })
    const status = this.status()
    if (status.exchanges > 0 || status.unbound > 0) {
      log.warn({ exchanges: status.exchanges, unbound: status.unbound }, 'leave deadline: still holding these; the store\'s records stay (any instance\'s reconciler ends them)')
    }
    await this.d.registration.deregister()
    this.state = 'left'
    log.info('left the fleet')
  }

  private deadline (): number {
    return this.deadlineMs ?? Date.now()
  }

  private async sleepUntil (ms: number): Promise<void> {
    await this.until(() => false, ms)
  }

  /** Polls `done` (running `step` first each time) until true, `byMs`, or hurry(). */
  private async until (done: () => boolean, byMs: number, step?: () => Promise<void>): Promise<void> {
    for (;;) {
      if (step !== undefined) await step()
      if (done() || Date.now() >= byMs || this.hurried) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.wake = null; resolve() }, Math.min(POLL_MS, Math.max(0, byMs - Date.now())))
        this.wake = () => { clearTimeout(timer); this.wake = null; resolve() }
      })
    }
  }
}
