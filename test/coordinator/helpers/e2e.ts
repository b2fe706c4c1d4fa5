/**
 * The world for the coordinator's end-to-end tests, all real processes: Redis, the local chain (with its
 * settlement contract at code 1.0), blue (1.0) and green (2.0) sample services, and `intent-gate serve` processes
 * with the chain enabled. Plus a steady client that submits signed 1.0 intents and retries 503/409 as told.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { toUtf8, fromUtf8 } from '@cosmjs/encoding'
import { makeSigner, signIntentV1 } from '../../../sandbox/client/index.js'
import { gatewayToml, startGateway, startService, type GatewayProcess, type ServiceProcess } from '../../helpers/gateway.js'
import { startRedis, type RedisServer, type Teardown } from '../../helpers/redis.js'
import { createSettlementMsg, FEE, signingClient, startChain, type RunningChain } from '../../sandbox/chain-harness.js'
import type { UpgradeStatusBody } from '../../../src/admin/routes/upgrade.js'

export interface World {
  redis: RedisServer
  chain: RunningChain
  blue: ServiceProcess
  green: ServiceProcess
  /** Shared by the gateways of one test: SQLite files and checkpoints. */
  dir: string
}

export async function startWorld (t: Teardown, opts: { settleMs?: number } = {}): Promise<World> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-e2e-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const [redis, chain, blue, green] = await Promise.all([
    startRedis(t),
    startChain(t, ['--block-ms', '200']),
    startService(t, { versions: '1.0', settleMs: opts.settleMs ?? 300 }),
    startService(t, { versions: '2.0', settleMs: opts.settleMs ?? 300 })
  ])
  return { redis, chain, blue, green, dir }
}

export interface GatewayOptions {
  instance?: string
  /** Extra TOML sections, appended (replaces the default `[health_checks]`). */
  extra?: string
  /** Extra `key = value` lines of `[upgrade]`. */
  upgrade?: string
  namespace?: string
  /** Extra `key = value` lines of `[chain]`. */
  chain?: string
}

export async function startCoordinatedGateway (t: Teardown, w: World, o: GatewayOptions = {}): Promise<GatewayProcess> {
  const instance = o.instance ?? 'a'
  const info = w.chain.info
  const extra = `
[chain]
enabled = true
rpc_url = "${info.rpc}"
chain_id = "${info.chain_id}"
settlement_contract = "${info.settlement_contract}"
gas_price = "${info.gas_price}"
${o.chain ?? ''}

[coordinator]
database = "${path.join(w.dir, `state-${instance}.sqlite`)}"
lease_ttl_ms = 3000

[checkpoint]
checkpoint_dir = "${path.join(w.dir, 'checkpoints')}"

[upgrade]
min_upgrade_interval_secs = 0
drain_timeout_secs = 60
${o.upgrade ?? ''}

[rollback]
rollback_retry_delay_secs = 1

${o.extra ?? '[health_checks]\ncheck_timeout_secs = 5'}
`
  const base = gatewayToml({ redisUrl: w.redis.url, blue: w.blue.url, green: w.green.url, extra }).replace('[chain]\nenabled = false\n', '')
  const gw = await startGateway(t, {
    config: base.replace('[redis]\n', `[redis]\nnamespace = "${o.namespace ?? 'e2e'}"\n`),
    env: {
      INTENT_GATE_SIGNER_MNEMONIC: info.admin_mnemonic,
      INTENT_GATE_COORDINATOR_DATABASE: path.join(w.dir, `state-${instance}.sqlite`),
      // Shared by every instance of a test: a rollback restores the checkpoint whichever instance wrote it.
      INTENT_GATE_CHECKPOINT_CHECKPOINT_DIR: path.join(w.dir, 'checkpoints')
    }
  })
  await untilReady(gw)
  return gw
}

/**
 * Waits until `/readyz` says the instance admits, as a load balancer does before it routes to it: a gateway with
 * the chain enabled opens only once it has read the chain RPC, and a submission sent before is refused with 503.
 * Bounded and not fatal: a test that starts an instance beside a store it cannot reach asserts that itself.
 */
