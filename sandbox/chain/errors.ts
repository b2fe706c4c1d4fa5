/**
 * ABCI errors as a Cosmos SDK chain reports them: a codespace, a code and a log of the form
 * "<detail>: <registered description>", so that cosmjs surfaces exactly what a real node would say.
 */
export class AbciError extends Error {
  readonly codespace: string
  readonly abciCode: number

  constructor (codespace: string, abciCode: number, log: string) {
    super(log)
    this.name = 'AbciError'
    this.codespace = codespace
    this.abciCode = abciCode
  }
}

/** A registered error of the SDK or a module: `wrap(detail)` makes the log the way errorsmod.Wrap does. */
export interface RegisteredError {
  codespace: string
  code: number
  description: string
}

function registered (codespace: string, code: number, description: string): RegisteredError {
  return { codespace, code, description }
}

export const SDK = {
  txDecode: registered('sdk', 2, 'tx parse error'),
  invalidSequence: registered('sdk', 3, 'invalid sequence'),
  unauthorized: registered('sdk', 4, 'unauthorized'),
  insufficientFunds: registered('sdk', 5, 'insufficient funds'),
  unknownRequest: registered('sdk', 6, 'unknown request'),
  invalidAddress: registered('sdk', 7, 'invalid address'),
  invalidPubKey: registered('sdk', 8, 'invalid pubkey'),
  unknownAddress: registered('sdk', 9, 'unknown address'),
  invalidCoins: registered('sdk', 10, 'invalid coins'),
  outOfGas: registered('sdk', 11, 'out of gas'),
  insufficientFee: registered('sdk', 13, 'insufficient fee'),
  tooManySignatures: registered('sdk', 15, 'maximum number of signatures exceeded'),
  noSignatures: registered('sdk', 16, 'no signatures supplied'),
  invalidRequest: registered('sdk', 18, 'invalid request'),
  txInMempoolCache: registered('sdk', 19, 'tx already in mempool'),
  mempoolIsFull: registered('sdk', 20, 'mempool is full'),
  txTimeoutHeight: registered('sdk', 30, 'tx timeout height'),
  wrongSequence: registered('sdk', 32, 'incorrect account sequence'),
  keyNotFound: registered('sdk', 38, 'key not found'),
  notSupported: registered('sdk', 37, 'feature not supported'),
  panic: registered('sdk', 111222, 'panic')
} as const

export const WASM = {
  executeFailed: registered('wasm', 5, 'execute wasm contract failed'),
  notFound: registered('wasm', 8, 'not found'),
  queryFailed: registered('wasm', 9, 'query wasm contract failed'),
  migrationFailed: registered('wasm', 11, 'migrate wasm contract failed'),
  invalid: registered('wasm', 14, 'invalid'),
  noSuchContract: registered('wasm', 22, 'no such contract')
} as const

/** errorsmod.Wrap: "<detail>: <description>" (or just the description without a detail). */
export function wrap (error: RegisteredError, detail?: string): AbciError {
  const log = detail === undefined || detail === '' ? error.description : `${detail}: ${error.description}`
  return new AbciError(error.codespace, error.code, log)
}

/** A contract's own error (what a Rust contract's ContractError displays), before wasmd wraps it. */
export class ContractError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ContractError'
  }
}
