/**
 * The chain's whole state as plain JSON (application state, blocks, relayer settings), and its files, so a
 * process killed with -9 restarts at the same height with the same accounts, contract state and tx index.
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { ContractStorage } from './contract.js'
import type { EscrowStorage } from './escrow.js'

export interface AbciAttribute { key: string, value: string, index: boolean }
export interface AbciEvent { type: string, attributes: AbciAttribute[] }

/** ExecTxResult in CometBFT 0.38 JSON: integers as strings except `code`, bytes as base64. */
export interface TxResultJson {
  code: number
  data: string | null
  log: string
  info: string
  gas_wanted: string
  gas_used: string
  events: AbciEvent[]
  codespace: string
}

export interface Account {
  number: number
  sequence: number
  /** base64 of the 33-byte compressed secp256k1 key, set by the first signed transaction */
  pubkey?: string
}

/** What a code runs: the cw2 name and version compiled into it, and whether its migrate accepts a downgrade. */
export interface CodeModel {
  contract: string
  version: string
  accepts_downgrade: boolean
}

export interface CodeRecord {
  creator: string
  /** SHA-256 of the stored bytes (`wasm`, else `artifact`), lower-case hex, as wasmd's checksum */
  checksum: string
  /** the genesis codes' "wasm" bytes as UTF-8: a fixed artifact string per contract version */
  artifact: string
  /** base64 of an uploaded module's bytes (MsgStoreCode) */
  wasm?: string
  /** absent: an uploaded module the sandbox cannot run (see codes.ts); genesis codes before cw2 models: settlement */
  model?: CodeModel
}

export interface HistoryEntry {
  operation: 'init' | 'genesis' | 'migrate'
  codeId: number
  height: number
  txIndex: number
  /** the JSON message, as sent */
  msg: string
}

export interface ContractRecord {
  codeId: number
  creator: string
  admin: string
  label: string
  createdHeight: number
  history: HistoryEntry[]
  storage: ContractStorage | EscrowStorage
}

export interface PacketRecord {
  sequence: number
  sourcePort: string
  sourceChannel: string
  destinationPort: string
  destinationChannel: string
  /** base64 */
  data: string
  /** unix nanoseconds as a decimal string */
  timeoutTimestamp: string
  /** hex of the ibc-go v8 packet commitment */
  commitment: string
  sentHeight: number
  sentTimeMs: number
  /** the settlement this packet carries funds for */
  settlementId?: string
  contract?: string
}

export interface ChannelRecord {
  portId: string
  channelId: string
  counterpartyPortId: string
  counterpartyChannelId: string
  connectionId: string
  version: string
  nextSequenceSend: number
}

export interface AppState {
  accounts: Record<string, Account>
  balances: Record<string, Record<string, string>>
  nextAccountNumber: number
  codes: Record<string, CodeRecord>
  contracts: Record<string, ContractRecord>
  channels: Record<string, ChannelRecord>
  /** packets sent and not yet acknowledged or timed out, by "<port>/<channel>/<sequence>" */
  commitments: Record<string, PacketRecord>
  /** sequences acknowledged or timed out, by "<port>/<channel>" (for UnreceivedPackets/UnreceivedAcks) */
  settledSequences: Record<string, number[]>
}

export interface BlockRecord {
  height: number
  timeMs: number
  /** upper-case hex */
  hash: string
  appHash: string
  lastResultsHash: string
  /** base64 transactions, in order */
  txs: string[]
  results: TxResultJson[]
  finalizeEvents: AbciEvent[]
}

export interface RelayerSettings {
  paused: boolean
  ackDelayMs: number
  /** what the relayer delivers once a packet is due: an acknowledgement or a timeout */
  outcome: 'ack' | 'timeout'
}

export interface ChainState {
  chainId: string
  genesisTimeMs: number
  app: AppState
  /** every block; empty blocks are small */
  blocks: BlockRecord[]
  relayer: RelayerSettings
}

