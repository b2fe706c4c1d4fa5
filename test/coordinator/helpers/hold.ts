/**
 * The world of the hold and announcement tests, all real processes and no chain: a Redis, blue (1.0) and green
 * (2.0) sample services, and `intent-gate serve` instances with the coordinator on that Redis. Plus clients that
 * never retry, so every answer the gateway gives (a 2xx after a hold, a 503) is seen as it is.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { makeSigner, signIntentV1, type Signer } from '../../../sandbox/client/index.js'
import { gatewayToml, startGateway, startService, type GatewayProcess, type ServiceProcess } from '../../helpers/gateway.js'
import { startRedis, type RedisServer, type Teardown } from '../../helpers/redis.js'
import type { UpgradeStatusBody } from '../../../src/admin/routes/upgrade.js'

export interface HoldWorld { redis: RedisServer, blue: ServiceProcess, green: ServiceProcess, dir: string }

export async function startHoldWorld (t: Teardown, opts: { blueSettleMs?: number, greenSettleMs?: number } = {}): Promise<HoldWorld> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-hold-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const [redis, blue, green] = await Promise.all([
    startRedis(t),
    startService(t, { versions: '1.0', settleMs: opts.blueSettleMs ?? 300 }),
    startService(t, { versions: '2.0', settleMs: opts.greenSettleMs ?? 300 })
  ])
  return { redis, blue, green, dir }
}

export interface HoldGatewayOptions {
  instance?: string
  /** Extra `key = value` lines of `[upgrade]`. */
  upgrade?: string
  /** Extra TOML sections. */
  extra?: string
  env?: Record<string, string>
}

export async function startHoldGateway (t: Teardown, w: HoldWorld, o: HoldGatewayOptions = {}): Promise<GatewayProcess> {
  const instance = o.instance ?? 'a'
  const extra = `
[coordinator]
lease_ttl_ms = 3000

[upgrade]
min_upgrade_interval_secs = 0
drain_timeout_secs = 60
${o.upgrade ?? ''}

[health_checks]
check_timeout_secs = 5
${o.extra ?? ''}
`
  const config = gatewayToml({ redisUrl: w.redis.url, blue: w.blue.url, green: w.green.url, extra })
    .replace('[redis]\n', '[redis]\nnamespace = "hold"\n')
  return await startGateway(t, {
    config,
    env: {
      INTENT_GATE_COORDINATOR_DATABASE: path.join(w.dir, `state-${instance}.sqlite`),
      INTENT_GATE_CHECKPOINT_CHECKPOINT_DIR: path.join(w.dir, 'checkpoints'),
      ...o.env
    }
  })
}

export const UPGRADE_KEY = 'intent-gate:{hold}:upgrade'

export function statusOf (gw: GatewayProcess): () => Promise<UpgradeStatusBody> {
  return async () => {
    const r = await gw.admin<UpgradeStatusBody>('GET', '/admin/upgrade/status')
    if (r.status !== 200) throw new Error(`status ${r.status}`)
    return r.body
  }
}

export interface Shot {
  nonce: number
  status: number
  /** performance.now() at the start and at the complete answer. */
  startedAt: number
  endedAt: number
  /** Date.now() at the start (to compare with the upgrade's phase times). */
  wallStartMs: number
  retryAfter: string | null
  type: string | null
  /** The intent id of a 2xx answer. */
  id: string | null
}

/** One signed 1.0 submission, never retried. */
export async function submitOnce (url: string, signer: Signer, nonce: number): Promise<Shot> {
  const body = JSON.stringify(signIntentV1(signer, { nonce, deadline: Math.floor(Date.now() / 1000) + 600 }))
  const startedAt = performance.now()
  const wallStartMs = Date.now()
  const res = await fetch(`${url}/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await res.text()
  let type: string | null = null
  let id: string | null = null
  try {
    const json = JSON.parse(text) as { type?: string, id?: string }
    type = json.type ?? null
    id = json.id ?? null
  } catch {}
  return { nonce, status: res.status, startedAt, endedAt: performance.now(), wallStartMs, retryAfter: res.headers.get('retry-after'), type, id }
}

/** A steady client (one submission every `everyMs`, none retried); `stop()` waits for every answer. */
export function openLoad (url: () => string, everyMs = 50): { stop: () => Promise<Shot[]> } {
  const signer = makeSigner()
  const shots: Array<Promise<Shot>> = []
  const state = { running: true, nonce: 0 }
  const loop = (async () => {
    while (state.running) {
      shots.push(submitOnce(url(), signer, ++state.nonce))
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  return {
    stop: async () => {
      state.running = false
      await loop
      return await Promise.all(shots)
    }
  }
}

/** p-th percentile (0..100) of `values` (nearest rank). */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

export async function untilState (
  status: () => Promise<UpgradeStatusBody>,
  states: string[],
  timeoutMs = 40_000
): Promise<UpgradeStatusBody> {
  const deadline = Date.now() + timeoutMs
  let last: UpgradeStatusBody | null = null
  for (;;) {
    try {
      last = await status()
      if (states.includes(last.state)) return last
    } catch {}
    if (Date.now() > deadline) throw new Error(`upgrade never reached ${states.join('|')}: last status ${JSON.stringify(last)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
