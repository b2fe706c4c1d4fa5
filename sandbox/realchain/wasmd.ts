/**
 * Real single-validator wasmd chains for the real-network tests: `wasmd init`, genesis accounts, a gentx, every
 * listener on 127.0.0.1 on a free port, 200 ms blocks. Each chain lives in a temp home and is killed and
 * removed at teardown; `stop()`/`start()` restart it on the same ports and data.
 *
 *   const chain = await startWasmd(t, { chainId: 'real-a-1', accounts: ['admin', 'alice'] })
 *   chain.rpc, chain.account('alice').mnemonic
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { freePort } from '../free-port.js'
import { chainBinaries } from './binaries.js'
import type { Teardown } from './teardown.js'

export const DENOM = 'ustake'
export const PREFIX = 'wasm'
export const GAS_PRICE = '0.025ustake'
/** What every test account holds at genesis. */
export const GENESIS_BALANCE = '1000000000000'

export interface ChainAccount { name: string, mnemonic: string, address: string }

export interface WasmdChain {
  readonly chainId: string
  readonly home: string
  readonly rpc: string
  readonly accounts: ChainAccount[]
  account (name: string): ChainAccount
  /** SIGTERM and wait; the data stays. */
  stop (): Promise<void>
  /** Starts it again on the same ports and data; resolves once it produces blocks. */
  start (): Promise<void>
  /** The node's output so far (for failure messages). */
  log (): string
  height (): Promise<number>
}

export interface WasmdOptions {
  chainId: string
  /** Genesis accounts, each with a fresh mnemonic and GENESIS_BALANCE. */
  accounts: string[]
  /** Further coins every genesis account holds besides GENESIS_BALANCE of DENOM, e.g. `1000000000000uosmo`. */
  extraCoins?: string
  /** Block time (CometBFT timeout_commit); default 200 ms. */
  blockMs?: number
}

