/**
 * The chaos run's clients: signed 1.0 intents at a steady rate, each with its own Idempotency-Key, spread over
 * the gateway instances in service. Each intent is retried with the same key and the same bytes, on the next
 * instance, until it gets a 2xx: after a 503 (as long as Retry-After says, capped), a 409 (in progress), a 502 or
 * 504 whose problem type is `upstream-outcome-unknown`, or a connection error (an instance being killed). Any
 * other answer is final and counted as a non-retryable error by status.
 */
import { Agent, fetch } from 'undici'
import { makeSigner, signIntentV1, type IntentV1 } from '../../sandbox/client/index.js'

/**
 * The clients' connection pool: at most this many connections per gateway instance, the rest queue here. Without
 * a bound, answers slowed by a fault (a held submission waits up to 10 s) pile up thousands of sockets.
 */
const CONNECTIONS_PER_INSTANCE = 128

export interface IntentOutcome {
  key: string
  /** `<owner>:<nonce>`: how the sample services' ledgers name it. */
  ledgerKey: string
  /** 2xx answers (the client stops at the first). */
  successes: number
  /** The final non-retryable status, or null. */
  failedStatus: number | null
  attempts: number
  /** From the first try to the final answer (or to giving up). */
  waitMs: number
}

export interface ClientTally {
  sent: number
  retries: { 503: number, 409: number, outcome_unknown: number, connection: number }
  /** The first few non-retryable answers, for the report. */
  samples: Array<{ key: string, status: number, body: string }>
}

export interface ClientOptions {
  /** The proxy URLs that take traffic now (an instance being restarted is left out). */
  targets: () => string[]
  ratePerSec: number
  runId: string
  /** Retry-After is honoured up to this (the clients are impatient so the run stays short). */
  retryCapMs?: number
  /** An intent still without a final answer this long after its first try is given up (and counted). */
  giveUpMs?: number
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

export class ChaosClients {
  readonly tally: ClientTally = { sent: 0, retries: { 503: 0, 409: 0, outcome_unknown: 0, connection: 0 }, samples: [] }
  private readonly outcomes: Array<Promise<IntentOutcome>> = []
  private readonly signer = makeSigner()
  private readonly agent = new Agent({ connections: CONNECTIONS_PER_INSTANCE })
  private readonly signed: IntentV1[] = []
  private readonly state = { running: false }
  private loop: Promise<void> | null = null

  constructor (private readonly options: ClientOptions) {}

  /**
   * Signs `count` intents ahead (a few ms each: at 200/s, signing during the run would take most of a core from
   * the clients and the fault timeline). Yields between batches so whatever else starts meanwhile is not held up.
   */
  async prepare (count: number): Promise<void> {
    while (this.signed.length < count) {
      for (let i = 0; i < 50 && this.signed.length < count; i++) this.signed.push(signIntentV1(this.signer))
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Sends at the rate until `finish` (retries go on until every intent has its answer). */
  start (): void {
    this.state.running = true
    const started = performance.now()
    this.loop = (async () => {
      // Every 10 ms, as many new intents as the rate owes by now.
      while (this.state.running) {
        const owed = Math.floor((performance.now() - started) * this.options.ratePerSec / 1000)
        while (this.tally.sent < owed) this.outcomes.push(this.submit(this.tally.sent++))
        await sleep(10)
      }
    })()
  }

  /** Stops sending new intents and waits until every one has its final answer. */
  async finish (): Promise<IntentOutcome[]> {
    this.state.running = false
    await this.loop
    const outcomes = await Promise.all(this.outcomes)
    await this.agent.close()
    return outcomes
  }

  private async submit (index: number): Promise<IntentOutcome> {
    const intent = this.signed[index] ?? signIntentV1(this.signer)
    const outcome: IntentOutcome = {
      key: `chaos-${this.options.runId}-${index}`, ledgerKey: `${intent.user}:${intent.nonce}`, successes: 0, failedStatus: null, attempts: 0, waitMs: 0
    }
    const body = JSON.stringify(intent)
    const cap = this.options.retryCapMs ?? 500
    const first = performance.now()
    const giveUpAt = first + (this.options.giveUpMs ?? 300_000)
    while (performance.now() < giveUpAt) {
      const targets = this.options.targets()
      const target = targets[(index + outcome.attempts) % Math.max(1, targets.length)]
      outcome.attempts++
      let wait = 50
      try {
        if (target === undefined) throw new Error('no instance in service')
        const res = await fetch(`${target}/intents`, {
          dispatcher: this.agent,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': outcome.key },
          body
        })
        const text = await res.text()
        if (res.status >= 200 && res.status < 300) {
          outcome.successes++
          break
        }
        if (res.status === 503) {
          this.tally.retries[503]++
          wait = Math.min(Math.max(Number(res.headers.get('retry-after')) * 1000, 50), cap)
        } else if (res.status === 409 && !text.includes('nonce-reused')) {
          this.tally.retries[409]++
          wait = 100
        } else if ((res.status === 502 || res.status === 504) && text.includes('upstream-outcome-unknown')) {
          this.tally.retries.outcome_unknown++
          wait = Math.min(Math.max(Number(res.headers.get('retry-after')) * 1000, 50), cap)
        } else {
          outcome.failedStatus = res.status
          if (this.tally.samples.length < 10) this.tally.samples.push({ key: outcome.key, status: res.status, body: text.slice(0, 300) })
          break
        }
      } catch {
        this.tally.retries.connection++
      }
      await sleep(wait)
    }
    outcome.waitMs = performance.now() - first
    return outcome
  }
}
