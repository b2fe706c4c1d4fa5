/**
 * Gas: a deterministic schedule (so `simulate` predicts what delivery will use) and a meter that fails the
 * way the SDK's does: code 11 "out of gas in location: ...; gasWanted: W, gasUsed: U: out of gas".
 */
import { SDK, wrap } from './errors.js'

export const GAS = {
  txSizePerByte: 10n,
  signatureVerify: 1000n,
  baseTx: 20000n,
  bankSend: 15000n,
  wasmExecute: 60000n,
  wasmMigrate: 90000n,
  wasmUpdateAdmin: 20000n,
  wasmStoreBase: 40000n,
  wasmStorePerByte: 3n,
  wasmPerMsgByte: 20n,
  contractWrite: 8000n,
  ibcSendPacket: 25000n,
  ibcPacketOutcome: 40000n
} as const

export class GasMeter {
  readonly limit: bigint | undefined
  used = 0n

  /** `limit` undefined: unlimited (simulation). */
  constructor (limit: bigint | undefined) {
    this.limit = limit
  }

  consume (amount: bigint, location: string): void {
    this.used += amount
    if (this.limit !== undefined && this.used > this.limit) {
      throw wrap(SDK.outOfGas, `out of gas in location: ${location}; gasWanted: ${this.limit}, gasUsed: ${this.used}`)
    }
  }
}
