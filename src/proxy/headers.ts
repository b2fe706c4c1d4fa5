/**
 * Header handling shared by every forwarded request: hop-by-hop headers dropped (RFC 9110 section 7.6.1, plus
 * whatever `Connection` lists), `X-Forwarded-For/-Proto/-Host` set, `X-Request-Id` kept or made, and the same
 * filtering for upstream responses. Works on Node's flat raw header arrays to avoid building objects per request.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { BlockList } from 'node:net'

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade'
])

/** The largest X-Request-Id taken from a client; longer (or odd) values are replaced by a fresh one. */
const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,200}$/

/** The client's X-Request-Id when it is sane, else a new UUID. */
export function requestIdOf (req: IncomingMessage): string {
  return sanitizeRequestId(req.headers['x-request-id'])
}

function sanitizeRequestId (given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID()
}

/** Whether the peer of `req` is one of `proxy.trusted_proxies` (IPv4-mapped IPv6 peers count as IPv4). */
export function peerTrusted (req: IncomingMessage, trusted: BlockList | null): boolean {
  if (trusted === null) return false
  const address = req.socket.remoteAddress
  if (address === undefined) return false
  if (address.startsWith('::ffff:') && address.includes('.')) return trusted.check(address.slice(7), 'ipv4')
  return trusted.check(address, address.includes(':') ? 'ipv6' : 'ipv4')
}

/** The client's address: the peer's, or behind a trusted proxy the last address it appended to X-Forwarded-For. */
export function clientAddress (req: IncomingMessage, trusted: BlockList | null): string {
  const peer = req.socket.remoteAddress ?? ''
  if (!peerTrusted(req, trusted)) return peer
  const forwarded = req.headers['x-forwarded-for']
  const last = typeof forwarded === 'string' ? forwarded.slice(forwarded.lastIndexOf(',') + 1).trim() : ''
  return last === '' ? peer : last
}

/**
 * Removes the client's own X-Forwarded-For/-Proto/-Host (docs/specification.md section 3: from a peer that is not a trusted
 * proxy they are not the truth), so every path that forwards the request (submissions, status reads, the
 * pass-through, WebSocket tunnels) sets the gateway's own. Costs one scan of the raw headers; a request without
 * such headers is not touched.
 */
export function dropForwardedHeaders (req: IncomingMessage): void {
  const raw = req.rawHeaders
  let found = false
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    const name = raw[i] as string
    if (name.length >= 15 && name.length <= 17 && /^x-forwarded-(for|proto|host)$/i.test(name)) {
      raw.splice(i, 2)
      found = true
    }
  }
  if (found) {
    delete req.headers['x-forwarded-for']
    delete req.headers['x-forwarded-proto']
    delete req.headers['x-forwarded-host']
  }
}

/** Extra names listed in a `Connection` header (they are hop-by-hop for this message only). */
function connectionTokens (value: string | undefined): Set<string> | null {
  if (value === undefined) return null
  const lower = value.toLowerCase()
  if (lower === 'keep-alive' || lower === 'close') return null
  let tokens: Set<string> | null = null
  for (const raw of lower.split(',')) {
    const t = raw.trim()
    if (t !== '' && t !== 'close' && t !== 'keep-alive') (tokens ??= new Set()).add(t)
  }
  return tokens
}

export interface UpstreamRequestHeaders {
  /** Flat name/value list for undici. */
  headers: string[]
  /** The request id sent upstream (the one given, or the client's sane X-Request-Id, or a new one). */
  requestId: string
  /** Whether the client request has a body to stream (Content-Length above 0, or Transfer-Encoding). */
  hasBody: boolean
}

/**
 * The flat header list sent upstream for a client request, in one pass over Node's raw headers (no header
 * object is built): the client's end-to-end headers, `Host` of the upstream (the client's Host travels in
 * X-Forwarded-Host), the X-Forwarded trio, X-Request-Id, and `extra` (a flat list of lower-case name/value
 * pairs that replace the client's headers of those names).
 */
export function upstreamRequestHeaders (
  req: IncomingMessage,
  upstreamHost: string,
  requestId: string | null,
  extra?: readonly string[]
): UpstreamRequestHeaders {
  const raw = req.rawHeaders
  const out: string[] = []
  let connection: string | undefined
  let xff: string | undefined
  let proto: string | undefined
  let fwdHost: string | undefined
  let host = ''
  let givenId: string | undefined
  let hasBody = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase()
    const value = raw[i + 1] as string
    switch (name) {
      case 'host': host = value; continue
      case 'x-forwarded-for': xff = xff === undefined ? value : `${xff}, ${value}`; continue
      case 'x-forwarded-proto': proto ??= value; continue
      case 'x-forwarded-host': fwdHost ??= value; continue
      case 'x-request-id': givenId ??= value; continue
      case 'connection': connection = value; continue
      case 'content-length': hasBody = value !== '0'; break
      case 'transfer-encoding': hasBody = true; continue
      // Node answered the client's `Expect: 100-continue` already; undici refuses to send the header on.
      case 'expect': continue
    }
    if (HOP_BY_HOP.has(name)) continue
    if (extra !== undefined && setsHeader(extra, name)) continue
    out.push(name, value)
  }
  const listed = connectionTokens(connection)
  if (listed !== null) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (listed.has(out[i] as string)) out.splice(i, 2)
  }
  const id = requestId ?? sanitizeRequestId(givenId)
  const remote = req.socket.remoteAddress ?? ''
  out.push(
    'host', upstreamHost,
    'x-forwarded-for', xff === undefined || xff === '' ? remote : `${xff}, ${remote}`,
    'x-forwarded-proto', proto ?? 'http',
    'x-forwarded-host', fwdHost ?? host,
    'x-request-id', id
  )
  if (extra !== undefined) for (const v of extra) out.push(v)
  return { headers: out, requestId: id, hasBody }
}

function setsHeader (pairs: readonly string[], name: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === name) return true
  return false
}

const text = (v: Buffer | string): string => typeof v === 'string' ? v : v.toString('latin1')

/**
 * The flat header list for the client from an upstream's raw response headers (undici gives Buffers): hop-by-hop
 * headers dropped, X-Request-Id added when the upstream did not echo one.
 */
export function clientResponseHeaders (raw: ReadonlyArray<Buffer | string>, requestId: string): string[] {
  const out: string[] = []
  let listed: Set<string> | null = null
  let hasRequestId = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i] as Buffer | string).toLowerCase()
    const value = text(raw[i + 1] as Buffer | string)
    if (name === 'connection') { listed = connectionTokens(value); continue }
    if (HOP_BY_HOP.has(name)) continue
    if (name === 'x-request-id') hasRequestId = true
    out.push(name, value)
  }
  if (listed !== null) {
    for (let i = out.length - 2; i >= 0; i -= 2) {
      if (listed.has(out[i] as string)) out.splice(i, 2)
    }
  }
  if (!hasRequestId) out.push('x-request-id', requestId)
  return out
}
