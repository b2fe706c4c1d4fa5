/**
 * The application (what ABCI calls): CheckTx runs the ante handler against the check state, so a bad
 * signature or sequence is refused before a block; delivery runs the ante handler and then the messages,
 * all or nothing (a failing message keeps the fee and sequence, drops the rest, as the SDK does);
 * simulation runs both on a copy and reports the gas.
 */
import { toBase64 } from '@cosmjs/encoding'
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci'
import type { Any } from 'cosmjs-types/google/protobuf/any'
import { runAnte, type AnteMode } from './ante.js'
import { AbciError, SDK, wrap } from './errors.js'
import { routeMsg } from './msgs.js'
import { forkState, type AbciEvent, type AppState, type TxResultJson } from './state.js'
import { decodeTx } from './tx.js'

export interface TxOutcome {
  result: TxResultJson
  /** the state after the tx (the input state is never mutated) */
  state: AppState
  msgResponses: Any[]
}

export interface BlockInfo {
  chainId: string
  height: number
  timeMs: number
  /** delivery only: the node's injected failures (wasm.ts BlockContext.faults) */
  faults?: Record<string, number>
}

const MAX_U64 = 18446744073709551615n

/** Anything but an AbciError is a bug in the model: the SDK recovers a panic into code 111222 and keeps going. */
function asAbciError (error: unknown): AbciError {
  return error instanceof AbciError ? error : wrap(SDK.panic, `panic: ${error instanceof Error ? error.message : String(error)}`)
}

function failure (thrown: unknown, gasWanted: bigint, gasUsed: bigint, events: AbciEvent[] = []): TxResultJson {
  const error = asAbciError(thrown)
  return { code: error.abciCode, codespace: error.codespace, log: error.message, data: null, info: '', gas_wanted: gasWanted.toString(), gas_used: gasUsed.toString(), events }
}

/** CheckTx: the ante handler only. On success the returned state carries the new sequence (the mempool's view). */
export function checkTx (checkState: AppState, bytes: Uint8Array, block: BlockInfo): TxOutcome {
  const state = forkState(checkState)
  let gasWanted = 0n
  try {
    const tx = decodeTx(bytes)
    gasWanted = tx.authInfo.fee?.gasLimit ?? 0n
    const ante = runAnte(state, tx, 'check', { chainId: block.chainId, height: block.height })
    return { result: { code: 0, codespace: '', log: '', data: null, info: '', gas_wanted: gasWanted.toString(), gas_used: ante.gas.used.toString(), events: [] }, state, msgResponses: [] }
  } catch (error) {
    return { result: failure(error, gasWanted, 0n), state: checkState, msgResponses: [] }
  }
}

/** Delivers (or simulates) one transaction on a copy of `app`. */
export function runTx (app: AppState, bytes: Uint8Array, block: BlockInfo, txIndex: number, mode: Exclude<AnteMode, 'check'>): TxOutcome {
  let gasWanted = 0n
  let anteState: AppState
  let ante: ReturnType<typeof runAnte>
  try {
    const tx = decodeTx(bytes)
    gasWanted = mode === 'simulate' ? MAX_U64 : tx.authInfo.fee?.gasLimit ?? 0n
    anteState = forkState(app)
    ante = runAnte(anteState, tx, mode, { chainId: block.chainId, height: block.height })
    const msgState = forkState(anteState)
    const events = [...ante.events]
    const responses: Any[] = []
    const ctx = { height: block.height, timeMs: block.timeMs, txIndex, gas: ante.gas, ...(mode === 'deliver' && block.faults !== undefined ? { faults: block.faults } : {}) }
    for (const [index, msg] of tx.msgs.entries()) {
      try {
        const routed = routeMsg(msgState, msg, ctx, index)
        events.push(...routed.events)
        responses.push(routed.response)
      } catch (error) {
        const abciError = asAbciError(error)
        // out of gas is a panic the SDK recovers at the top of runTx: no message index in its log
        const outOfGas = abciError.codespace === SDK.outOfGas.codespace && abciError.abciCode === SDK.outOfGas.code
        const wrapped = outOfGas ? abciError : new AbciError(abciError.codespace, abciError.abciCode, `failed to execute message; message index: ${index}: ${abciError.message}`)
        return { result: failure(wrapped, gasWanted, ante.gas.used, ante.events), state: anteState, msgResponses: [] }
      }
    }
    const data = TxMsgData.encode({ data: [], msgResponses: responses }).finish()
    return {
      result: { code: 0, codespace: '', log: '', data: toBase64(data), info: '', gas_wanted: gasWanted.toString(), gas_used: ante.gas.used.toString(), events },
      state: msgState,
      msgResponses: responses
    }
  } catch (error) {
    return { result: failure(error, gasWanted, 0n), state: app, msgResponses: [] }
  }
}
