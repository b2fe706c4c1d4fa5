/**
 * The Go relayer (rly v2) between two real wasmd chains: keys funded at genesis, light clients, a connection and
 * one ICS-20 channel (`transfer/channel-0` on both fresh chains), and `rly start` that the test can stop and start
 * to make an outage. Killed at teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chainBinaries } from './binaries.js'
import { GAS_PRICE, PREFIX, terminate, untilHeight, type ChainAccount, type WasmdChain } from './wasmd.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export const PATH_NAME = 'a-b'

export interface Relayer {
  /** The channel on each chain (`channel-0` on fresh chains). */
  readonly channelA: string
  readonly channelB: string
  /** Starts relaying (`rly start`); resolves once the process runs. */
  start (): Promise<void>
  /** SIGTERM and wait: packets sent from now on stay pending. */
  stop (): Promise<void>
  running (): boolean
  log (): string
}

async function rlyExec (rly: string, args: string[]): Promise<string> {
  const child = spawn(rly, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) {
    if (process.env.RLY_DEBUG_LOG !== undefined) (await import('node:fs')).writeFileSync(process.env.RLY_DEBUG_LOG, out)
    // The relayer logs progress at length; the reason is in its error lines.
    const errors = out.split('\n').filter((l) => /error|Error|failed/.test(l)).slice(-20).join('\n')
    throw new Error(`rly ${args.join(' ')} exited ${String(code)}:\n${errors || out.slice(-4000)}`)
  }
  return out
}

/** `relayerA` / `relayerB`: accounts funded at genesis on each chain, used by the relayer to sign. */
export async function linkChains (t: Teardown, a: WasmdChain, b: WasmdChain, relayerA: ChainAccount, relayerB: ChainAccount): Promise<Relayer> {
  const { rly } = await chainBinaries()
  const home = await mkdtemp(join(tmpdir(), 'intent-gate-rly-'))
  t.teardown(async () => { await rm(home, { recursive: true, force: true }) })
  const h = ['--home', home]
  await rlyExec(rly, ['config', 'init', ...h])
  for (const chain of [a, b]) {
    const file = join(home, `${chain.chainId}.json`)
    await writeFile(file, JSON.stringify({
      type: 'cosmos',
      value: {
        key: 'relayer',
        'chain-id': chain.chainId,
        'rpc-addr': chain.rpc,
        'account-prefix': PREFIX,
        'keyring-backend': 'test',
        'gas-adjustment': 1.5,
        'gas-prices': GAS_PRICE,
        'min-gas-amount': 0,
        debug: false,
        timeout: '20s',
        'output-format': 'json',
        'sign-mode': 'direct'
      }
    }))
    await rlyExec(rly, ['chains', 'add', '--file', file, chain.chainId, ...h])
    const mnemonic = chain === a ? relayerA.mnemonic : relayerB.mnemonic
    await rlyExec(rly, ['keys', 'restore', chain.chainId, 'relayer', mnemonic, ...h])
  }
  await rlyExec(rly, ['paths', 'new', a.chainId, b.chainId, PATH_NAME, ...h])
  // Clients, connection and the ICS-20 channel, each a handful of blocks on both chains. One command each:
  // `rly transact link` (v2.6.0) creates the clients, then starts the connection handshake without their ids
  // ("identifier cannot be blank"); the separate commands read them back from the path it saved.
  await rlyExec(rly, ['transact', 'clients', PATH_NAME, ...h])
  // The next step reads each client with a proof at a height that can precede the client's creation (it was
  // "light client not found" right after creating them); 10 blocks (2 s) later it is there.
  await Promise.all([a, b].map(async (c) => await untilHeight(c.rpc, await c.height() + 10)))
  await rlyExec(rly, ['transact', 'connection', PATH_NAME, ...h])
  // The same for the connection: read too early, its counterparty id is still blank.
  await Promise.all([a, b].map(async (c) => await untilHeight(c.rpc, await c.height() + 10)))
  await rlyExec(rly, ['transact', 'channel', PATH_NAME, '--src-port', 'transfer', '--dst-port', 'transfer', '--order', 'unordered', '--version', 'ics20-1', ...h])

  let child: ChildProcess | null = null
  let output = ''
  const stop = async (): Promise<void> => {
    const proc = child
    child = null
    await terminate(proc)
  }
  t.teardown(stop)
  return {
    channelA: 'channel-0',
    channelB: 'channel-0',
    start: async () => {
      if (child !== null) return
      const proc = spawn(rly, ['start', PATH_NAME, ...h], { stdio: ['ignore', 'pipe', 'pipe'] })
      child = proc
      const collect = (d: Buffer): void => { output = (output + d.toString()).slice(-200_000) }
      proc.stdout?.on('data', collect)
      proc.stderr?.on('data', collect)
      await once(proc, 'spawn')
    },
    stop,
    running: () => child !== null,
    log: () => output
  }
}
