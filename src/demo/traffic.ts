/**
 * The demo's clients: one `intent-gate-sandbox load` process sending signed 1.0 intents through the gateway at a
 * steady rate with the client library, intent-gate/client (each retried on 503 after its Retry-After with the
 * same Idempotency-Key and bytes, then followed until it settles). Its JSON lines are read here: the latest figures
 * while it runs, the summary once it is stopped.
 */
import { DemoError } from './errors.js'
import { SANDBOX_BIN, type Child, type ChildProcesses } from './children.js'
import type { LoadCounts, LoadFailure } from './load-figures.js'

/** The load generator's figures as of a progress line. */
export type TrafficFigures = LoadCounts & { elapsed_s: number }

export interface TrafficSummary extends TrafficFigures {
  failures: LoadFailure[]
  /** false when some intents had no final answer or did not end within the finish timeout. */
  finished: boolean
}

export interface TrafficOptions {
  target: string
  rate: number
  /** How long intents may take to finish once sending stops. */
  finishTimeoutSecs: number
}

export class Traffic {
  private latest: TrafficFigures | null = null
  private readonly summary: Promise<TrafficSummary>

  private constructor (private readonly children: ChildProcesses, private readonly child: Child) {
    this.summary = new Promise<TrafficSummary>((resolve, reject) => {
      child.onLine((line) => {
        let doc: { type?: string } & Partial<TrafficSummary>
        try {
          doc = JSON.parse(line) as typeof doc
        } catch {
          return
        }
        if (doc.type === 'progress') this.latest = doc as TrafficFigures
        if (doc.type === 'summary') resolve(doc as TrafficSummary)
      })
      child.exited.then((exit) => reject(new DemoError(`the load generator exited (${exit.signal ?? `status ${exit.code ?? '?'}`}) without a summary:\n${child.stderrTail()}`)), reject)
    })
    // Read only through stop(); until then a rejection must not count as unhandled.
    this.summary.catch(() => {})
  }

  static async start (children: ChildProcesses, o: TrafficOptions): Promise<Traffic> {
    const child = children.start('the load generator', SANDBOX_BIN, [
      'load', '--target', o.target, '--rate', String(o.rate), '--progress-ms', '200', '--poll-ms', '200',
      '--finish-timeout', String(o.finishTimeoutSecs)
    ])
    await children.firstJson<{ type: string }>(child, 10_000)
    return new Traffic(children, child)
  }

  /** The latest figures (all zero before the first progress line). */
  figures (): TrafficFigures {
    return this.latest ?? {
      elapsed_s: 0,
      sent: 0,
      accepted: 0,
      replayed: 0,
      refused_503: 0,
      intents_refused_503: 0,
      conflicts_409: 0,
      transport_retries: 0,
      failed: 0,
      settled: 0,
      ended_other: 0,
      waiting: 0,
      unsettled: 0,
      last_retry_after_s: null,
      last_503_type: null,
      answered_versions: {},
      slow_answers: 0,
      slow_answers_ms: [],
      waiting_refused: 0,
      slowest_refused: null
    }
  }

  /** Ends the clients at once, open intents and all (Ctrl-C: nobody waits for the summary). */
  abort (): void {
    this.children.signal(this.child, 'SIGKILL')
  }

  /** Stops sending; resolves once every intent has its answer and has ended (or the finish timeout passed). */
  async stop (finishTimeoutSecs: number): Promise<TrafficSummary> {
    this.children.signal(this.child, 'SIGTERM')
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        this.summary,
        new Promise<never>((resolve, reject) => {
          timer = setTimeout(() => reject(new DemoError('the load generator gave no summary in time')), (finishTimeoutSecs + 10) * 1000)
        })
      ])
    } finally {
      clearTimeout(timer)
      await this.children.stop(this.child)
    }
  }
}
