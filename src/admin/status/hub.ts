/**
 * One snapshot per interval for every reader of `/status/events`. Each stream used to run the admin reads and
 * `/metrics` itself every second: a thousand anonymous readers took a core and cut submissions by 84% (issue 24).
 * Now one loop builds the snapshot once, serialises it once per audience (the token's full view and the anonymous
 * one, ./public-view.ts), and writes the same bytes to every subscriber. The loop runs only while someone
 * listens; a new subscriber gets the last snapshot at once.
 */
import type { ServerResponse } from 'node:http'

interface Subscriber { res: ServerResponse, full: boolean }

export type Build = () => Promise<Record<string, unknown>>

export class SnapshotHub {
  private readonly subscribers = new Set<Subscriber>()
  private timer: NodeJS.Timeout | null = null
  private running = false
  private last: { full: string, anonymous: string } | null = null
  private builds = 0

  constructor (
    private readonly build: Build,
    private readonly redact: (full: Record<string, unknown>) => Record<string, unknown>,
    private readonly intervalMs: number
  ) {}

  /** Starts streaming to `res` (headers already written); `full` readers presented the token. */
  add (res: ServerResponse, full: boolean, onClose: () => void): void {
    const sub: Subscriber = { res, full }
    this.subscribers.add(sub)
    res.on('close', () => {
      this.subscribers.delete(sub)
      onClose()
      if (this.subscribers.size === 0) this.stop()
    })
    if (this.last !== null) res.write(full ? this.last.full : this.last.anonymous)
    if (!this.running) {
      this.running = true
      this.tick().catch(() => {})
    }
  }

  /** How many snapshots were built (a test and the bench compare it with the number of readers). */
  buildCount (): number {
    return this.builds
  }

  size (): number {
    return this.subscribers.size
  }

  close (): void {
    this.stop()
    for (const { res } of this.subscribers) res.end()
    this.subscribers.clear()
  }

  private stop (): void {
    this.running = false
    this.last = null
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private async tick (): Promise<void> {
    let messages: { full: string, anonymous: string }
    try {
      this.builds++
      const snapshot = await this.build()
      messages = { full: event('snapshot', snapshot), anonymous: event('snapshot', this.redact(snapshot)) }
      this.last = messages
    } catch (err) {
      // The reason is the gateway's own business: readers are told only that this snapshot failed.
      const failure = event('failure', { message: 'the gateway could not read its state for this snapshot' })
      messages = { full: event('failure', { message: (err as Error).message }), anonymous: failure }
    }
    if (!this.running) return
    for (const { res, full } of this.subscribers) res.write(full ? messages.full : messages.anonymous)
    this.timer = setTimeout(() => { this.tick().catch(() => {}) }, this.intervalMs)
  }
}

function event (name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
}