/**
 * A copy of the application state that a transaction may change without touching `app`: the small maps are
 * copied deeply, contract records shallowly (modules replace a contract's storage and history, never
 * mutate them), commitments as a map of immutable packets. Much cheaper than cloning every settlement.
 */
export function forkState (app: AppState): AppState {
  return {
    accounts: Object.fromEntries(Object.entries(app.accounts).map(([address, account]) => [address, { ...account }])),
    balances: Object.fromEntries(Object.entries(app.balances).map(([address, coins]) => [address, { ...coins }])),
    nextAccountNumber: app.nextAccountNumber,
    codes: app.codes,
    contracts: Object.fromEntries(Object.entries(app.contracts).map(([address, record]) => [address, { ...record }])),
    channels: Object.fromEntries(Object.entries(app.channels).map(([key, channel]) => [key, { ...channel }])),
    commitments: { ...app.commitments },
    settledSequences: { ...app.settledSequences }
  }
}

interface Snapshot {
  format: 2
  chainId: string
  genesisTimeMs: number
  /** the height the application state is as of */
  height: number
  app: AppState
  relayer: RelayerSettings
}

/**
 * The chain on disk: `FILE` holds a snapshot of the application state (rewritten atomically, temporary file
 * then rename, after every block with transactions and whenever the relayer settings change) and
 * `FILE.blocks` the blocks, one JSON line each, appended before the snapshot is written. A process killed at
 * any point restarts consistently: a torn last line is dropped, and a block with transactions that the
 * snapshot does not yet include is dropped with everything after it (empty blocks change no state).
 */
export class StateFile {
  readonly path: string
  readonly blocksPath: string
  #savedRelayer = ''

  constructor (path: string) {
    this.path = path
    this.blocksPath = `${path}.blocks`
  }

  load (): ChainState | undefined {
    const snapshotText = readIfExists(this.path)
    if (snapshotText === undefined) {
      if (readIfExists(this.blocksPath) !== undefined) writeFileSync(this.blocksPath, '')
      return undefined
    }
    const snapshot = JSON.parse(snapshotText) as Snapshot
    if (snapshot.format !== 2) throw new Error(`unknown state format ${String(snapshot.format)}`)
    const blocks: BlockRecord[] = []
    for (const line of (readIfExists(this.blocksPath) ?? '').split('\n')) {
      if (line.trim() === '') continue
      let block: BlockRecord
      try {
        block = JSON.parse(line) as BlockRecord
      } catch {
        break // a line torn by the kill
      }
      if (block.height > snapshot.height && block.txs.length > 0) break
      if (blocks.length > 0 && block.height !== (blocks.at(-1) as BlockRecord).height + 1) throw new Error(`${this.blocksPath}: block ${block.height} does not follow ${(blocks.at(-1) as BlockRecord).height}`)
      blocks.push(block)
    }
    if ((blocks.at(-1)?.height ?? 0) < snapshot.height) throw new Error(`${this.blocksPath} ends before height ${snapshot.height} of ${this.path}`)
    writeFileSync(this.blocksPath, blocks.map(block => JSON.stringify(block) + '\n').join(''))
    this.#savedRelayer = JSON.stringify(snapshot.relayer)
    return { chainId: snapshot.chainId, genesisTimeMs: snapshot.genesisTimeMs, app: snapshot.app, blocks, relayer: snapshot.relayer }
  }

  /** After each committed block. */
  save (state: ChainState, block: BlockRecord): void {
    appendFileSync(this.blocksPath, JSON.stringify(block) + '\n')
    const relayer = JSON.stringify(state.relayer)
    if (block.txs.length === 0 && relayer === this.#savedRelayer && block.height > 1) return
    const snapshot: Snapshot = {
      format: 2,
      chainId: state.chainId,
      genesisTimeMs: state.genesisTimeMs,
      height: block.height,
      app: state.app,
      relayer: state.relayer
    }
    const tmp = `${this.path}.tmp-${process.pid}`
    writeFileSync(tmp, JSON.stringify(snapshot))
    renameSync(tmp, this.path)
    this.#savedRelayer = relayer
  }
}

function readIfExists (file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
