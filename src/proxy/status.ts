/**
 * `GET <intent_path>/<id>`: a status read, routed to the upstream that owns the intent (the store's record says
 * which; after a swap it still goes there), translated back to the client's version, and ending the inflight
 * record when the status is terminal.
 *
 * An intent that already ended is no longer inflight, but the store keeps its owner and versions by id for the
 * idempotency retention: the read goes to that owner and is translated as before (one extra store read, only
 * when there is no inflight record).
 *
 * An id the store does not know at all (never seen, or ended longer ago than the retention) goes to the active
 * upstream, and when that one answers 404 to the other configured colors. Its answer is translated to the version
 * named in the request's `Intent-Version` header when the client sends one (and it is accepted), else it passes
 * untranslated and is labelled with the upstream's newest version.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { StoreUnavailableError, UpstreamError } from '../errors.js'
import { channels } from '../observability/channels.js'
import type { EndedRoute, InflightRecord } from '../store/types.js'
import { TERMINAL_STATUSES } from '../versions/types.js'
import { versionHeaders, type ProxyContext } from './context.js'
import { requestIdOf, upstreamRequestHeaders } from './headers.js'
import { sendProblem } from '../http/problem.js'
import { endIntent } from './outcome.js'
import { callUpstream, type UpstreamAnswer } from './upstream-call.js'
import type { Upstream } from './upstreams.js'

export async function handleStatus (ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const requestId = requestIdOf(req)
  const started = performance.now()
  const policy = ctx.policy()
  let clientVersion: string | null = null
  try {
    const record = await ownerLookup(id, async () => await ctx.store.inflightById(id))
    const ended = record === null ? await ownerLookup(id, async () => await ctx.store.endedById(id)) : null
    const route: Pick<InflightRecord, 'upstream' | 'version' | 'upstream_version'> | EndedRoute | null = record ?? ended
    let upstream = route === null ? ctx.control.upstream() : ctx.upstreams.get(route.upstream)
    if (upstream === undefined) throw new UpstreamError(`intent ${id} is owned by upstream ${String(route?.upstream)}, which is not configured`)
    let answer = await ask(ctx, req, upstream, requestId)
    if (route === null && answer.status === 404) {
      // Not inflight here: possibly an intent that already ended on the color that was active before a swap.
      for (const other of ctx.upstreams.states()) {
        const candidate = ctx.upstreams.get(other.color)
        if (candidate === undefined || candidate === upstream) continue
        const second = await ask(ctx, req, candidate, requestId).catch(() => null)
        if (second !== null && second.status !== 404) {
          upstream = candidate
          answer = second
          break
        }
      }
    }
    const { status, contentType, body: text } = answer
    const upstreamVersion = route?.upstream_version ?? upstream.config.versions[upstream.config.versions.length - 1] as string
    clientVersion = route?.version ?? requestedVersion(req, ctx) ?? upstreamVersion

    let body = text
    if (status >= 200 && status <= 299) {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      if (json !== undefined) {
        const seen = ctx.versions.statusOf(json, upstreamVersion)
        if (record !== null && seen !== null) await notePhase(ctx, record, id, seen)
        if (clientVersion !== upstreamVersion) {
          body = JSON.stringify(ctx.versions.translateStatusResponse(json, upstreamVersion, clientVersion))
          if (channels.translation.hasSubscribers) channels.translation.publish({ from: upstreamVersion, to: clientVersion, kind: 'status_response' })
        }
      }
    }
    const headers = versionHeaders(policy, clientVersion, { 'content-type': contentType })
    headers['content-length'] = Buffer.byteLength(body)
    headers['x-request-id'] = requestId
    if (!res.destroyed) {
      res.writeHead(status, headers)
      res.end(body)
    }
    publishRequest(status, clientVersion, started)
  } catch (err) {
    const headers = clientVersion === null ? undefined : versionHeaders(policy, clientVersion, {}) as Record<string, string>
    sendProblem(res, err, requestId, headers)
    publishRequest(res.statusCode, clientVersion, started)
  }
}

/** A store read that says who owns an id; a failure refuses the read (a guess could ask the wrong upstream). */
async function ownerLookup<T> (id: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (err) {
    throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`the store could not say who owns intent ${id}: ${(err as Error).message}`, { cause: err })
  }
}

/** One status read on `upstream`; a transport failure becomes the 502/504 error the client sees. */
async function ask (ctx: ProxyContext, req: IncomingMessage, upstream: Upstream, requestId: string): Promise<UpstreamAnswer> {
  const started = performance.now()
  try {
    const answer = await callUpstream(upstream, {
      method: 'GET',
      path: req.url ?? '/',
      // The gateway reads the answer (status, translation): it must not arrive compressed.
      headers: upstreamRequestHeaders(req, upstream.host, requestId, ['accept-encoding', 'identity']).headers
    }, ctx.proxy.upstream_timeout_ms)
    publishUpstream(upstream.color, answer.status, started)
    return answer
  } catch (err) {
    publishUpstream(upstream.color, null, started)
    throw err
  }
}

/** A terminal status ends the record; another status is remembered as its phase (only when it changed). */
async function notePhase (ctx: ProxyContext, record: InflightRecord, id: string, seen: string): Promise<void> {
  if (TERMINAL_STATUSES.has(seen)) {
    await endIntent(ctx, id, seen)
  } else if (seen !== record.phase) {
    try {
      await ctx.store.setPhase(id, seen)
    } catch (err) {
      ctx.logger.debug({ err, id }, 'cannot record the phase now')
    }
  }
}

function requestedVersion (req: IncomingMessage, ctx: ProxyContext): string | null {
  const v = req.headers['intent-version']
  return typeof v === 'string' && ctx.policy().isAccepted(v) ? v : null
}

function publishUpstream (upstream: string, status: number | null, started: number): void {
  if (channels.upstream.hasSubscribers) channels.upstream.publish({ upstream, route: 'status', status, durationMs: performance.now() - started })
}

function publishRequest (status: number, version: string | null, started: number): void {
  if (channels.request.hasSubscribers) channels.request.publish({ route: 'status', status, version, durationMs: performance.now() - started })
}
