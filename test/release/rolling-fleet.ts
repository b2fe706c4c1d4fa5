/**
 * The rolling test's fleet and its clients (test/release/rolling.test.ts).
 *
 * `Fleet` is what a Kubernetes Service does for the gateways: it sends traffic only to instances whose /readyz
 * answers 200 (polled every 50 ms), and an instance about to stop is first taken out of the rotation and its
 * open requests are let finish (the endpoint removal and preStop wait of a rolling update), then it gets SIGTERM.
 *
 * `Traffic` is the clients: signed 1.0 intents at a steady rate, each with its own Idempotency-Key, retried
 * with the same key and bytes on the next ready instance after a 503 or a 409 (waiting what Retry-After says,
 * capped so the test stays short), until a 2xx. Every other answer is kept as a violation: the promise is that a
 * client of a gateway being upgraded sees nothing but 503/409 with Retry-After before its intent is accepted.
 */
import { Agent, fetch } from 'undici'
import type { GatewayProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

export interface Member {
  readonly name: string
  readonly gw: GatewayProcess
  /** /readyz answered 200 at the last poll. */
  ready: boolean
  /** Still in the rotation (false once it is being stopped). */
  routable: boolean
  /** Client requests to it not answered yet. */
  open: number
}

export class Fleet {
  readonly members: Member[] = []
  private polling = true
  private readonly poller: Promise<void>

  constructor () {
    this.poller = (async () => {
      while (this.polling) {
        await Promise.all(this.members.filter((m) => m.routable).map(async (m) => {
          try {
            m.ready = (await fetch(`${m.gw.adminUrl}/readyz`)).status === 200
          } catch {
            m.ready = false
          }
        }))
        await sleep(50)
      }
    })()
  }

  /** Adds a started instance; resolves once it is ready and takes traffic. */
  async add (name: string, gw: GatewayProcess): Promise<Member> {
    const member: Member = { name, gw, ready: false, routable: true, open: 0 }
    this.members.push(member)
    const deadline = Date.now() + 30_000
    while (!member.ready) {
      if (Date.now() > deadline) throw new Error(`${name} did not become ready within 30 s: ${gw.stderr().slice(-2000)}`)
      await sleep(50)
    }
    return member
  }

  /** The instances in the rotation and ready. */
  targets (): Member[] {
    return this.members.filter((m) => m.routable && m.ready)
  }

  /** The instances still running (in the rotation or not yet stopped). */
  live (): Member[] {
    return this.members.filter((m) => m.routable)
  }

  /** Takes `name` out of the rotation, lets its open requests finish, stops it (SIGTERM); resolves to its exit code. */
  async remove (name: string): Promise<number | null> {
    const member = this.members.find((m) => m.name === name && m.routable)
    if (member === undefined) throw new Error(`no running instance ${name}`)
    member.routable = false
    while (member.open > 0) await sleep(20)
    return (await member.gw.stop('SIGTERM')).code
  }

  async close (): Promise<void> {
    this.polling = false
    await this.poller
  }
}

export interface Violation { key: string, instance: string, status: number, retryAfter: string | null, body: string }

export interface IntentResult {
  key: string
  /** `<owner>:<nonce>`: how the sample services' ledgers name it. */
  ledgerKey: string
  accepted: boolean
  attempts: number
  /** What was sent, and the 2xx answer (`<status> <body>`) once accepted: a replay must give it back. */
  request: string
  answer: string | null
}

export class Traffic {
  readonly violations: Violation[] = []
  /** Transport errors (a refused connection, a reset): none while instances leave the rotation before they stop. */
  readonly transportErrors: string[] = []
  readonly refusals = { 503: 0, 409: 0 }
  readonly answered: IntentResult[] = []
  private readonly pending = new Set<Promise<void>>()
  private readonly signer = makeSigner()
  private readonly agent = new Agent({ connections: 32 })
  private sent = 0
  private sending = false
  private loop: Promise<void> | null = null

  constructor (private readonly fleet: Fleet, private readonly ratePerSec: number, private readonly runId: string) {}

  /** Starts (or resumes) sending new intents at the rate. */
  start (): void {
    if (this.sending) return
    this.sending = true
    this.loop = (async () => {
      const started = performance.now()
      const base = this.sent
      while (this.sending) {
        const owed = base + Math.floor((performance.now() - started) * this.ratePerSec / 1000)
        while (this.sent < owed) this.track(this.submit(this.sent++))
        await sleep(10)
      }
    })()
  }

  /** Stops sending new intents and waits until every one sent has its 2xx (or has failed for good). */
  async pause (): Promise<void> {
    this.sending = false
    await this.loop
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  async close (): Promise<void> {
    await this.pause()
    await this.agent.close()
  }

  /** How many intents were sent so far. */
  get count (): number {
    return this.sent
  }

  private track (p: Promise<void>): void {
    this.pending.add(p)
    p.finally(() => this.pending.delete(p)).catch(() => {})
  }

  private async submit (index: number): Promise<void> {
    const intent = signIntentV1(this.signer)
    const body = JSON.stringify(intent)
    const key = `rolling-${this.runId}-${index}`
    const result: IntentResult = { key, ledgerKey: `${intent.user}:${String(intent.nonce)}`, accepted: false, attempts: 0, request: body, answer: null }
    const giveUpAt = Date.now() + 180_000
    while (Date.now() < giveUpAt) {
      const targets = this.fleet.targets()
      const member = targets[(index + result.attempts) % Math.max(1, targets.length)]
      if (member === undefined) {
        await sleep(50) // no ready instance at this moment (a drain's readiness, a restart): wait, as a client of a Service would
        continue
      }
      result.attempts++
      member.open++
      let wait = 50
      try {
        const res = await fetch(`${member.gw.proxyUrl}/intents`, {
          dispatcher: this.agent,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body
        })
        const text = await res.text()
        if (res.status >= 200 && res.status < 300) {
          result.accepted = true
          result.answer = `${res.status} ${text}`
          break
        }
        const retryAfter = res.headers.get('retry-after')
        const honest = retryAfter !== null && /^[1-9][0-9]*$/.test(retryAfter)
        if ((res.status === 503 || res.status === 409) && honest && !text.includes('nonce-reused')) {
          this.refusals[res.status]++
          wait = Math.min(Number(retryAfter) * 1000, 300)
        } else {
          this.violations.push({ key, instance: member.name, status: res.status, retryAfter, body: text.slice(0, 300) })
          break
        }
      } catch (err) {
        this.transportErrors.push(`${member.name}: ${err instanceof Error ? `${err.message} ${String((err.cause as Error | undefined)?.message ?? '')}` : String(err)}`)
      } finally {
        member.open--
      }
      await sleep(wait)
    }
    this.answered.push(result)
  }
}
