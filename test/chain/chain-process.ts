/**
 * The built local chain (`node dist/sandbox/cli.js chain ...`) for the chain-side tests: started on port 0 with
 * a state file in a temp dir, its start line parsed, SIGKILLed and restarted on the SAME port (so clients that
 * hold the URL reconnect to it), its control endpoints called, and stopped at teardown. Build first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const SANDBOX_CLI = fileURLToPath(new URL('../../dist/sandbox/cli.js', import.meta.url))

export interface ChainInfo {
  rpc: string
  chain_id: string
  settlement_contract: string
  code_ids: Record<string, number>
  checksums: Record<string, string>
  escrow_contract: string
  escrow_code_ids: Record<string, number>
  escrow_checksums: Record<string, string>
  admin_mnemonic: string
  admin_address: string
  gas_price: string
  denom: string
  ibc_channels: string[]
  accounts: Array<{ name: string, mnemonic: string, address: string }>
  height: number
}

export interface LocalChain {
  readonly info: ChainInfo
  readonly rpc: string
  readonly port: number
  /** SIGKILL: a crash; the state file keeps every finished block. */
  kill (): Promise<void>
  /** Starts it again on the same port with the same state file. */
  restart (): Promise<void>
  /** POSTs (or GETs without a body) a `/sandbox/...` control endpoint; throws on a non-2xx answer. */
  control (path: string, body?: unknown, method?: 'GET' | 'POST'): Promise<unknown>
  /** The mnemonic of a genesis account by name (`admin`, `alice`, ...). */
  mnemonic (name: string): string
  address (name: string): string
}

interface Teardown { teardown: (fn: () => unknown) => void }

export interface ChainOptions {
  /** A fixed port (default 0: a free one). */
  port?: number
  blockMs?: number
  ackDelayMs?: number
}

export async function startChain (t: Teardown, options: ChainOptions = {}): Promise<LocalChain> {
  const dir = await mkdtemp(join(tmpdir(), 'intent-gate-chain-'))
  const stateFile = join(dir, 'chain.json')
  const extra = [
    '--block-ms', String(options.blockMs ?? 100),
    ...(options.ackDelayMs === undefined ? [] : ['--ack-delay-ms', String(options.ackDelayMs)])
  ]
  let child: ChildProcess | null = null
  let exited: Promise<unknown> = Promise.resolve()

  const launch = async (listen: string): Promise<ChainInfo> => {
    const proc = spawn(process.execPath, [SANDBOX_CLI, 'chain', '--listen', listen, '--state', stateFile, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let stderr = ''
    proc.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    exited = once(proc, 'exit')
    const lines = createInterface({ input: proc.stdout! })
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => line as string),
      exited.then(() => { throw new Error(`the chain exited before listening: ${stderr}`) })
    ])
    return JSON.parse(first) as ChainInfo
  }

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill(signal)
    await exited
  }

  const info = await launch(`127.0.0.1:${options.port ?? 0}`)
  const port = Number(new URL(info.rpc).port)
  t.teardown(async () => {
    await stop('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  const account = (name: string): { mnemonic: string, address: string } => {
    const found = info.accounts.find((a) => a.name === name)
    if (found === undefined) throw new Error(`no genesis account ${name}`)
    return found
  }

  return {
    info,
    rpc: info.rpc,
    port,
    kill: async () => { await stop('SIGKILL') },
    restart: async () => {
      await stop('SIGKILL')
      await launch(`127.0.0.1:${port}`)
    },
    control: async (path, body, method) => {
      const response = await fetch(`${info.rpc}${path}`, {
        method: method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body)
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text}`)
      return JSON.parse(text) as unknown
    },
    mnemonic: (name) => account(name).mnemonic,
    address: (name) => account(name).address
  }
}
