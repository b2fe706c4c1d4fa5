/**
 * The built-in relayer: once a packet has waited `ackDelayMs` (or its timeout has passed), it signs and
 * submits a real transaction from the genesis "relayer" account carrying MsgAcknowledgement (or MsgTimeout)
 * for every due packet, so acknowledgements arrive as a relayer's would: in a later block, in a tx's
 * events. Paused, it relays nothing and packets stay pending (a relayer outage).
 */
import { encodeSecp256k1Pubkey } from '@cosmjs/amino'
import { Secp256k1, sha256 } from '@cosmjs/crypto'
import { fromBase64 } from '@cosmjs/encoding'
import { encodePubkey, makeAuthInfoBytes, makeSignBytes, makeSignDoc } from '@cosmjs/proto-signing'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { Packet } from 'cosmjs-types/ibc/core/channel/v1/channel'
import { minimumFee } from './ante.js'
import { DENOM } from './genesis.js'
import { ICS20_SUCCESS_ACK, packetKey } from './ibc.js'
import type { KeyPair } from './keys.js'
import type { AppState, PacketRecord, RelayerSettings } from './state.js'
import { registry } from './tx.js'

const GAS_PER_PACKET = 80_000n
const GAS_BASE = 100_000n
const MAX_PACKETS_PER_TX = 50

export class Relayer {
  readonly #key: KeyPair
  readonly #chainId: string
  /** packets whose relay tx is in the mempool; cleared after every block (the mempool empties into it) */
  readonly #submitted = new Set<string>()

  constructor (key: KeyPair, chainId: string) {
    this.#key = key
    this.#chainId = chainId
  }

  /** The signed relay tx for the packets due at `nowMs`, or undefined when nothing is due or the relayer is paused. */
  buildDueTx (checkState: AppState, settings: RelayerSettings, nowMs: number): Uint8Array | undefined {
    if (settings.paused) return undefined
    const due = Object.values(checkState.commitments)
      .filter(packet => !this.#submitted.has(this.#key_(packet)))
      .filter(packet => packet.sentTimeMs + settings.ackDelayMs <= nowMs || this.#timedOut(packet, nowMs))
      .sort((a, b) => a.sentHeight - b.sentHeight || a.sequence - b.sequence)
      .slice(0, MAX_PACKETS_PER_TX)
    if (due.length === 0) return undefined
    const account = checkState.accounts[this.#key.address]
    if (account === undefined) return undefined
    const messages = due.map(packet => this.#message(packet, settings.outcome === 'timeout' || this.#timedOut(packet, nowMs)))
    const bodyBytes = registry.encode({ typeUrl: '/cosmos.tx.v1beta1.TxBody', value: { messages, memo: 'intent-gate sandbox relayer' } })
    const gasLimit = GAS_BASE + GAS_PER_PACKET * BigInt(due.length)
    const pubkey = encodePubkey(encodeSecp256k1Pubkey(this.#key.pubkey))
    const fee = [{ denom: DENOM, amount: minimumFee(gasLimit).toString() }]
    const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: account.sequence }], fee, Number(gasLimit), undefined, undefined)
    const signBytes = makeSignBytes(makeSignDoc(bodyBytes, authInfoBytes, this.#chainId, account.number))
    const signature = Secp256k1.createSignature(sha256(signBytes), this.#key.privkey)
    const fixed = Uint8Array.from([...signature.r(32), ...signature.s(32)])
    for (const packet of due) this.#submitted.add(this.#key_(packet))
    return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fixed] }).finish()
  }

  /** Called after each block: every relay tx submitted so far has been delivered (or failed). */
  blockDone (): void {
    this.#submitted.clear()
  }

  #key_ (packet: PacketRecord): string {
    return packetKey(packet.sourcePort, packet.sourceChannel, packet.sequence)
  }

  #timedOut (packet: PacketRecord, nowMs: number): boolean {
    return BigInt(nowMs) * 1_000_000n >= BigInt(packet.timeoutTimestamp)
  }

  #message (record: PacketRecord, timeout: boolean): { typeUrl: string, value: Record<string, unknown> } {
    const packet = Packet.fromPartial({
      sequence: BigInt(record.sequence),
      sourcePort: record.sourcePort,
      sourceChannel: record.sourceChannel,
      destinationPort: record.destinationPort,
      destinationChannel: record.destinationChannel,
      data: fromBase64(record.data),
      timeoutHeight: { revisionNumber: 0n, revisionHeight: 0n },
      timeoutTimestamp: BigInt(record.timeoutTimestamp)
    })
    const proofHeight = { revisionNumber: 1n, revisionHeight: BigInt(record.sentHeight + 1) }
    const proof = sha256(fromBase64(record.data))
    if (timeout) {
      return { typeUrl: '/ibc.core.channel.v1.MsgTimeout', value: { packet, proofUnreceived: proof, proofHeight, nextSequenceRecv: BigInt(record.sequence), signer: this.#key.address } }
    }
    return { typeUrl: '/ibc.core.channel.v1.MsgAcknowledgement', value: { packet, acknowledgement: ICS20_SUCCESS_ACK, proofAcked: proof, proofHeight, signer: this.#key.address } }
  }
}
