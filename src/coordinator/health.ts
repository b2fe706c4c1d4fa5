/**
 * The design's health checker (docs/design.md): the checks named in `[health_checks]`, each bounded by `check_timeout_secs`. Only
 * `healthy` passes (the design's "upgrade is safe"). A check that is not healthy yet is asked again (every 250 ms)
 * until it is or its `check_timeout_secs` is spent, so a part still settling after a restart (the IBC watcher
 * catching up a few blocks) does not roll an upgrade back; the last answer is reported with its reason.
 */
import type { Color } from '../config/schema.js'
import type { IntentStore, StoreLifecycle } from '../store/types.js'
import type { ApiPort, ContractPort, HealthCheck, HealthStatus, IbcPort, UpstreamPort } from './ports.js'

export interface CheckResult { name: string, status: HealthStatus['status'], reason?: string, duration_ms: number }

export interface HealthSources {
  store: Pick<StoreLifecycle, 'health'> & Pick<IntentStore, 'inflightCount'>
  ibc: IbcPort | null
  contract: ContractPort | null
  upstreams: UpstreamPort
  api: ApiPort | null
  /** The upstream that serves new intents once this phase is over (checked by `api_endpoints`). */
  activeColor: () => Promise<Color>
}

const healthy: HealthStatus = { status: 'healthy' }

export function buildCheck (name: string, s: HealthSources): HealthCheck {
  switch (name) {
    case 'settlement_store':
      return {
        name,
        check: async () => {
          if (s.store.health() !== 'ready') return { status: 'unhealthy', reason: 'the store is unavailable' }
          await s.store.inflightCount()
          return healthy
        }
      }
    case 'ibc_relayer':
      return { name, check: async () => s.ibc === null ? healthy : await s.ibc.health() }
    case 'contract_state':
      return { name, check: async () => s.contract === null ? healthy : await s.contract.health() }
    case 'api_endpoints':
      return {
        name,
        check: async (signal) => {
          if (s.api !== null) {
            const api = await s.api.ready(signal)
            if (api.status !== 'healthy') return api
          }
          const color = await s.activeColor()
          const up = await s.upstreams.probe(color, signal)
          return up.status === 'healthy' ? healthy : { status: 'unhealthy', reason: `active upstream ${color}: ${reasonOf(up)}` }
        }
      }
    case 'upstreams':
      return {
        name,
        check: async (signal) => {
          const bad: string[] = []
          for (const color of s.upstreams.colors()) {
            const r = await s.upstreams.probe(color, signal)
            if (r.status !== 'healthy') bad.push(`${color}: ${reasonOf(r)}`)
          }
          return bad.length === 0 ? healthy : { status: 'unhealthy', reason: bad.join('; ') }
        }
      }
    default:
      return { name, check: async () => ({ status: 'unhealthy', reason: `unknown health check '${name}'` }) }
  }
}

const RECHECK_MS = 250

/** Runs every check (concurrently), each until healthy or `timeoutMs` is spent. */
export async function runChecks (checks: readonly HealthCheck[], timeoutMs: number): Promise<CheckResult[]> {
  return await Promise.all(checks.map(async (c) => {
    const started = Date.now()
    const deadline = started + timeoutMs
    let status: HealthStatus
    for (;;) {
      status = await checkOnce(c, Math.max(1, deadline - Date.now()))
      if (status.status === 'healthy' || Date.now() + RECHECK_MS >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, RECHECK_MS))
    }
    const result: CheckResult = { name: c.name, status: status.status, duration_ms: Date.now() - started }
    if (status.status !== 'healthy') result.reason = status.reason
    return result
  }))
}

async function checkOnce (c: HealthCheck, timeoutMs: number): Promise<HealthStatus> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<HealthStatus>((resolve) => {
    timer = setTimeout(() => {
      controller.abort()
      resolve({ status: 'unhealthy', reason: `no answer within ${timeoutMs} ms` })
    }, timeoutMs)
  })
  try {
    return await Promise.race([c.check(controller.signal), timeout])
  } catch (err) {
    return { status: 'unhealthy', reason: (err as Error).message }
  } finally {
    clearTimeout(timer)
  }
}

export function failures (results: readonly CheckResult[]): CheckResult[] {
  return results.filter((r) => r.status !== 'healthy')
}

function reasonOf (s: HealthStatus): string {
  return s.status === 'healthy' ? 'healthy' : s.reason
}
