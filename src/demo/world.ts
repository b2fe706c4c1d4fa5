/**
 * Stage 1: the world on this machine. A 1.0 sample intent service (blue), and with the upgrade stage also a 2.0
 * one (green: deployed beside blue, it gets nothing until the swap, as in a real blue-green pair) and the local
 * chain with its settlement contract; then `intent-gate serve` on the embedded store in front of them.
 *
 * The chain is the sandbox's (`--chain sandbox`) or a real network (`--chain wasmd`: `intent-gate-sandbox
 * realchain`, two wasmd nodes and the Go relayer). On the real one the services settle every intent they accept
 * in the real settlement contract, each signing with an account of its own, holding the intent's amount in
 * escrow, which the completion pays out to chain B as an ICS-20 packet.
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

export type ChainKind = 'sandbox' | 'wasmd'

export interface WorldOptions {
  dir: string
  chain: ChainKind
  token: string
  withUpgrade: boolean
  settleMs: number
  /** `--broken-green`: the gateway watches the new version after the upgrade (the verifying phase). */
  verify?: boolean
}

const SERVICE_READY_MS = 15_000
const CHAIN_READY_MS = 90_000
/** Two wasmd nodes, four contract transactions and the relayer's handshake: 20-40 s on a busy warm machine. */
const REAL_NETWORK_READY_MS = 300_000
/** The real network's stop: the relayer and two nodes flushing their state, each given 10 s before SIGKILL. */
export const REAL_NETWORK_STOP_MS = 30_000
const GATEWAY_READY_MS = 30_000

export async function startWorld (children: ChildProcesses, say: Narrator, o: WorldOptions): Promise<World> {
  const real = o.withUpgrade && o.chain === 'wasmd'
  let blue: SampleService, green: SampleService | null, chain: ChainInfo | null
  if (real) {
    say.say('Starting a real network: two wasmd chains (200 ms blocks), the settlement contract 1.0 on chain A with 2.0 stored beside it, ' +
      'and the Go relayer linking them with an ICS-20 channel (tens of seconds)...')
    chain = await startRealNetwork(children)
    say.figures([
      ['chain A', `${chain.rpc} (${chain.chain_id}), settlement contract ${chain.settlement_contract} at code ${chain.code_ids['1.0'] ?? '?'} (1.0)`],
      ['chain B', `${chain.counterparty?.rpc ?? '?'} (${chain.counterparty?.chain_id ?? '?'})`],
      ['relayer', `rly: transfer/${chain.ibc_channels[0] ?? '?'} on A <-> transfer/${chain.counterparty?.channel ?? '?'} on B, relaying`]
    ])
    say.say('Starting the sample intent services (blue speaks 1.0, green 2.0; green gets nothing until the upgrade); each settles what it accepts in the real contract...')
    const on = chain
    ;[blue, green] = await Promise.all([
      startService(children, 'blue', '1.0', o.settleMs, on),
      startService(children, 'green', '2.0', o.settleMs, on)
    ])
  } else {
    say.say(o.withUpgrade
      ? 'Starting the sample intent services (blue speaks 1.0, green 2.0; green gets nothing until the upgrade) and the local chain...'
      : 'Starting a sample intent service (blue, speaks 1.0)...')
    ;[blue, green, chain] = await Promise.all([
      startService(children, 'blue', '1.0', o.settleMs),
      o.withUpgrade ? startService(children, 'green', '2.0', o.settleMs) : null,
      o.withUpgrade ? startChain(children) : null
    ])
  }
  say.figures([
    ['blue (1.0)', blue.url],
    ...(green === null ? [] : [['green (2.0)', green.url] as const]),
    ...(chain === null || real
      ? []
      : [['local chain', `${chain.rpc} (${chain.chain_id}), settlement contract at code ${chain.code_ids['1.0'] ?? '?'} (1.0)`] as const]),
    ['settles each intent', real
      ? `create_settlement with the intent's amount in escrow, then complete_settlement ${o.settleMs} ms later (an ICS-20 packet to chain B)`
      : `${o.settleMs} ms after accepting it`]
  ])

  say.say(`Starting the gateway on the embedded store (no Redis)${chain === null ? ', chain disabled' : ', watching the chain'}...`)
  const configFile = path.join(o.dir, 'intent-gate.toml')
  const toml = demoGatewayToml({ dir: o.dir, blueUrl: blue.url, greenUrl: green?.url ?? null, chain, verify: o.verify === true })
  await writeFile(configFile, toml)
  const env: Record<string, string> = { [TOKEN_ENV]: o.token }
  if (chain !== null) env['INTENT_GATE_SIGNER_MNEMONIC'] = chain.admin_mnemonic
  const gateway = children.start('the gateway (intent-gate serve)', GATEWAY_BIN, ['serve', '--config', configFile], env)
  const { proxy, admin } = await children.firstJson<{ proxy: string, admin: string }>(gateway, GATEWAY_READY_MS)
  say.figures([['proxy', proxy], ['admin API', admin], ['configuration', configFile]])
  return { blue, green, chain, proxyUrl: proxy, admin: createAdminClient(admin, { [TOKEN_ENV]: o.token }) }
}

/** `settleOn`: the real network whose contract the service settles in (`--chain-rpc` and its own account). */
async function startService (
  children: ChildProcesses,
  color: string,
  version: string,
  settleMs: number,
  settleOn?: ChainInfo
): Promise<SampleService> {
  const args = ['service', '--listen', '127.0.0.1:0', '--versions', version, '--settle-ms', String(settleMs)]
  const env: Record<string, string> = {}
  if (settleOn !== undefined) {
    const settler = settleOn.accounts?.find((a) => a.name === `settler-${color}`)
    if (settler === undefined) throw new DemoError(`the real network names no account settler-${color}`)
    args.push('--chain-rpc', settleOn.rpc)
    env['INTENT_GATE_SANDBOX_SETTLEMENT_CONTRACT'] = settleOn.settlement_contract
    env['INTENT_GATE_SANDBOX_SETTLER_MNEMONIC'] = settler.mnemonic
    env['INTENT_GATE_SANDBOX_SETTLER_ESCROW'] = '1'
  }
  const child = children.start(`the ${color} sample service`, SANDBOX_BIN, args, env)
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

async function startRealNetwork (children: ChildProcesses): Promise<ChainInfo> {
  const child = children.start('the real network (intent-gate-sandbox realchain)', SANDBOX_BIN, ['realchain'], {}, REAL_NETWORK_STOP_MS)
  return await children.firstJson<ChainInfo>(child, REAL_NETWORK_READY_MS)
}

async function startChain (children: ChildProcesses): Promise<ChainInfo> {
  const child = children.start('the local chain', SANDBOX_BIN, ['chain', '--listen', '127.0.0.1:0', '--block-ms', '200'])
  return await children.firstJson<ChainInfo>(child, CHAIN_READY_MS)
}
