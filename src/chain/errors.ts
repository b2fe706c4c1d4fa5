/**
 * Errors of the chain side (contract client and IBC watcher). Each refusal the contract client makes before a
 * transaction is sent has its own code, so the coordinator (and an operator reading its status) can tell "we
 * refused" from "the chain refused". No message ever carries the signer's mnemonic: only the NAME of the
 * environment variable that holds it.
 */
import { IntentGateError, problem } from '../errors.js'

/** The chain's RPC endpoint cannot be reached, timed out, or answered with a server error. */
export class ChainUnreachableError extends IntentGateError {
  override readonly code = 'IG_ERR_CHAIN_UNREACHABLE'
  override readonly problem = problem('chain-unavailable')
  constructor (readonly url: string, reason: string, options?: { cause?: unknown }) {
    super(`chain RPC ${url} is unreachable: ${reason}`, options)
  }
}

/** A query the chain answered with an error (no such contract, no such code, a query the contract refused). */
export class ChainQueryError extends IntentGateError {
  override readonly code = 'IG_ERR_CHAIN_QUERY'
  override readonly problem = problem('chain-query-failed')
}

/** The signer cannot be built: the mnemonic's environment variable is unset or does not hold a valid mnemonic. */
export class SignerUnavailableError extends IntentGateError {
  override readonly code = 'IG_ERR_SIGNER_UNAVAILABLE'
  override readonly problem = problem('signer-unavailable')
  constructor (readonly envVar: string, reason: string) {
    super(`cannot build the chain signer from the environment variable ${envVar}: ${reason}`)
  }
}

/** A MigrateMsg that does not have the design's shape (refused before anything is sent). */
export class InvalidMigrateMsgError extends IntentGateError {
  override readonly code = 'IG_ERR_INVALID_MIGRATE_MSG'
  override readonly problem = problem('invalid-request')
  constructor (readonly field: string, reason: string) {
    super(`invalid MigrateMsg: ${field}: ${reason}`)
  }
}

/** The code id to migrate to does not exist on the chain (refused before anything is sent). */
export class CodeNotFoundError extends IntentGateError {
  override readonly code = 'IG_ERR_CODE_NOT_FOUND'
  override readonly problem = problem('contract-refused')
  constructor (readonly codeId: number, options?: { cause?: unknown }) {
    super(`code id ${codeId} does not exist on the chain`, options)
  }
}

/** The code stored under the code id is not the one the operator expected (refused before anything is sent). */
export class ChecksumMismatchError extends IntentGateError {
  override readonly code = 'IG_ERR_CODE_CHECKSUM_MISMATCH'
  override readonly problem = problem('contract-refused')
  constructor (readonly codeId: number, readonly expected: string, readonly actual: string) {
    super(`code id ${codeId} has checksum ${actual}, expected ${expected}; nothing was sent`)
  }
}

/** The signer is not the contract's admin, or the contract has no admin (refused before anything is sent). */
export class NotContractAdminError extends IntentGateError {
  override readonly code = 'IG_ERR_NOT_CONTRACT_ADMIN'
  override readonly problem = problem('contract-refused')
  constructor (readonly contract: string, readonly signer: string, readonly admin: string | undefined) {
    super(admin === undefined
      ? `contract ${contract} has no admin and cannot be migrated; nothing was sent`
      : `signer ${signer} is not the admin of contract ${contract} (admin is ${admin}); nothing was sent`)
  }
}

/** Where a transaction was refused: while simulating (nothing sent), by CheckTx (not included), or on delivery. */
export type TxStage = 'simulate' | 'check_tx' | 'deliver_tx'

/** The chain refused a transaction (the contract's own error, gas, sequence...); carries the chain's words. */
export class ChainTxRefusedError extends IntentGateError {
  override readonly code = 'IG_ERR_CHAIN_TX_REFUSED'
  override readonly problem = problem('contract-refused')
  constructor (readonly stage: TxStage, readonly chainMessage: string, readonly txHash?: string, options?: { cause?: unknown }) {
    super(`the chain refused the transaction (${stage.replace('_', ' ')}${txHash === undefined ? '' : `, tx ${txHash}`}): ${chainMessage}`, options)
  }
}

/** A file given to `contract upload` that is not a WebAssembly module (refused before anything is sent). */
export class NotWasmModuleError extends IntentGateError {
  override readonly code = 'IG_ERR_NOT_WASM_MODULE'
  constructor (readonly file: string, reason: string) {
    super(`${file} is not a WebAssembly module (${reason}); nothing was sent`)
  }
}

/** The chain stored code whose checksum is not the SHA-256 of the file uploaded. */
export class UploadChecksumMismatchError extends IntentGateError {
  override readonly code = 'IG_ERR_UPLOAD_CHECKSUM_MISMATCH'
  constructor (readonly codeId: number, readonly expected: string, readonly actual: string) {
    super(`the chain stored code id ${codeId} with checksum ${actual}, but the file's SHA-256 is ${expected}; do not use that code id`)
  }
}

/** A packet event whose attributes cannot be read; logged, skipped, and the watcher keeps going. */
export class MalformedPacketEventError extends IntentGateError {
  override readonly code = 'IG_ERR_IBC_EVENT_MALFORMED'
  constructor (readonly eventType: string, readonly height: number, reason: string) {
    super(`malformed ${eventType} event at height ${height}: ${reason}`)
  }
}

/** A configured channel the chain does not know; the watcher reports it and keeps watching the others. */
export class UnknownChannelError extends IntentGateError {
  override readonly code = 'IG_ERR_IBC_UNKNOWN_CHANNEL'
  constructor (readonly port: string, readonly channel: string, reason: string) {
    super(`ibc.channels lists ${channel}, which the chain does not know on port ${port}: ${reason}`)
  }
}
