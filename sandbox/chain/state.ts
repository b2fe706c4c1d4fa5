/**
 * The chain's whole state as plain JSON (application state, blocks, relayer settings), and its file:
 * written atomically (temporary file, then rename) after every block, so a process killed with -9
 * restarts at the same height with the same accounts, contract state and transaction index.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { ContractStorage } from './contract.js'

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

export interface CodeRecord {
  creator: string
  /** SHA-256 of `artifact`, lower-case hex, as wasmd's checksum */
  checksum: string
  /** the stored "wasm" bytes as UTF-8: a fixed artifact string per contract version */
  artifact: string
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
  storage: ContractStorage
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
  format: 1
  chainId: string
  genesisTimeMs: number
  app: AppState
  /** every block; empty blocks are small */
  blocks: BlockRecord[]
  relayer: RelayerSettings
}

export function loadState (file: string): ChainState | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const parsed = JSON.parse(text) as ChainState
  if (parsed.format !== 1) throw new Error(`state file ${file} has unknown format ${String(parsed.format)}`)
  return parsed
}

export function saveState (file: string, state: ChainState): void {
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify(state))
  renameSync(tmp, file)
}
