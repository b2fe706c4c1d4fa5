/**
 * abci_query: the gRPC query services cosmjs calls, by path, with protobuf requests and responses from
 * cosmjs-types. Errors are what the SDK makes of a gRPC status over ABCI (NotFound → 38, InvalidArgument
 * → 18, Unknown → 6), and an unknown path answers code 6 "unknown query path", as a real node does.
 */
import { fromBase64, fromBech32, fromHex, toUtf8 } from '@cosmjs/encoding'
import { encodePubkey } from '@cosmjs/proto-signing'
import { encodeSecp256k1Pubkey } from '@cosmjs/amino'
import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth'
import { QueryAccountRequest, QueryAccountResponse } from 'cosmjs-types/cosmos/auth/v1beta1/query'
import { QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import { SimulateRequest, SimulateResponse } from 'cosmjs-types/cosmos/tx/v1beta1/service'
import {
  QueryCodeRequest, QueryCodeResponse, QueryCodesResponse, QueryContractHistoryRequest, QueryContractHistoryResponse,
  QueryContractInfoRequest, QueryContractInfoResponse, QueryContractsByCodeRequest, QueryContractsByCodeResponse,
  QueryRawContractStateRequest, QueryRawContractStateResponse, QuerySmartContractStateRequest, QuerySmartContractStateResponse
} from 'cosmjs-types/cosmwasm/wasm/v1/query'
import { AccessType, ContractCodeHistoryOperationType } from 'cosmjs-types/cosmwasm/wasm/v1/types'
import { Order, State } from 'cosmjs-types/ibc/core/channel/v1/channel'
import {
  QueryChannelRequest, QueryChannelResponse, QueryChannelsResponse, QueryPacketCommitmentsRequest, QueryPacketCommitmentsResponse,
  QueryUnreceivedAcksRequest, QueryUnreceivedAcksResponse, QueryUnreceivedPacketsRequest, QueryUnreceivedPacketsResponse
} from 'cosmjs-types/ibc/core/channel/v1/query'
import type { TxOutcome } from './app.js'
import { AbciError, SDK } from './errors.js'
import { channelCommitments, commitmentBytes, findChannel, pendingAmong } from './ibc.js'
import { ADDRESS_PREFIX } from './keys.js'
import type { AppState, ChannelRecord, CodeRecord } from './state.js'
import { invalidArgument, notFound, rawQuery, smartQuery } from './wasm.js'

export interface QueryContext {
  app: AppState
  height: number
  simulate: (txBytes: Uint8Array) => TxOutcome
}

type Handler = (data: Uint8Array, ctx: QueryContext) => Uint8Array

const HISTORY_OPERATIONS = {
  init: ContractCodeHistoryOperationType.CONTRACT_CODE_HISTORY_OPERATION_TYPE_INIT,
  genesis: ContractCodeHistoryOperationType.CONTRACT_CODE_HISTORY_OPERATION_TYPE_GENESIS,
  migrate: ContractCodeHistoryOperationType.CONTRACT_CODE_HISTORY_OPERATION_TYPE_MIGRATE
} as const

function checkAddress (address: string): void {
  try {
    const { prefix } = fromBech32(address, 128)
    if (prefix !== ADDRESS_PREFIX) throw new Error(`invalid Bech32 prefix; expected ${ADDRESS_PREFIX}, got ${prefix}`)
  } catch (error) {
    throw invalidArgument(`decoding bech32 failed: ${(error as Error).message}`)
  }
}

function codeInfo (
  id: string,
  code: CodeRecord
): { codeId: bigint, creator: string, dataHash: Uint8Array, instantiatePermission: { permission: AccessType, addresses: string[] } } {
  return {
    codeId: BigInt(id),
    creator: code.creator,
    dataHash: fromHex(code.checksum),
    instantiatePermission: { permission: AccessType.ACCESS_TYPE_EVERYBODY, addresses: [] }
  }
}

function ibcHeight (ctx: QueryContext): { revisionNumber: bigint, revisionHeight: bigint } {
  return { revisionNumber: 0n, revisionHeight: BigInt(ctx.height) }
}

function channelProto (record: ChannelRecord): QueryChannelResponse['channel'] {
  return {
    state: State.STATE_OPEN,
    ordering: Order.ORDER_UNORDERED,
    counterparty: { portId: record.counterpartyPortId, channelId: record.counterpartyChannelId },
    connectionHops: [record.connectionId],
    version: record.version
  }
}

const HANDLERS: Record<string, Handler> = {
  '/cosmos.auth.v1beta1.Query/Account': (data, { app }) => {
    const { address } = QueryAccountRequest.decode(data)
    checkAddress(address)
    const account = app.accounts[address]
    if (account === undefined) throw notFound(`account ${address} not found`)
    const base = BaseAccount.fromPartial({
      address,
      accountNumber: BigInt(account.number),
      sequence: BigInt(account.sequence),
      ...(account.pubkey === undefined ? {} : { pubKey: encodePubkey(encodeSecp256k1Pubkey(fromBase64(account.pubkey))) })
    })
    return QueryAccountResponse.encode({ account: { typeUrl: '/cosmos.auth.v1beta1.BaseAccount', value: BaseAccount.encode(base).finish() } }).finish()
  },
  '/cosmos.tx.v1beta1.Service/Simulate': (data, ctx) => {
    const request = SimulateRequest.decode(data)
    if (request.txBytes.length === 0) throw invalidArgument('empty txBytes is not allowed')
    const outcome = ctx.simulate(request.txBytes)
    const result = outcome.result
    if (result.code !== 0) {
      throw new AbciError('sdk', SDK.unknownRequest.code,
        // wasmd v0.54.9 also puts the Go source line of the failure before "with gas used"; nothing reads it.
        `rpc error: code = Unknown desc = ${result.log} with gas used: '${result.gas_used}': ${SDK.unknownRequest.description}`)
    }
    return SimulateResponse.encode({
      gasInfo: { gasWanted: BigInt(result.gas_wanted), gasUsed: BigInt(result.gas_used) },
      result: {
        data: new Uint8Array(),
        log: '',
        events: result.events.map(event => ({
          type: event.type,
          attributes: event.attributes.map(a => ({ key: a.key, value: a.value, index: a.index }))
        })),
        msgResponses: outcome.msgResponses
      }
    }).finish()
  },
  '/cosmos.bank.v1beta1.Query/Balance': (data, { app }) => {
    const { address, denom } = QueryBalanceRequest.decode(data)
    checkAddress(address)
    if (denom === '') throw invalidArgument('invalid denom')
    return QueryBalanceResponse.encode({ balance: { denom, amount: app.balances[address]?.[denom] ?? '0' } }).finish()
  },
  '/cosmos.bank.v1beta1.Query/AllBalances': (data, { app }) => {
    const { address } = QueryAllBalancesRequest.decode(data)
    checkAddress(address)
    const balances = Object.entries(app.balances[address] ?? {}).filter(([, amount]) => amount !== '0').sort(([a], [b]) => a.localeCompare(b)).map(([denom, amount]) => ({ denom, amount }))
    return QueryAllBalancesResponse.encode({ balances, pagination: { nextKey: new Uint8Array(), total: BigInt(balances.length) } }).finish()
  },
  '/cosmwasm.wasm.v1.Query/Code': (data, { app }) => {
    const { codeId } = QueryCodeRequest.decode(data)
    const code = app.codes[codeId.toString()]
    if (code === undefined) throw notFound(`no such code: ${codeId}`)
    const bytecode = code.wasm === undefined ? toUtf8(code.artifact) : fromBase64(code.wasm)
    return QueryCodeResponse.encode({ codeInfo: codeInfo(codeId.toString(), code), data: bytecode }).finish()
  },
  '/cosmwasm.wasm.v1.Query/Codes': (_data, { app }) => {
    const codeInfos = Object.entries(app.codes).map(([id, code]) => codeInfo(id, code))
    return QueryCodesResponse.encode({ codeInfos, pagination: { nextKey: new Uint8Array(), total: BigInt(codeInfos.length) } }).finish()
  },
  '/cosmwasm.wasm.v1.Query/ContractInfo': (data, { app }) => {
    const { address } = QueryContractInfoRequest.decode(data)
    checkAddress(address)
    const record = app.contracts[address]
    if (record === undefined) throw notFound(`address ${address}: no such contract`)
    return QueryContractInfoResponse.encode({
      address,
      contractInfo: {
        codeId: BigInt(record.codeId),
        creator: record.creator,
        admin: record.admin,
        label: record.label,
        created: { blockHeight: BigInt(record.createdHeight), txIndex: 0n },
        ibcPortId: '',
        ibc2PortId: ''
      }
    }).finish()
  },
  '/cosmwasm.wasm.v1.Query/ContractsByCode': (data, { app }) => {
    const { codeId } = QueryContractsByCodeRequest.decode(data)
    const contracts = Object.entries(app.contracts).filter(([, record]) => BigInt(record.codeId) === codeId).map(([address]) => address)
    const pagination = { nextKey: new Uint8Array(), total: BigInt(contracts.length) }
    return QueryContractsByCodeResponse.encode({ contracts, pagination }).finish()
  },
  '/cosmwasm.wasm.v1.Query/SmartContractState': (data, { app }) => {
    const { address, queryData } = QuerySmartContractStateRequest.decode(data)
    checkAddress(address)
    return QuerySmartContractStateResponse.encode({ data: smartQuery(app, address, queryData) }).finish()
  },
  '/cosmwasm.wasm.v1.Query/RawContractState': (data, { app }) => {
    const { address, queryData } = QueryRawContractStateRequest.decode(data)
    checkAddress(address)
    return QueryRawContractStateResponse.encode({ data: rawQuery(app, address, queryData) ?? new Uint8Array() }).finish()
  },
  '/cosmwasm.wasm.v1.Query/ContractHistory': (data, { app }) => {
    const { address } = QueryContractHistoryRequest.decode(data)
    checkAddress(address)
    const record = app.contracts[address]
    if (record === undefined) throw notFound(`address ${address}: no such contract`)
    const entries = record.history.map(entry => ({
      operation: HISTORY_OPERATIONS[entry.operation],
      codeId: BigInt(entry.codeId),
      updated: { blockHeight: BigInt(entry.height), txIndex: BigInt(entry.txIndex) },
      msg: toUtf8(entry.msg)
    }))
    const pagination = { nextKey: new Uint8Array(), total: BigInt(entries.length) }
    return QueryContractHistoryResponse.encode({ entries, pagination }).finish()
  },
  '/ibc.core.channel.v1.Query/Channel': (data, ctx) => {
    const { portId, channelId } = QueryChannelRequest.decode(data)
    const record = findChannel(ctx.app, portId, channelId)
    return QueryChannelResponse.encode({ channel: channelProto(record), proof: new Uint8Array(), proofHeight: ibcHeight(ctx) }).finish()
  },
  '/ibc.core.channel.v1.Query/Channels': (_data, ctx) => {
    const channels = Object.values(ctx.app.channels)
      .map(record => ({ ...channelProto(record)!, portId: record.portId, channelId: record.channelId }))
    const pagination = { nextKey: new Uint8Array(), total: BigInt(channels.length) }
    return QueryChannelsResponse.encode({ channels, pagination, height: ibcHeight(ctx) }).finish()
  },
  '/ibc.core.channel.v1.Query/PacketCommitments': (data, ctx) => {
    const { portId, channelId } = QueryPacketCommitmentsRequest.decode(data)
    const commitments = channelCommitments(ctx.app, portId, channelId).map(packet => ({
      portId, channelId, sequence: BigInt(packet.sequence), data: commitmentBytes(packet)
    }))
    const pagination = { nextKey: new Uint8Array(), total: BigInt(commitments.length) }
    return QueryPacketCommitmentsResponse.encode({ commitments, pagination, height: ibcHeight(ctx) }).finish()
  },
  '/ibc.core.channel.v1.Query/UnreceivedPackets': (data, ctx) => {
    const { portId, channelId, packetCommitmentSequences } = QueryUnreceivedPacketsRequest.decode(data)
    const sequences = pendingAmong(ctx.app, portId, channelId, packetCommitmentSequences)
    return QueryUnreceivedPacketsResponse.encode({ sequences, height: ibcHeight(ctx) }).finish()
  },
  '/ibc.core.channel.v1.Query/UnreceivedAcks': (data, ctx) => {
    const { portId, channelId, packetAckSequences } = QueryUnreceivedAcksRequest.decode(data)
    const sequences = pendingAmong(ctx.app, portId, channelId, packetAckSequences)
    return QueryUnreceivedAcksResponse.encode({ sequences, height: ibcHeight(ctx) }).finish()
  }
}

export const QUERY_PATHS = Object.keys(HANDLERS)

export function runQuery (path: string, data: Uint8Array, ctx: QueryContext): Uint8Array {
  const handler = HANDLERS[path]
  if (handler === undefined) throw new AbciError('sdk', SDK.unknownRequest.code, `unknown query path: ${SDK.unknownRequest.description}`)
  try {
    return handler(data, ctx)
  } catch (error) {
    if (error instanceof AbciError) throw error
    // a request that does not decode: what the SDK's gRPC router answers for bad bytes
    throw invalidArgument((error as Error).message)
  }
}
