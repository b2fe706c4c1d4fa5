/**
 * Transaction decoding: TxRaw → body, auth info, messages (through the cosmjs registry of the SDK, wasm and
 * IBC message types) and the signer of each message, refusing what a real chain cannot parse (code 2).
 */
import { sha256 } from '@cosmjs/crypto'
import { toHex } from '@cosmjs/encoding'
import { Registry, type GeneratedType } from '@cosmjs/proto-signing'
import { AminoTypes, createDefaultAminoConverters, defaultRegistryTypes } from '@cosmjs/stargate'
import { createWasmAminoConverters, wasmTypes } from '@cosmjs/cosmwasm-stargate'
import type { Any } from 'cosmjs-types/google/protobuf/any'
import { AuthInfo, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { SDK, wrap } from './errors.js'

export const registry = new Registry([...defaultRegistryTypes, ...wasmTypes] as Array<[string, GeneratedType]>)
export const aminoTypes = new AminoTypes({ ...createDefaultAminoConverters(), ...createWasmAminoConverters() })

export interface DecodedMsg {
  typeUrl: string
  /** the decoded protobuf message (cosmjs-types shape) */
  value: Record<string, unknown>
  signer: string
}

export interface DecodedTx {
  bytes: Uint8Array
  /** upper-case hex SHA-256 of the bytes, as CometBFT names a tx */
  hash: string
  raw: TxRaw
  body: TxBody
  authInfo: AuthInfo
  msgs: DecodedMsg[]
}

/** The field holding the signer of each supported message type. */
const SIGNER_FIELDS: Record<string, string> = {
  '/cosmwasm.wasm.v1.MsgExecuteContract': 'sender',
  '/cosmwasm.wasm.v1.MsgMigrateContract': 'sender',
  '/cosmwasm.wasm.v1.MsgUpdateAdmin': 'sender',
  '/cosmwasm.wasm.v1.MsgStoreCode': 'sender',
  '/cosmos.bank.v1beta1.MsgSend': 'fromAddress',
  '/ibc.core.channel.v1.MsgAcknowledgement': 'signer',
  '/ibc.core.channel.v1.MsgTimeout': 'signer'
}

export function txHash (bytes: Uint8Array): string {
  return toHex(sha256(bytes)).toUpperCase()
}

export function decodeTx (bytes: Uint8Array): DecodedTx {
  let raw: TxRaw
  let body: TxBody
  let authInfo: AuthInfo
  try {
    raw = TxRaw.decode(bytes)
    body = TxBody.decode(raw.bodyBytes)
    authInfo = AuthInfo.decode(raw.authInfoBytes)
  } catch (error) {
    throw wrap(SDK.txDecode, (error as Error).message)
  }
  if (body.messages.length === 0) throw wrap(SDK.invalidRequest, 'must contain at least one message')
  const msgs = body.messages.map(decodeMsg)
  return { bytes, hash: txHash(bytes), raw, body, authInfo, msgs }
}

function decodeMsg (any: Any): DecodedMsg {
  const field = SIGNER_FIELDS[any.typeUrl]
  if (field === undefined || registry.lookupType(any.typeUrl) === undefined) {
    throw wrap(SDK.txDecode, `unable to resolve type URL ${any.typeUrl}`)
  }
  let value: Record<string, unknown>
  try {
    value = registry.decode(any) as Record<string, unknown>
  } catch (error) {
    throw wrap(SDK.txDecode, (error as Error).message)
  }
  const signer = value[field]
  if (typeof signer !== 'string' || signer === '') throw wrap(SDK.invalidAddress, `invalid ${field} address: empty address string is not allowed`)
  return { typeUrl: any.typeUrl, value, signer }
}
