/**
 * This instance's count of each upstream's answers to client requests (submissions and status reads, from the
 * proxy's `upstream` channel: a status below 500 answered, 5xx or no answer failed; health checks and the
 * reconciler's polls are not client traffic and do not count), kept in BUCKET_MS buckets over a bounded ring.
 * While the coordinator's notice says `verifying`, it reports the count of the new upstream's answers within the
 * window to the store hash `analysis:<upgrade id>` every REPORT_MS (its own field), and once more after the window
 * ends, so the leader (src/coordinator/verify.ts) sums what every instance saw.
 */
import diagnostics from 'node:diagnostics_channel'
import { randomUUID } from 'node:crypto'
import type { Color } from '../config/schema.js'
import { channels, type UpstreamMessage } from '../observability/channels.js'
import { answersHash, type AnswerReport, type VerifyWindow } from '../notice/notice.js'
import type { DocumentStore } from '../store/types.js'
import type { NoticeWatcher } from './notice-watcher.js'

const BUCKET_MS = 100
const REPORT_MS = 250
/** The ring outlives the longest window by this much (a window opened while this instance was busy). */
const RING_SLACK_SECS = 60

interface Bucket { epoch: number, answers: number, failed: number }

export class AnswerTally {
  private readonly rings = new Map<Color, Bucket[]>()
  private readonly size: number
  private readonly instance = randomUUID().slice(0, 12)
  private timer: NodeJS.Timeout | null = null
  private window: { id: string, w: VerifyWindow } | null = null
  private unsubscribe: (() => void) | null = null
  private readonly onMessage = (m: unknown): void => { this.count(m as UpstreamMessage) }

  constructor (
    private readonly store: Pick<DocumentStore, 'hashSet'>,
    private readonly notices: NoticeWatcher,
    watchSecs: number,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now
  ) {
    this.size = Math.ceil(((watchSecs + RING_SLACK_SECS) * 1000) / BUCKET_MS)
  }

  start (): void {
    if (this.unsubscribe !== null) return
    diagnostics.subscribe(channels.upstream.name, this.onMessage)
    const off = this.notices.subscribe((state) => { this.onNotice(state.notice?.state === 'verifying' && state.notice.verifying !== null ? { id: state.notice.id, w: state.notice.verifying } : null) })
    this.unsubscribe = () => {
      diagnostics.unsubscribe(channels.upstream.name, this.onMessage)
      off()
    }
  }

  close (): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** Answers of `color` from `fromMs` to `untilMs` (whole buckets). */
  counts (color: Color, fromMs: number, untilMs: number): { answers: number, failed: number } {
    const ring = this.rings.get(color)
    let answers = 0
    let failed = 0
    if (ring === undefined) return { answers, failed }
    const first = Math.floor(fromMs / BUCKET_MS)
    const last = Math.floor(untilMs / BUCKET_MS)
    for (let epoch = Math.max(first, last - this.size + 1); epoch <= last; epoch++) {
      const b = ring[epoch % this.size]
      if (b !== undefined && b.epoch === epoch) {
        answers += b.answers
        failed += b.failed
      }
    }
    return { answers, failed }
  }

  private count (m: UpstreamMessage): void {
    if (m.route !== 'submit' && m.route !== 'status') return
    const color = m.upstream as Color
    let ring = this.rings.get(color)
    if (ring === undefined) {
      ring = new Array<Bucket>(this.size)
      this.rings.set(color, ring)
    }
    const epoch = Math.floor(this.now() / BUCKET_MS)
    let b = ring[epoch % this.size]
    if (b === undefined || b.epoch !== epoch) {
      b = { epoch, answers: 0, failed: 0 }
      ring[epoch % this.size] = b
    }
    b.answers++
    if (m.status === null || m.status >= 500) b.failed++
  }

  private onNotice (next: { id: string, w: VerifyWindow } | null): void {
    if (this.window?.id === next?.id) return
    this.window = next
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    if (next === null) return
    // Reports go on a little past the window's end, so the last answers in it are counted.
    this.timer = setInterval(() => {
      this.report(next)
      // Once the window is over, the leader waits a little for the last reports, then ends the phase.
      if (this.now() > next.w.until_ms + REPORT_MS && this.timer !== null) {
        clearInterval(this.timer)
        this.timer = null
      }
    }, REPORT_MS)
    this.timer.unref()
  }

  private report (window: { id: string, w: VerifyWindow }): void {
    const { answers, failed } = this.counts(window.w.color, window.w.from_ms, Math.min(this.now(), window.w.until_ms))
    const report: AnswerReport = { answers, failed, at_ms: this.now() }
    this.store.hashSet(answersHash(window.id), { [this.instance]: report }).catch(this.onError)
  }
}
