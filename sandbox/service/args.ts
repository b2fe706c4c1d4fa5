/**
 * The sample service's command line: `service --listen HOST:PORT --versions 1.0[,2.0] [--settle-ms N]
 * [--chain-rpc URL] [--no-verify] [--sandbox-routes-through-proxy] [--versions-module FILE]...`. Bad usage is
 * reported naming the flag (exit status 2). `--versions-module` adds an intent format of one's own, as the
 * gateway's `[versions] modules` does, so the service can verify intents signed in it.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { UsageError } from '../../src/errors.js'

export interface ServiceOptions {
  host: string
  port: number
  /** Versions served natively, oldest first. */
  versions: string[]
  /** Time from acceptance to `settled`; 0 settles at once. */
  settleMs: number
  chainRpc: string | null
  /** Skip signature checks (benchmarks only: a check costs about a millisecond of CPU). */
  verify: boolean
  /** Answer the `/sandbox/*` control routes also to requests that came through a proxy (never by default). */
  controlThroughProxy: boolean
}

export const DEFAULT_SETTLE_MS = 200

export function parseServiceArgs (argv: readonly string[], known: readonly string[]): ServiceOptions {
  let values
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string' },
        versions: { type: 'string' },
        'settle-ms': { type: 'string' },
        'chain-rpc': { type: 'string' },
        'no-verify': { type: 'boolean' },
        'sandbox-routes-through-proxy': { type: 'boolean' },
        'versions-module': { type: 'string', multiple: true }
      }
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.listen === undefined) throw new UsageError('--listen HOST:PORT is required')
  const listen = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(values.listen)
  const port = Number(listen?.[3])
  if (listen === null || port > 65535) throw new UsageError(`--listen: expected HOST:PORT (port 0 picks a free one), got '${values.listen}'`)
  if (values.versions === undefined) throw new UsageError(`--versions is required (a comma-separated list of ${known.join(', ')})`)
  const versions = [...new Set(values.versions.split(',').map((v) => v.trim()))]
  const unknown = versions.filter((v) => !known.includes(v))
  if (unknown.length > 0 || versions.length === 0) {
    throw new UsageError(`--versions: unknown version ${unknown.map((v) => `'${v}'`).join(', ')}; known versions: ${known.join(', ')}`)
  }
  let settleMs = DEFAULT_SETTLE_MS
  if (values['settle-ms'] !== undefined) {
    settleMs = Number(values['settle-ms'])
    if (!/^\d+$/.test(values['settle-ms']) || !Number.isSafeInteger(settleMs)) {
      throw new UsageError(`--settle-ms: expected a whole number of milliseconds, got '${values['settle-ms']}'`)
    }
  }
  const chainRpc = values['chain-rpc'] ?? null
  if (chainRpc !== null && !/^https?:\/\//.test(chainRpc)) throw new UsageError(`--chain-rpc: expected an http(s) URL, got '${chainRpc}'`)
  return {
    host: (listen[1] ?? listen[2]) as string,
    port,
    versions: known.filter((v) => versions.includes(v)),
    settleMs,
    chainRpc,
    verify: values['no-verify'] !== true,
    controlThroughProxy: values['sandbox-routes-through-proxy'] === true
  }
}

/** The `--versions-module` files, absolute (read before the other flags: they decide which versions are known). */
export function versionModuleArgs (argv: readonly string[]): string[] {
  const { values } = parseArgs({ args: [...argv], strict: false, allowPositionals: true, options: { 'versions-module': { type: 'string', multiple: true } } })
  const files = values['versions-module'] ?? []
  return files.filter((f): f is string => typeof f === 'string').map((f) => path.resolve(f))
}