async function untilReady (gw: GatewayProcess): Promise<void> {
  // 60 s: a start on a 2-core machine at a load average of 30 took more than 20 s.
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const ready = await fetch(`${gw.adminUrl}/readyz`).then((r) => r.ok, () => false)
    if (ready) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Polls the upgrade status (any instance's admin API) until `states`; fails with the last status after `timeoutMs`. */
export async function untilState<T extends { state: string }> (admin: () => Promise<T>, states: string[], timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | null = null
  for (;;) {
    try {
      last = await admin()
      if (states.includes(last.state)) return last
    } catch {}
    if (Date.now() > deadline) throw new Error(`upgrade never reached ${states.join('|')}: last status ${JSON.stringify(last)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export function statusOf (gw: GatewayProcess): () => Promise<UpgradeStatusBody> {
  return async () => {
    const r = await gw.admin<UpgradeStatusBody>('GET', '/admin/upgrade/status')
    if (r.status !== 200) throw new Error(`status ${r.status}`)
    return r.body
  }
}

export interface LoadResult {
  sent: number
  accepted: number
  failed: Array<{ nonce: number, status: number, body: string }>
  retried: number
  ids: string[]
}

/**
 * A steady client: one signed 1.0 intent every `everyMs`, each retried on 503 (after Retry-After, capped) and 409
 * and on a refused connection (a gateway being restarted), until it gets a final answer. `stop()` ends the
 * sending and waits for every intent to get its answer.
 */
export function steadyLoad (urls: () => string[], everyMs = 50): { stop: () => Promise<LoadResult> } {
  const signer = makeSigner()
  const result: LoadResult = { sent: 0, accepted: 0, failed: [], retried: 0, ids: [] }
  const state = { running: true }
  const inflight: Array<Promise<void>> = []
  const submit = async (nonce: number): Promise<void> => {
    const body = JSON.stringify(signIntentV1(signer, { nonce, deadline: Math.floor(Date.now() / 1000) + 600 }))
    for (let attempt = 0; ; attempt++) {
      const candidates = urls()
      const url = candidates[attempt % candidates.length] as string
      let status: number
      let text: string
      let retryAfter = 1
      try {
        const res = await fetch(`${url}/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        status = res.status
        text = await res.text()
        retryAfter = Number(res.headers.get('retry-after') ?? '1')
      } catch {
        status = 0
        text = ''
      }
      if (status === 503 || status === 409 || status === 0 || status === 502) {
        result.retried++
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(50, retryAfter * 1000))))
        continue
      }
      if (status >= 200 && status < 300) {
        result.accepted++
        result.ids.push((JSON.parse(text) as { id: string }).id)
      } else {
        result.failed.push({ nonce, status, body: text })
      }
      return
    }
  }
  const loop = (async () => {
    while (state.running) {
      inflight.push(submit(++result.sent))
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  return {
    stop: async () => {
      state.running = false
      await loop
      await Promise.all(inflight)
      return result
    }
  }
}

/** Creates a settlement on chain (the admin signs it), so the contract has inflight settlements before the upgrade. */
export async function createSettlement (w: World, id: string): Promise<void> {
  const { client, address } = await signingClient(w.chain, w.chain.info.admin_mnemonic)
  await client.execute(address, w.chain.info.settlement_contract, createSettlementMsg(id, address), FEE)
}

export interface ContractView { codeId: number, version: string, inflight: string[] }

export async function contractView (w: World): Promise<ContractView> {
  const client = await CosmWasmClient.connect(w.chain.info.rpc)
  try {
    const contract = await client.getContract(w.chain.info.settlement_contract)
    const raw = await client.queryContractRaw(w.chain.info.settlement_contract, toUtf8('contract_info'))
    const cw2 = JSON.parse(fromUtf8(raw as Uint8Array)) as { version: string }
    const answer = await client.queryContractSmart(w.chain.info.settlement_contract, { inflight_settlements: {} }) as {
      settlements: Array<{ id: string }>
    }
    return { codeId: contract.codeId, version: cw2.version, inflight: answer.settlements.map((s) => s.id) }
  } finally {
    client.disconnect()
  }
}
