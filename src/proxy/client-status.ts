/**
 * Telling clients (docs/specification.md section 3), on the proxy port, open:
 *
 *   GET /.well-known/intent-gate/status   the status object, JSON
 *   GET /.well-known/intent-gate/events   Server-Sent Events: `event: status` with the same object on connect and on
 *                                         every change, and a comment line at least every 15 s
 *
 * The object: {accepting, mode, retry_after_secs, upgrade: null | {id, state, target_version, scheduled_at,
 * estimated_resume_at}, drain: null | {reason, deadline_at}}. It is built from this instance's NoticeWatcher
 * (the control state every instance polls and is pushed, and the coordinator's notice), never from a store read
 * per request. `mode`:
 *   accepting   nothing stops admission
 *   scheduled   accepting; an upgrade is coming: scheduled (`upgrade.scheduled_at`), in its pre-checks, or its
 *               drain announced but not yet seen stopping admission here (the notice is written before the flag)
 *   verifying   accepting on the new version while its answers are watched
 *   holding     an upgrade stopped admission; new submissions wait up to `hold_new_intents_secs`
 *   refusing    an upgrade stopped admission and submissions are refused at once (no hold, or a failed upgrade)
 *   draining    an operator's drain: refused at once
 *   unknown     the store has not answered yet: refused
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NoticeState, NoticeWatcher } from './notice-watcher.js'
import { retryAfterSecs } from './retry-after.js'
import type { DrainLeft } from './drain-estimate.js'
import { requestIdOf } from './headers.js'
import { sendProblem } from '../http/problem.js'
import type { StreamLimit } from '../http/stream-limit.js'

export const STATUS_PATH = '/.well-known/intent-gate/status'
export const EVENTS_PATH = '/.well-known/intent-gate/events'
const HEARTBEAT_MS = 15_000

export type ClientMode = 'accepting' | 'scheduled' | 'verifying' | 'holding' | 'refusing' | 'draining' | 'unknown'

export interface ClientStatus {
  accepting: boolean
  mode: ClientMode
  retry_after_secs: number | null
  upgrade: null | {
    id: string
    state: string
    target_version: string | null
    scheduled_at: string | null
    estimated_resume_at: string | null
  }
  drain: null | { reason: string | null, deadline_at: string | null }
}

export interface StatusOptions {
  /** `[upgrade] hold_new_intents_secs`. */
  holdSecs: number
  /** `proxy.drain_retry_after_secs`. */
  fallbackRetrySecs: number
  /** `proxy.drain_retry_after_max_secs`. */
  maxRetrySecs: number
  /** What an operator's drain has left. */
  drainLeft: () => DrainLeft
  now: () => number
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString())

export function clientStatus (state: NoticeState, o: StatusOptions): ClientStatus {
  const { control, notice } = state
  if (control === null) return { accepting: false, mode: 'unknown', retry_after_secs: 2, upgrade: null, drain: null }
  const flag = control.upgrade
  let upgrade: ClientStatus['upgrade'] = null
  if (notice !== null || flag !== null) {
    upgrade = {
      id: notice?.id ?? flag?.id ?? 'unknown',
      state: flag?.phase ?? notice?.state ?? 'unknown',
      target_version: notice?.target_version ?? null,
      scheduled_at: iso(notice?.scheduled_at_ms),
      estimated_resume_at: iso(flag?.resume_estimate_ms ?? notice?.resume_estimate_ms)
    }
  }
  const drain = control.drain === null
    ? null
    : {
        reason: control.drain.reason ?? null,
        deadline_at: control.drain.deadline_secs !== undefined && control.drain.started_at_ms !== undefined
          ? iso(control.drain.started_at_ms + control.drain.deadline_secs * 1000)
          : null
      }
  let mode: ClientMode = 'accepting'
  if (control.drain !== null) mode = 'draining'
  else if (flag !== null) mode = o.holdSecs > 0 && flag.phase !== 'failed' ? 'holding' : 'refusing'
  else if (notice?.state === 'verifying') mode = 'verifying'
  // Any other running upgrade without the flag has not stopped admission yet: before its drain, or in the moment
  // between its notice and its flag (written in that order), which must not read as `accepting` with no upgrade
  // coming. A failed one whose flag an operator removed does accept.
  else if (notice !== null && notice.state !== 'failed') mode = 'scheduled'
  const accepting = control.drain === null && flag === null
  const retry = accepting
    ? null
    : retryAfterSecs({ kind: 'refused', reason: flag !== null ? 'upgrading' : 'draining', drain: control.drain, upgrade: flag }, o.now(), { fallbackSecs: o.fallbackRetrySecs, maxSecs: o.maxRetrySecs, drainLeft: o.drainLeft() })
  return { accepting, mode, retry_after_secs: retry, upgrade, drain }
}

/** The two routes and the open event streams (ended when the proxy closes). */
export class ClientStatusRoutes {
  private readonly streams = new Set<ServerResponse>()
  private last = ''
  private heartbeat: NodeJS.Timeout | null = null
  private off: (() => void) | null = null

  constructor (
    private readonly notices: NoticeWatcher,
    private readonly o: StatusOptions,
    /** Caps open event streams overall and per client address (`proxy.max_event_streams[_per_peer]`). */
    private readonly limit: StreamLimit,
    /** The client's address: the socket's peer, or the forwarded client behind a trusted proxy. */
    private readonly peerOf: (req: IncomingMessage) => string,
    private readonly heartbeatMs = HEARTBEAT_MS
  ) {}

  start (): void {
    if (this.off !== null) return
    this.off = this.notices.subscribe(() => { this.broadcast() })
    this.heartbeat = setInterval(() => {
      for (const res of this.streams) res.write(': keep-alive\n\n')
    }, this.heartbeatMs)
    this.heartbeat.unref()
  }

  /** Answers `req` when it is one of the two routes; false otherwise (the router goes on). */
  handle (req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    if (path !== STATUS_PATH && path !== EVENTS_PATH) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 })
      res.end()
      return true
    }
    if (path === STATUS_PATH) {
      const body = JSON.stringify(this.current())
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
      res.end(req.method === 'HEAD' ? undefined : body)
      return true
    }
    let release: () => void = () => {}
    if (req.method !== 'HEAD') {
      try {
        release = this.limit.acquire(this.peerOf(req))
      } catch (err) {
        sendProblem(res, err, requestIdOf(req))
        return true
      }
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    if (req.method === 'HEAD') {
      res.end()
      return true
    }
    // Every stream gets the same bytes: the status is serialised once per change (broadcast), not per reader.
    res.write(`retry: 1000\n\n${event(this.current())}`)
    this.streams.add(res)
    res.once('close', () => {
      this.streams.delete(res)
      release()
    })
    return true
  }

  /** How many event streams are open. */
  size (): number {
    return this.streams.size
  }

  /** Ends every open stream (the proxy is closing: they would otherwise hold the shutdown for its grace). */
  close (): void {
    this.off?.()
    this.off = null
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.heartbeat = null
    for (const res of this.streams) res.end()
    this.streams.clear()
  }

  /** What a client asking now is told (the status page shows it). */
  current (): ClientStatus {
    return clientStatus(this.notices.current(), this.o)
  }

  private broadcast (): void {
    const status = this.current()
    const json = JSON.stringify(status)
    if (json === this.last) return
    this.last = json
    const message = event(status)
    for (const res of this.streams) res.write(message)
  }
}

function event (status: ClientStatus): string {
  return `event: status\ndata: ${JSON.stringify(status)}\n\n`
}
