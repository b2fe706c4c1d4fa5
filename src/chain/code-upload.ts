/**
 * `contract upload`'s work: the file must be a WebAssembly module (its magic bytes, or a gzip of one, which wasmd
 * also accepts) before anything is signed; then one MsgStoreCode, and the chain's checksum of the stored code must
 * be the SHA-256 of the module's bytes.
 */
import { gunzipSync } from 'node:zlib'
import { sha256 } from '@cosmjs/crypto'
import { toHex } from '@cosmjs/encoding'
import type { ContractClient } from './contract-client.js'
import { NotWasmModuleError, UploadChecksumMismatchError } from './errors.js'

/** `\0asm` and binary format version 1. */
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]

export interface UploadResult {
  code_id: number
  checksum: string
  tx_hash: string
  height: number
  bytes: number
}

/** The module's bytes (gunzipped when the file is gzip); throws NotWasmModuleError for anything else. */
export function wasmModuleBytes (file: string, content: Uint8Array): Uint8Array {
  let bytes = content
  if (content[0] === 0x1f && content[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(content))
    } catch {
      throw new NotWasmModuleError(file, 'a gzip file that does not decompress')
    }
  }
  if (bytes.length < WASM_HEADER.length || WASM_HEADER.some((b, i) => bytes[i] !== b)) {
    throw new NotWasmModuleError(file, `it does not start with the WebAssembly header 0061736d01000000 (starts with ${toHex(bytes.subarray(0, 8)) || 'nothing'})`)
  }
  return bytes
}

export async function uploadCode (client: Pick<ContractClient, 'storeCode'>, file: string, content: Uint8Array): Promise<UploadResult> {
  const bytes = wasmModuleBytes(file, content)
  const expected = toHex(sha256(bytes))
  // The module itself is sent (not the gzip): the chain's checksum is then directly comparable.
  const stored = await client.storeCode(bytes)
  if (stored.checksum !== expected) throw new UploadChecksumMismatchError(stored.codeId, expected, stored.checksum)
  return { code_id: stored.codeId, checksum: stored.checksum, tx_hash: stored.transactionHash, height: stored.height, bytes: bytes.length }
}
