/**
 * `GET <intent_path>/<id>`: a status read, routed to the upstream that owns the intent (the store's record says
 * which; after a swap it still goes there), translated back to the client's version, and ending the inflight
 * record when the status is terminal.
 *
 * An id the store does not know (never seen, or already ended) goes to the active upstream. Its answer is
 * translated to the version named in the request's `Intent-Version` header when the client sends one (and it is
 * accepted), else it passes untranslated and is labelled with the upstream's newest version.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { StoreUnavailableError, UpstreamError } from '../errors.js'
import { channels } from '../observability/channels.js'
import type { InflightRecord } from '../store/types.js'
import { TERMINAL_STATUSES } from '../versions/types.js'
import { versionHeaders, type ProxyContext } from './context.js'
import { requestIdOf, upstreamRequestHeaders } from './headers.js'
import { sendProblem, upstreamFailure } from './problem.js'
import { endIntent } from './submit.js'

export async function handleStatus (ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const requestId = requestIdOf(req)
  const started = performance.now()
  const policy = ctx.policy()
  let clientVersion: string | null = null
  try {
    let record: InflightRecord | null
    try {
      record = await ctx.store.inflightById(id)
    } catch (err) {
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`the store could not say who owns intent ${id}: ${(err as Error).message}`, { cause: err })
    }
    const upstream = record === null ? ctx.control.upstream() : ctx.upstreams.get(record.upstream)
    if (upstream === undefined) throw new UpstreamError(`intent ${id} is owned by upstream ${String(record?.upstream)}, which is not configured`)
    const upstreamVersion = record?.upstream_version ?? upstream.config.versions[upstream.config.versions.length - 1] as string
    clientVersion = record?.version ?? requestedVersion(req, ctx) ?? upstreamVersion

    const timeout = ctx.proxy.upstream_timeout_ms
    const upstreamStarted = performance.now()
    let status: number
    let contentType: string
    let text: string
    try {
      const answer = await upstream.pool.request({
        method: 'GET',
        path: upstream.basePath + (req.url ?? '/'),
        // The gateway reads the answer (status, translation): it must not arrive compressed.
        headers: upstreamRequestHeaders(req, upstream.host, requestId, ['accept-encoding', 'identity']).headers,
        headersTimeout: timeout,
        bodyTimeout: timeout
      })
      status = answer.statusCode
      const ct = answer.headers['content-type']
      contentType = typeof ct === 'string' ? ct : 'application/json'
      text = await answer.body.text()
    } catch (err) {
      publishUpstream(upstream.color, null, upstreamStarted)
      throw upstreamFailure(err, upstream.color, timeout)
    }
    publishUpstream(upstream.color, status, upstreamStarted)

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
    sendProblem(res, err, requestId, clientVersion === null ? undefined : versionHeaders(policy, clientVersion, {}) as Record<string, string>)
    publishRequest(res.statusCode, clientVersion, started)
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
