/**
 * Stage 1: the world on this machine. A 1.0 sample intent service (blue), and with the upgrade stage also a 2.0
 * one (green: deployed beside blue, it gets nothing until the swap, as in a real blue-green pair) and the local
 * chain with its settlement contract; then `intent-gate serve` on the embedded store in front of them.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createAdminClient, TOKEN_ENV, type AdminClient } from '../admin/client.js'
import { GATEWAY_BIN, SANDBOX_BIN, type ChildProcesses } from './children.js'
import { DemoError } from './errors.js'
import { demoGatewayToml, type ChainInfo } from './gateway-config.js'
import type { Narrator } from './narrator.js'

export interface ServiceStats { accepted: number, duplicates: number }

export interface SampleService {
  readonly url: string
  /** The service's own ledger: every intent it accepted, and retries of one it already had. */
  stats (): Promise<ServiceStats>
}

export interface World {
  blue: SampleService
  green: SampleService | null
  chain: ChainInfo | null
  proxyUrl: string
  admin: AdminClient
}

export interface WorldOptions {
  dir: string
  token: string
  withUpgrade: boolean
  settleMs: number
  /** `--broken-green`: the gateway watches the new version after the upgrade (the verifying phase). */
  verify?: boolean
}

const SERVICE_READY_MS = 15_000
const CHAIN_READY_MS = 90_000
const GATEWAY_READY_MS = 30_000

export async function startWorld (children: ChildProcesses, say: Narrator, o: WorldOptions): Promise<World> {
  say.say(o.withUpgrade
    ? 'Starting the sample intent services (blue speaks 1.0, green 2.0; green gets nothing until the upgrade) and the local chain...'
    : 'Starting a sample intent service (blue, speaks 1.0)...')
  const [blue, green, chain] = await Promise.all([
    startService(children, 'blue', '1.0', o.settleMs),
    o.withUpgrade ? startService(children, 'green', '2.0', o.settleMs) : null,
    o.withUpgrade ? startChain(children) : null
  ])
  say.figures([
    ['blue (1.0)', blue.url],
    ...(green === null ? [] : [['green (2.0)', green.url] as const]),
    ...(chain === null
      ? []
      : [['local chain', `${chain.rpc} (${chain.chain_id}), settlement contract at code ${chain.code_ids['1.0'] ?? '?'} (1.0)`] as const]),
    ['settles each intent', `${o.settleMs} ms after accepting it`]
  ])

  say.say(`Starting the gateway on the embedded store (no Redis)${chain === null ? ', chain disabled' : ', watching the chain'}...`)
  const configFile = path.join(o.dir, 'intent-gate.toml')
  await writeFile(configFile, demoGatewayToml({ dir: o.dir, blueUrl: blue.url, greenUrl: green?.url ?? null, chain, verify: o.verify === true }))
  const env: Record<string, string> = { [TOKEN_ENV]: o.token }
  if (chain !== null) env['INTENT_GATE_SIGNER_MNEMONIC'] = chain.admin_mnemonic
  const gateway = children.start('the gateway (intent-gate serve)', GATEWAY_BIN, ['serve', '--config', configFile], env)
  const { proxy, admin } = await children.firstJson<{ proxy: string, admin: string }>(gateway, GATEWAY_READY_MS)
  say.figures([['proxy', proxy], ['admin API', admin], ['configuration', configFile]])
  return { blue, green, chain, proxyUrl: proxy, admin: createAdminClient(admin, { [TOKEN_ENV]: o.token }) }
}

async function startService (children: ChildProcesses, color: string, version: string, settleMs: number): Promise<SampleService> {
  const child = children.start(`the ${color} sample service`, SANDBOX_BIN, [
    'service', '--listen', '127.0.0.1:0', '--versions', version, '--settle-ms', String(settleMs)
  ])
  const { url } = await children.firstJson<{ url: string }>(child, SERVICE_READY_MS)
  return {
    url,
    stats: async () => {
      const res = await fetch(`${url}/sandbox/stats?keys=0`)
      if (!res.ok) throw new DemoError(`the ${color} sample service answered ${res.status} for its stats`)
      return await res.json() as ServiceStats
    }
  }
}

async function startChain (children: ChildProcesses): Promise<ChainInfo> {
  const child = children.start('the local chain', SANDBOX_BIN, ['chain', '--listen', '127.0.0.1:0', '--block-ms', '200'])
  return await children.firstJson<ChainInfo>(child, CHAIN_READY_MS)
}
