/**
 * The admin API's client, for the CLI's control commands and the demo: one JSON request with the bearer token
 * from `INTENT_GATE_ADMIN_TOKEN` (or the variable the configuration's `admin.token_env` names). Each request
 * says which door it comes through (`x-intent-gate-via`: `cli`, `demo`...), so the audit log can tell. A
 * problem+json answer becomes an AdminCallError carrying the problem (exit 1);
 * a missing token or a malformed `--admin` URL is a usage error (exit 2) naming the variable or flag.
 */
import { UsageError } from '../errors.js'
import { AdminCallError } from './errors.js'

export const TOKEN_ENV = 'INTENT_GATE_ADMIN_TOKEN'
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9090'
const TIMEOUT_MS = 15_000

export interface AdminClient {
  get<T> (path: string): Promise<T>
  post<T> (path: string, body?: unknown): Promise<T>
  put<T> (path: string, body: unknown): Promise<T>
}

export interface AdminClientOptions {
  /** The variable holding the token (default INTENT_GATE_ADMIN_TOKEN). */
  tokenEnv?: string
  /** The door the audit log records (default `cli`). */
  via?: string
}

export function createAdminClient (
  adminUrl: string,
  env: Record<string, string | undefined> = process.env,
  options: AdminClientOptions = {}
): AdminClient {
  const tokenEnv = options.tokenEnv ?? TOKEN_ENV
  let base: URL
  try {
    base = new URL(adminUrl)
  } catch {
    throw new UsageError(`--admin: '${adminUrl}' is not a URL (e.g. ${DEFAULT_ADMIN_URL})`)
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`--admin: '${adminUrl}' must be an http(s) URL`)
  const token = env[tokenEnv]
  if (token === undefined || token === '') throw new UsageError(`${tokenEnv} is not set: the admin API needs its bearer token`)

  async function call<T> (method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, base)
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token as string}`,
          accept: 'application/json',
          'x-intent-gate-via': options.via ?? 'cli',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {})
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS)
      })
    } catch (err) {
      throw new AdminCallError(`cannot reach the admin API at ${base.origin} (${transportReason(err)})`, null, null, { cause: err })
    }
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {}
    if (!res.ok) {
      const p = parsed as { title?: string, detail?: string } | null
      const what = typeof p === 'object' && p !== null && typeof p.detail === 'string'
        ? `${p.title ?? res.statusText}: ${p.detail}`
        : `${res.status} ${res.statusText}`
      throw new AdminCallError(`${method} ${path} refused (${res.status}): ${what}`, res.status, parsed)
    }
    return parsed as T
  }

  return {
    get: async (path) => await call('GET', path),
    post: async (path, body) => await call('POST', path, body ?? {}),
    put: async (path, body) => await call('PUT', path, body)
  }
}

/** The most specific reason a fetch failed: the socket error's code (ECONNREFUSED...), else a timeout, else the message. */
function transportReason (err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string, errors?: Array<{ code?: string }> } }
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS} ms`
  return e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.cause?.message ?? e.message
}