async function exec (bin: string, args: string[], input?: string): Promise<string> {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  child.stdin.end(input ?? '')
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${String(code)}: ${err || out}`)
  return out + err
}

/** Sets `key = value` in the TOML section `[section]` (or the top when section is ''). */
function setToml (text: string, section: string, key: string, value: string): string {
  const lines = text.split('\n')
  let current = ''
  for (let i = 0; i < lines.length; i++) {
    const header = /^\[([^\]]+)\]\s*$/.exec(lines[i] ?? '')
    if (header !== null) { current = header[1] ?? ''; continue }
    if (current === section && new RegExp(`^${key.replace(/[.-]/g, '\\$&')}\\s*=`).test(lines[i] ?? '')) {
      lines[i] = `${key} = ${value}`
      return lines.join('\n')
    }
  }
  throw new Error(`no ${key} in [${section}]`)
}

async function editToml (file: string, edits: Array<[string, string, string]>): Promise<void> {
  let text = await readFile(file, 'utf8')
  for (const [section, key, value] of edits) text = setToml(text, section, key, value)
  await writeFile(file, text)
}

export async function newAccount (name: string): Promise<ChainAccount> {
  const wallet = await DirectSecp256k1HdWallet.generate(24, { prefix: PREFIX })
  const [account] = await wallet.getAccounts()
  return { name, mnemonic: wallet.mnemonic, address: account?.address ?? '' }
}

export async function startWasmd (t: Teardown, options: WasmdOptions): Promise<WasmdChain> {
  const { wasmd } = await chainBinaries()
  const home = await mkdtemp(join(tmpdir(), `intent-gate-wasmd-${options.chainId}-`))
  t.teardown(async () => { await rm(home, { recursive: true, force: true }) })
  const h = ['--home', home]
  await exec(wasmd, ['init', 'validator', '--chain-id', options.chainId, '--default-denom', DENOM, ...h])
  await exec(wasmd, ['keys', 'add', 'validator', '--keyring-backend', 'test', ...h])
  const validator = (await exec(wasmd, ['keys', 'show', 'validator', '-a', '--keyring-backend', 'test', ...h])).trim()
  await exec(wasmd, ['genesis', 'add-genesis-account', validator, `${GENESIS_BALANCE}${DENOM}`, ...h])
  const accounts = await Promise.all(options.accounts.map(newAccount))
  const coins = [`${GENESIS_BALANCE}${DENOM}`, ...(options.extraCoins === undefined ? [] : [options.extraCoins])].join(',')
  for (const a of accounts) await exec(wasmd, ['genesis', 'add-genesis-account', a.address, coins, ...h])
  await exec(wasmd, ['genesis', 'gentx', 'validator', `1000000000${DENOM}`, '--chain-id', options.chainId, '--keyring-backend', 'test', ...h])
  await exec(wasmd, ['genesis', 'collect-gentxs', ...h])

  const [rpcPort, p2pPort, grpcPort, abciPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const block = `"${options.blockMs ?? 200}ms"`
  await editToml(join(home, 'config/config.toml'), [
    ['', 'proxy_app', `"tcp://127.0.0.1:${abciPort}"`],
    ['rpc', 'laddr', `"tcp://127.0.0.1:${rpcPort}"`],
    ['rpc', 'pprof_laddr', '""'],
    ['p2p', 'laddr', `"tcp://127.0.0.1:${p2pPort}"`],
    ['p2p', 'pex', 'false'],
    ['consensus', 'timeout_commit', block],
    ['consensus', 'timeout_propose', block],
    ['instrumentation', 'prometheus', 'false']
  ])
  await editToml(join(home, 'config/app.toml'), [
    ['', 'minimum-gas-prices', `"0${DENOM}"`],
    ['api', 'enable', 'false'],
    ['grpc', 'address', `"127.0.0.1:${grpcPort}"`],
    ['grpc-web', 'enable', 'false']
  ])
  const rpc = `http://127.0.0.1:${rpcPort}`

  let child: ChildProcess | null = null
  let output = ''
  const launch = async (): Promise<void> => {
    const proc = spawn(wasmd, ['start', ...h], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    const collect = (d: Buffer): void => { output = (output + d.toString()).slice(-200_000) }
    proc.stdout?.on('data', collect)
    proc.stderr?.on('data', collect)
    const exited = once(proc, 'exit').then(([code]) => { throw new Error(`wasmd ${options.chainId} exited (${String(code)}) before producing blocks:\n${output.slice(-4000)}`) })
    await Promise.race([untilHeight(rpc, 2), exited])
  }
  const stop = async (): Promise<void> => {
    const proc = child
    child = null
    await terminate(proc)
  }
  t.teardown(stop)
  await launch()

  return {
    chainId: options.chainId,
    home,
    rpc,
    accounts,
    account: (name) => {
      const found = accounts.find((a) => a.name === name)
      if (found === undefined) throw new Error(`no account ${name} on ${options.chainId}`)
      return found
    },
    stop,
    start: launch,
    log: () => output,
    height: async () => await latestHeight(rpc)
  }
}

export async function latestHeight (rpc: string): Promise<number> {
  const answer = await (await fetch(`${rpc}/status`)).json() as { result: { sync_info: { latest_block_height: string } } }
  return Number(answer.result.sync_info.latest_block_height)
}

/**
 * Resolves once the chain reports `height`: the node answers /status only once its RPC listens, so this polls
 * (50 ms: a block is 200 ms) until then; there is no event to wait for before a socket exists.
 */
export async function untilHeight (rpc: string, height: number, limitMs = 120_000): Promise<number> {
  const deadline = Date.now() + limitMs
  for (;;) {
    try {
      const h = await latestHeight(rpc)
      if (h >= height) return h
    } catch {}
    if (Date.now() > deadline) throw new Error(`${rpc} did not reach height ${height} within ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Stops a chain program: SIGTERM, then SIGKILL if it has not exited within 10 s (a node flushing its state). */
export async function terminate (proc: ChildProcess | null): Promise<void> {
  if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return
  const exited = once(proc, 'exit')
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}
