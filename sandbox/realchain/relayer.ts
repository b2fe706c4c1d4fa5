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
import { GAS_PRICE, PREFIX, terminate, type ChainAccount, type WasmdChain } from './wasmd.js'
import type { Teardown } from './teardown.js'

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
export async function linkChains (
  t: Teardown,
  a: WasmdChain,
  b: WasmdChain,
  relayerA: ChainAccount,
  relayerB: ChainAccount
): Promise<Relayer> {
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
        'sign-mode': 'direct',
        // rly's chain processor reads new blocks once per loop (default 1 s) and starts a handshake only once it
        // is fewer than 2 blocks behind at the start of a loop. With 200 ms blocks a 1 s loop is always 5 behind:
        // it never starts, and `transact link` gives up after 2 minutes with "identifier cannot be blank" (the
        // connection id it never learned). 100 ms (a Go duration in nanoseconds) keeps it in step.
        'min-loop-duration': 100_000_000
      }
    }))
    await rlyExec(rly, ['chains', 'add', '--file', file, chain.chainId, ...h])
    const mnemonic = chain === a ? relayerA.mnemonic : relayerB.mnemonic
    await rlyExec(rly, ['keys', 'restore', chain.chainId, 'relayer', mnemonic, ...h])
  }
  await rlyExec(rly, ['paths', 'new', a.chainId, b.chainId, PATH_NAME, ...h])
  // Clients, connection and the ICS-20 channel (transfer <-> transfer, unordered, ics20-1), a few seconds.
  await rlyExec(rly, ['transact', 'link', PATH_NAME, '--src-port', 'transfer', '--dst-port', 'transfer', '--order', 'unordered', '--version', 'ics20-1', ...h])

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
      // `--flush-interval`: rly start left acknowledgements it had not relayed (61 of 185 settlement packets,
      // under load) until its next flush, 5 minutes by default; a flush every 10 s relays whatever it missed.
      // `--max-msgs`: a busy block's acknowledgements in one transaction rather than 5 at a time.
      const proc = spawn(rly, ['start', PATH_NAME, '--flush-interval', '10s', '--max-msgs', '50', ...h], { stdio: ['ignore', 'pipe', 'pipe'] })
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
