/**
 * The JSON CometBFT 0.38 speaks over RPC, built from the chain's block records: headers, blocks, block
 * ids, block metas, block results, tx responses and status. Hashes are upper-case hex, bytes base64,
 * 64-bit integers decimal strings, times RFC 3339 with nanoseconds: what cosmjs's comet38 adaptor decodes.
 */
import { sha256 } from '@cosmjs/crypto'
import { fromBase64, toBase64, toHex, toUtf8 } from '@cosmjs/encoding'
import type { BlockRecord, TxResultJson } from './state.js'

export const COMET_VERSION = '0.38.19'
const EMPTY_HASH = toHex(sha256(new Uint8Array())).toUpperCase()
const VALIDATOR_PUBKEY = sha256(toUtf8('intent-gate sandbox validator'))
export const VALIDATOR_ADDRESS = toHex(sha256(VALIDATOR_PUBKEY).slice(0, 20)).toUpperCase()
const VALIDATORS_HASH = toHex(sha256(toUtf8(`validators/${VALIDATOR_ADDRESS}`))).toUpperCase()
const CONSENSUS_HASH = toHex(sha256(toUtf8('consensus-params'))).toUpperCase()
export const NODE_ID = toHex(sha256(toUtf8('intent-gate sandbox node')).slice(0, 20))

export function hashHex (text: string): string {
  return toHex(sha256(toUtf8(text))).toUpperCase()
}

export function rfc3339 (ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')
}

export function dataHash (txs: string[]): string {
  if (txs.length === 0) return EMPTY_HASH
  return toHex(sha256(Uint8Array.from(txs.flatMap(tx => [...sha256(fromBase64(tx))])))).toUpperCase()
}

export function blockIdJson (hash: string): { hash: string, parts: { total: number, hash: string } } {
  return { hash, parts: { total: 1, hash: hashHex(`parts/${hash}`) } }
}

const EMPTY_BLOCK_ID = { hash: '', parts: { total: 0, hash: '' } }

export function headerJson (chainId: string, block: BlockRecord, previous: BlockRecord | undefined): Record<string, unknown> {
  return {
    version: { block: '11', app: '0' },
    chain_id: chainId,
    height: String(block.height),
    time: rfc3339(block.timeMs),
    last_block_id: previous === undefined ? EMPTY_BLOCK_ID : blockIdJson(previous.hash),
    last_commit_hash: previous === undefined ? EMPTY_HASH : hashHex(`commit/${previous.hash}`),
    data_hash: dataHash(block.txs),
    validators_hash: VALIDATORS_HASH,
    next_validators_hash: VALIDATORS_HASH,
    consensus_hash: CONSENSUS_HASH,
    app_hash: previous === undefined ? hashHex('genesis') : previous.appHash,
    last_results_hash: previous === undefined ? EMPTY_HASH : previous.lastResultsHash,
    evidence_hash: EMPTY_HASH,
    proposer_address: VALIDATOR_ADDRESS
  }
}

function lastCommitJson (previous: BlockRecord | undefined): Record<string, unknown> {
  if (previous === undefined) return { height: '0', round: 0, block_id: EMPTY_BLOCK_ID, signatures: [] }
  return {
    height: String(previous.height),
    round: 0,
    block_id: blockIdJson(previous.hash),
    signatures: [{
      block_id_flag: 2,
      validator_address: VALIDATOR_ADDRESS,
      timestamp: rfc3339(previous.timeMs + 1),
      signature: toBase64(sha256(toUtf8(`signature/${previous.hash}`)))
    }]
  }
}

export function blockJson (chainId: string, block: BlockRecord, previous: BlockRecord | undefined): Record<string, unknown> {
  return {
    header: headerJson(chainId, block, previous),
    data: { txs: block.txs },
    evidence: { evidence: [] },
    last_commit: lastCommitJson(previous)
  }
}

export function blockResponseJson (chainId: string, block: BlockRecord, previous: BlockRecord | undefined): Record<string, unknown> {
  return { block_id: blockIdJson(block.hash), block: blockJson(chainId, block, previous) }
}

export function blockMetaJson (chainId: string, block: BlockRecord, previous: BlockRecord | undefined): Record<string, unknown> {
  const size = block.txs.reduce((sum, tx) => sum + fromBase64(tx).length, 0) + 600
  return {
    block_id: blockIdJson(block.hash),
    block_size: String(size),
    header: headerJson(chainId, block, previous),
    num_txs: String(block.txs.length)
  }
}

export function blockResultsJson (block: BlockRecord): Record<string, unknown> {
  return {
    height: String(block.height),
    txs_results: block.results.length === 0 ? null : block.results,
    finalize_block_events: block.finalizeEvents,
    validator_updates: [],
    consensus_param_updates: null,
    app_hash: block.appHash
  }
}

/** `result_finalize_block` of a NewBlock event. */
export function finalizeBlockJson (block: BlockRecord): Record<string, unknown> {
  return { events: block.finalizeEvents, tx_results: block.results, validator_updates: [], consensus_param_updates: null, app_hash: toBase64(Uint8Array.from(Buffer.from(block.appHash, 'hex'))) }
}

export function txResponseJson (block: BlockRecord, index: number, hash: string): Record<string, unknown> {
  return { hash, height: String(block.height), index, tx_result: block.results[index] as TxResultJson, tx: block.txs[index] as string }
}

export function validatorJson (): Record<string, unknown> {
  return { address: VALIDATOR_ADDRESS, pub_key: { type: 'tendermint/PubKeyEd25519', value: toBase64(VALIDATOR_PUBKEY) }, voting_power: '10', proposer_priority: '0' }
}

export function statusJson (
  chainId: string,
  rpcAddress: string,
  genesisTimeMs: number,
  first: BlockRecord,
  latest: BlockRecord
): Record<string, unknown> {
  return {
    node_info: {
      protocol_version: { p2p: '8', block: '11', app: '0' },
      id: NODE_ID,
      listen_addr: 'tcp://127.0.0.1:26656',
      network: chainId,
      version: COMET_VERSION,
      channels: '40202122233038606100',
      moniker: 'intent-gate-sandbox',
      other: { tx_index: 'on', rpc_address: rpcAddress }
    },
    sync_info: {
      latest_block_hash: latest.hash,
      latest_app_hash: latest.appHash,
      latest_block_height: String(latest.height),
      latest_block_time: rfc3339(latest.timeMs),
      earliest_block_hash: first.hash,
      earliest_app_hash: first.appHash,
      earliest_block_height: String(first.height),
      earliest_block_time: rfc3339(genesisTimeMs),
      catching_up: false
    },
    validator_info: validatorJson()
  }
}
