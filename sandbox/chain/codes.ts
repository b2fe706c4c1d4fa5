/**
 * Stored codes: what a code id runs (its "model": the cw2 name and version compiled into it, and whether its
 * migrate accepts a downgrade), MsgStoreCode of any WebAssembly module, and cw2's `ensure_from_older_version`
 * the way a real contract's migrate calls it.
 *
 * The sandbox cannot run WebAssembly. An uploaded module runs one of the modelled contracts when it carries a
 * custom section named `intent-gate-sandbox` holding JSON `{"contract": "<cw2 name>", "version": "<v>",
 * "accepts_downgrade"?: bool}`; any other module is stored (code id, checksum, bytes) but cannot be migrated to.
 */
import { gunzipSync } from 'node:zlib'
import { sha256 } from '@cosmjs/crypto'
import { toBase64, toHex } from '@cosmjs/encoding'
import type { MsgStoreCode } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import { AbciError, ContractError } from './errors.js'
import { abciEvent } from './events.js'
import { GAS } from './gas.js'
import type { AbciEvent, AppState, CodeModel, CodeRecord } from './state.js'
import type { BlockContext } from './wasm.js'
import { compareContractVersions } from '../../src/chain/cw2-version.js'

export const MODEL_SECTION = 'intent-gate-sandbox'
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]
/** wasmd's ErrCreateFailed (codespace wasm, code 2) */
const CREATE_FAILED = { codespace: 'wasm', code: 2, description: 'create wasm contract failed' }

/** A module's bytes after wasmd's gzip handling (cosmjs uploads gzipped), or a wasmd-like refusal. */
export function wasmBytes (stored: Uint8Array): Uint8Array {
  const bytes = stored.length >= 2 && stored[0] === 0x1f && stored[1] === 0x8b ? gunzip(stored) : stored
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw createFailed('Error calling the VM: Error during static Wasm validation: Wasm bytecode could not be deserialized. Deserialization error: "Bad magic number (at offset 0)"')
  }
  return bytes
}

function gunzip (bytes: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(bytes, { maxOutputLength: 3 * 1024 * 1024 }))
  } catch (error) {
    throw createFailed(`uncompress wasm archive: ${(error as Error).message}`)
  }
}

function createFailed (detail: string): AbciError {
  return new AbciError(CREATE_FAILED.codespace, CREATE_FAILED.code, `${detail}: ${CREATE_FAILED.description}`)
}

/** The JSON of the module's `intent-gate-sandbox` custom section, if it has a valid one. */
export function modelOf (bytes: Uint8Array): CodeModel | undefined {
  let offset = 8
  const leb = (): number => {
    let result = 0
    let shift = 0
    for (;;) {
      const byte = bytes[offset++]
      if (byte === undefined) throw new RangeError('truncated')
      result += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return result
      shift += 7
    }
  }
  try {
    while (offset < bytes.length) {
      const id = bytes[offset++]
      const size = leb()
      const end = offset + size
      if (id === 0) {
        const nameLength = leb()
        const name = new TextDecoder().decode(bytes.subarray(offset, offset + nameLength))
        if (name === MODEL_SECTION) {
          const json = JSON.parse(new TextDecoder().decode(bytes.subarray(offset + nameLength, end))) as Partial<CodeModel>
          if (typeof json.contract === 'string' && typeof json.version === 'string') {
            return { contract: json.contract, version: json.version, accepts_downgrade: json.accepts_downgrade === true }
          }
        }
      }
      offset = end
    }
  } catch {}
  return undefined
}

export function storeCode (
  app: AppState,
  msg: MsgStoreCode,
  block: BlockContext,
  msgIndex: number
): { events: AbciEvent[], codeId: number, checksum: Uint8Array } {
  block.gas.consume(GAS.wasmStoreBase + GAS.wasmStorePerByte * BigInt(msg.wasmByteCode.length), 'wasm store code')
  const bytes = wasmBytes(msg.wasmByteCode)
  const checksum = sha256(bytes)
  const codeId = Math.max(0, ...Object.keys(app.codes).map(Number)) + 1
  const model = modelOf(bytes)
  const record: CodeRecord = { creator: msg.sender, checksum: toHex(checksum), artifact: '', wasm: toBase64(bytes), ...(model === undefined ? {} : { model }) }
  // `codes` is shared with the state this tx was forked from: replace the map, never add to it
  app.codes = { ...app.codes, [String(codeId)]: record }
  return { events: [abciEvent('store_code', [['code_checksum', toHex(checksum)], ['code_id', String(codeId)]], msgIndex)], codeId, checksum }
}

/**
 * cw2's `ensure_from_older_version(storage, name, version)` as the new code's migrate calls it: refuses another
 * contract's storage, and (unless this code was built to accept one) a stored version newer than the code's.
 */
export function ensureFromOlderVersion (stored: { contract: string, version: string }, code: CodeModel): void {
  if (stored.contract !== code.contract) throw new ContractError(`Generic error: Cannot migrate from ${stored.contract} to ${code.contract}`)
  if (!code.accepts_downgrade && compareContractVersions(stored.version, code.version) > 0) {
    throw new ContractError(`Generic error: Cannot migrate from newer version (${stored.version}) to older (${code.version})`)
  }
}

/** The code's model, or the refusal a real chain gives when the code's migrate entry point cannot run. */
export function requireModel (code: CodeRecord, codeId: number): CodeModel {
  if (code.model !== undefined) return code.model
  throw new ContractError(`Error calling the VM: code ${codeId} runs no contract this sandbox models (no ${MODEL_SECTION} custom section)`)
}
