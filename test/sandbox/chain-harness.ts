/**
 * Starts the built local chain (`node dist/sandbox/cli.js chain ...`) for a test, reads its start line, and
 * stops it at teardown; plus cosmjs clients for it. Tests talk to the chain only through cosmjs (and the
 * documented /sandbox control endpoints). Build first (`npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { calculateFee, GasPrice, QueryClient, setupIbcExtension, type StdFee } from '@cosmjs/stargate'
import { Comet38Client, WebsocketClient } from '@cosmjs/tendermint-rpc'

const SANDBOX_CLI = fileURLToPath(new URL('../../dist/sandbox/cli.js', import.meta.url))

export interface ChainInfo {
  rpc: string
  websocket: string
  chain_id: string
  settlement_contract: string
  code_ids: Record<string, number>
  checksums: Record<string, string>
  admin_mnemonic: string
  admin_address: string
  gas_price: string
  ibc_channels: string[]
  accounts: Array<{ name: string, mnemonic: string, address: string }>
  height: number
}

export interface RunningChain {
  info: ChainInfo
  child: ChildProcess
  /** SIGKILL, resolves once the process is gone */
  kill: () => Promise<void>
  control: (path: string, body?: unknown) => Promise<Record<string, unknown>>
  /** registers a client to disconnect before the chain stops (a cosmjs WebSocket reconnects forever otherwise) */
  track: (disconnect: () => void) => void
}

interface Teardown { teardown: (fn: () => unknown) => void }

export async function startChain (t: Teardown, args: readonly string[] = []): Promise<RunningChain> {
  const child = spawn(process.execPath, [SANDBOX_CLI, 'chain', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit')
  const clients: Array<() => void> = []
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  t.teardown(async () => {
    for (const disconnect of clients.splice(0)) disconnect()
    await kill()
  })
  const lines = createInterface({ input: child.stdout! })
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    exited.then(([code]) => { throw new Error(`chain exited (${String(code)}) before listening: ${stderr}`) })
  ])
  const info = JSON.parse(first) as ChainInfo
  const control = async (path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${info.rpc}${path}`, body === undefined ? { method: path.endsWith('/relayer') ? 'GET' : 'POST' } : { method: 'POST', body: JSON.stringify(body) })
    return await response.json() as Record<string, unknown>
  }
  return { info, child, kill, control, track: (disconnect) => { clients.push(disconnect) } }
}

export function mnemonicOf (info: ChainInfo, name: string): string {
  const account = info.accounts.find(candidate => candidate.name === name)
  if (account === undefined) throw new Error(`no genesis account ${name}`)
  return account.mnemonic
}

/** A fixed fee that covers any one settlement message (cosmjs 'auto' needs the nested GasPrice copy; see docs). */
export const FEE: StdFee = calculateFee(600_000, GasPrice.fromString('0.025ustake'))

export async function signingClient (chain: RunningChain, mnemonic: string): Promise<{ client: SigningCosmWasmClient, address: string }> {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: 'wasm' })
  const [account] = await wallet.getAccounts()
  const client = await SigningCosmWasmClient.connectWithSigner(chain.info.rpc, wallet, { broadcastPollIntervalMs: 50 })
  chain.track(() => client.disconnect())
  return { client, address: account!.address }
}

export async function websocketClient (chain: RunningChain): Promise<Comet38Client> {
  const rpc = new WebsocketClient(chain.info.websocket.replace(/\/websocket$/, ''))
  const client = Comet38Client.create(rpc)
  chain.track(() => {
    // cosmjs's ReconnectingSocket reconnects even after an explicit disconnect() (its status listener schedules
    // a reconnect on every Disconnected), which would keep the test process alive forever: neuter it first.
    const queueing = (rpc as unknown as { socket: { socket: { reconnect: () => void } } }).socket.socket
    queueing.reconnect = () => {}
    client.disconnect()
  })
  return client
}

export async function ibcQueries (
  chain: RunningChain
): Promise<ReturnType<typeof QueryClient.withExtensions<ReturnType<typeof setupIbcExtension>>>> {
  const comet = await Comet38Client.connect(chain.info.rpc)
  chain.track(() => comet.disconnect())
  return QueryClient.withExtensions(comet, setupIbcExtension)
}

export interface BlockFeed {
  /** heights of every NewBlock received, in arrival order */
  heights: number[]
  /** block header times (ms) by height */
  times: Map<number, number>
  /** resolves with the first block height (received from now on) that satisfies `predicate` */
  until: (predicate: (height: number, timeMs: number) => boolean) => Promise<number>
}

/**
 * One NewBlock subscription for the whole test (cosmjs delivers events twice when the same query is
 * subscribed again on a client after an unsubscribe, so a test subscribes once). Once its first block has
 * arrived, every subscription requested earlier on the same client is active.
 */
export async function blockFeed (chain: RunningChain, client: Comet38Client): Promise<BlockFeed> {
  const arrivals = new EventEmitter()
  const heights: number[] = []
  const times = new Map<number, number>()
  const subscription = client.subscribeNewBlock().subscribe({
    next: (block) => {
      heights.push(block.header.height)
      times.set(block.header.height, block.header.time.getTime())
      arrivals.emit('block', block.header.height, block.header.time.getTime())
    },
    error: (error: unknown) => { arrivals.emit('error', error) }
  })
  chain.track(() => subscription.unsubscribe())
  type BlockPredicate = (height: number, timeMs: number) => boolean
  const until = async (predicate: BlockPredicate): Promise<number> => await new Promise<number>((resolve, reject) => {
    const onBlock = (height: number, timeMs: number): void => {
      if (!predicate(height, timeMs)) return
      arrivals.off('block', onBlock)
      arrivals.off('error', reject)
      resolve(height)
    }
    arrivals.on('block', onBlock)
    arrivals.once('error', reject)
  })
  await until(() => true)
  return { heights, times, until }
}

/** A create_settlement message for `user`, timing out an hour from now. */
export function createSettlementMsg (id: string, user: string, amount = '1000'): Record<string, unknown> {
  return { create_settlement: { id, user, amount, denom: 'ustake', timeout: Math.floor(Date.now() / 1000) + 3600 } }
}
