/**
 * The CometBFT 0.38 JSON-RPC methods of the local chain (everything but subscriptions, which live with the
 * WebSocket connection): named params as cosmjs sends them, results shaped as CometBFT returns them, and
 * errors as JSON-RPC errors with CometBFT's codes and messages.
 */
import { fromBase64, fromHex, toBase64, toHex } from '@cosmjs/encoding'
import { blockMetaJson, blockResponseJson, blockResultsJson, statusJson, txResponseJson, validatorJson } from './cometjson.js'
import { AbciError } from './errors.js'
import { MempoolError, type ChainNode } from './node.js'
import { txAttributes } from './notifications.js'
import { matches, parseQuery, QuerySyntaxError } from './querylang.js'
import type { BlockRecord } from './state.js'
import { txHash } from './tx.js'

export class RpcError extends Error {
  readonly code: number
  readonly data: string

  constructor (code: number, message: string, data: string) {
    super(message)
    this.code = code
    this.data = data
  }

  static internal (data: string): RpcError { return new RpcError(-32603, 'Internal error', data) }
  static invalidParams (data: string): RpcError { return new RpcError(-32602, 'Invalid params', data) }
  static methodNotFound (method: string): RpcError { return new RpcError(-32601, 'Method not found', `method ${method} not found`) }
}

type Params = Record<string, unknown>
type Method = (params: Params) => Promise<unknown> | unknown

const BROADCAST_COMMIT_TIMEOUT_MS = 10_000
const MAX_PER_PAGE = 100
const DEFAULT_PER_PAGE = 30

function optionalInt (params: Params, name: string): number | undefined {
  const value = params[name]
  if (value === undefined || value === null || value === '') return undefined
  const parsed = typeof value === 'number' ? value : Number(String(value))
  if (!Number.isSafeInteger(parsed)) throw RpcError.invalidParams(`error converting json params to arguments: ${name}: invalid integer ${JSON.stringify(value)}`)
  return parsed
}

function requireString (params: Params, name: string): string {
  const value = params[name]
  if (typeof value !== 'string') throw RpcError.invalidParams(`error converting json params to arguments: missing or invalid ${name}`)
  return value
}

function decodeBytes (value: string, name: string, decode: (text: string) => Uint8Array): Uint8Array {
  try {
    return decode(value)
  } catch (error) {
    throw RpcError.invalidParams(`error converting json params to arguments: ${name}: ${(error as Error).message}`)
  }
}

