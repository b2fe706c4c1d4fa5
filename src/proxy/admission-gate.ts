/**
 * This instance's own door, in front of the store's atomic admission (docs/specification.md section 3, *Starting before its
 * store* and *Instances*). The store decides for the fleet (drain, upgrade); the gate decides for this process:
 *
 *   opening  a condition of start is not met yet (the store has not answered and the start-up reads have not run,
 *            the chain RPC has not been read once): 503 store-unavailable with Retry-After, nothing registered
 *   open     admission goes on to the store
 *   leaving  `instance leave` or a signal: /readyz is 503 at once, admission goes on for leave_grace_secs so load
 *            balancers stop sending before anything is refused
 *   refusing the grace ended: 503 instance-leaving, Retry-After 1 (the client retries on another instance)
 *
 * The opening conditions are read when asked (a submission, /readyz), not polled: once every one is met the gate
 * stays open; a store lost later is the store's own refusal (fail closed), not the gate's.
 */
import { InstanceLeavingError, StoreUnavailableError } from '../errors.js'

/** A start condition: null once met, else what it waits for (shown in /readyz). */
export type OpeningCondition = () => string | null

export type GateState = 'opening' | 'open' | 'leaving' | 'refusing'

export class AdmissionGate {
  private opened = false
  private leaving = false
  private refusing = false
  private readonly conditions = new Map<string, OpeningCondition>()

  /** Adds a condition the gate waits for before it first opens. */
  waitFor (name: string, condition: OpeningCondition): void {
    this.conditions.set(name, condition)
  }

  /** The conditions not met yet, by name; empty once open. */
  waiting (): Record<string, string> {
    if (this.opened) return {}
    const waiting: Record<string, string> = {}
    for (const [name, condition] of this.conditions) {
      const reason = condition()
      if (reason !== null) waiting[name] = reason
    }
    if (Object.keys(waiting).length === 0) this.opened = true
    return waiting
  }

  state (): GateState {
    if (this.refusing) return 'refusing'
    if (this.leaving) return 'leaving'
    return Object.keys(this.waiting()).length === 0 ? 'open' : 'opening'
  }

  /** Throws the refusal a submission gets from this instance right now; returns when the store may decide. */
  check (): void {
    if (this.refusing) throw new InstanceLeavingError('this instance is leaving the fleet; nothing was registered: retry (another instance takes it)')
    const waiting = this.waiting()
    const names = Object.keys(waiting)
    if (names.length > 0) throw new StoreUnavailableError(`the gateway is starting and waits for ${names.map((n) => `${n} (${waiting[n] ?? ''})`).join(', ')}`)
  }

  /** Readiness off (load balancers stop sending); admission goes on until `refuse()`. */
  leave (): void {
    this.leaving = true
  }

  /** The leave's grace ended: every later submission is refused with instance-leaving. */
  refuse (): void {
    this.leaving = true
    this.refusing = true
  }

  isLeaving (): boolean {
    return this.leaving
  }
}