export function createMethods (node: ChainNode, rpcUrl: string): Record<string, Method> {
  const blockAtParam = (params: Params): BlockRecord => {
    const latest = node.latest.height
    const height = optionalInt(params, 'height') ?? 0
    if (height === 0) return node.latest
    if (height < 0) throw RpcError.internal(`height must be greater than 0, but got ${height}`)
    if (height > latest) throw RpcError.internal(`height ${height} must be less than or equal to the current blockchain height ${latest}`)
    const block = node.blockAt(height)
    if (block === undefined) throw RpcError.internal(`height ${height} is not available, lowest height is ${node.earliest.height}`)
    return block
  }
  const previousOf = (block: BlockRecord): BlockRecord | undefined => node.blockAt(block.height - 1)

  const checkTxResponse = (bytes: Uint8Array): {
    hash: string
    result: { code: number, data: string | null, log: string, codespace: string, gas_wanted: string, gas_used: string }
  } => {
    try {
      return node.submitTx(bytes)
    } catch (error) {
      if (error instanceof MempoolError) throw RpcError.internal(error.message)
      throw error
    }
  }

  return {
    health: () => ({}),
    status: () => statusJson(node.chainId, rpcUrl, node.state.genesisTimeMs, node.earliest, node.latest),
    abci_info: () => ({
      response: {
        data: 'intent-gate-sandbox',
        version: '0.1.0',
        app_version: '1',
        last_block_height: String(node.latest.height),
        last_block_app_hash: toBase64(fromHex(node.latest.appHash))
      }
    }),
    abci_query: (params) => {
      const path = requireString(params, 'path')
      const data = typeof params.data === 'string' ? decodeBytes(params.data.replace(/^0x/, ''), 'data', fromHex) : new Uint8Array()
      const height = String(node.latest.height)
      try {
        const value = node.query(path, data)
        return { response: { code: 0, log: '', info: '', index: '0', key: null, value: toBase64(value), proofOps: null, height, codespace: '' } }
      } catch (error) {
        if (!(error instanceof AbciError)) throw error
        return { response: { code: error.abciCode, log: error.message, info: '', index: '0', key: null, value: null, proofOps: null, height, codespace: error.codespace } }
      }
    },
    broadcast_tx_async: (params) => {
      const bytes = decodeBytes(requireString(params, 'tx'), 'tx', fromBase64)
      const { hash } = checkTxResponse(bytes)
      return { code: 0, data: '', log: '', codespace: '', hash }
    },
    broadcast_tx_sync: (params) => {
      const bytes = decodeBytes(requireString(params, 'tx'), 'tx', fromBase64)
      const { hash, result } = checkTxResponse(bytes)
      return { code: result.code, data: result.data ?? '', log: result.log, codespace: result.codespace, hash }
    },
    broadcast_tx_commit: async (params) => {
      const bytes = decodeBytes(requireString(params, 'tx'), 'tx', fromBase64)
      const { hash, result } = checkTxResponse(bytes)
      const emptyResult = { code: 0, data: null, log: '', info: '', gas_wanted: '0', gas_used: '0', events: [], codespace: '' }
      if (result.code !== 0) return { check_tx: result, tx_result: emptyResult, hash, height: '0' }
      const included = await node.waitForTx(hash, BROADCAST_COMMIT_TIMEOUT_MS)
      if (included === undefined) throw RpcError.internal('timed out waiting for tx to be included in a block')
      return { check_tx: result, tx_result: included.block.results[included.index], hash, height: String(included.block.height) }
    },
    tx: (params) => {
      const hashBytes = decodeBytes(requireString(params, 'hash'), 'hash', fromBase64)
      const hash = toHex(hashBytes).toUpperCase()
      const found = node.findTx(hash)
      if (found === undefined) throw RpcError.internal(`tx (${hash}) not found`)
      return txResponseJson(found.block, found.index, hash)
    },
    tx_search: (params) => {
      const query = requireString(params, 'query')
      let conditions
      try {
        conditions = parseQuery(query)
      } catch (error) {
        if (error instanceof QuerySyntaxError) throw RpcError.internal(error.message)
        throw error
      }
      const hits: Array<{ block: BlockRecord, index: number }> = []
      for (const block of node.state.blocks) {
        for (let index = 0; index < block.txs.length; index++) {
          if (matches(conditions, txAttributes(block, index))) hits.push({ block, index })
        }
      }
      if (params.order_by === 'desc') hits.reverse()
      const perPage = Math.min(Math.max(optionalInt(params, 'per_page') ?? DEFAULT_PER_PAGE, 1), MAX_PER_PAGE)
      const pages = Math.max(1, Math.ceil(hits.length / perPage))
      const page = optionalInt(params, 'page') ?? 1
      if (page < 1 || page > pages) throw RpcError.internal(`page should be within [1, ${pages}] range, given ${page}`)
      const txs = hits.slice((page - 1) * perPage, page * perPage)
        .map(({ block, index }) => txResponseJson(block, index, txHash(fromBase64(block.txs[index] as string))))
      return { txs, total_count: String(hits.length) }
    },
    block: (params) => {
      const block = blockAtParam(params)
      return blockResponseJson(node.chainId, block, previousOf(block))
    },
    block_results: (params) => blockResultsJson(blockAtParam(params)),
    blockchain: (params) => {
      const latest = node.latest.height
      const max = Math.min(optionalInt(params, 'maxHeight') ?? latest, latest) || latest
      const min = Math.max(optionalInt(params, 'minHeight') ?? 1, node.earliest.height, max - 19)
      if (min > max) throw RpcError.internal(`min height ${min} can't be greater than max height ${max}`)
      const metas = []
      for (let height = max; height >= min; height--) {
        const block = node.blockAt(height)
        if (block !== undefined) metas.push(blockMetaJson(node.chainId, block, previousOf(block)))
      }
      return { last_height: String(latest), block_metas: metas }
    },
    validators: () => ({ block_height: String(node.latest.height), validators: [validatorJson()], count: '1', total: '1' }),
    num_unconfirmed_txs: () => {
      const { count, bytes } = node.mempoolSize()
      return { n_txs: String(count), total: String(count), total_bytes: String(bytes), txs: null }
    }
  }
}

/** Runs one JSON-RPC request object and returns the response object. */
export async function handleJsonRpc (methods: Record<string, Method>, request: unknown): Promise<Record<string, unknown>> {
  const envelope = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>
  const id = envelope.id ?? -1
  try {
    if (envelope.jsonrpc !== '2.0' || typeof envelope.method !== 'string') throw new RpcError(-32600, 'Invalid Request', 'expected a JSON-RPC 2.0 request with a method')
    const method = methods[envelope.method]
    if (method === undefined) throw RpcError.methodNotFound(envelope.method)
    const params = (typeof envelope.params === 'object' && envelope.params !== null && !Array.isArray(envelope.params) ? envelope.params : {}) as Params
    const result = await method(params)
    return { jsonrpc: '2.0', id, result }
  } catch (error) {
    const rpcError = error instanceof RpcError ? error : RpcError.internal((error as Error).message)
    return { jsonrpc: '2.0', id, error: { code: rpcError.code, message: rpcError.message, data: rpcError.data } }
  }
}
