/**
 * The ante handler: what a Cosmos SDK 0.50 chain checks before running a transaction's messages. One
 * signer, its account, the pubkey/address match, the sequence (code 32), the signature over the
 * SIGN_MODE_DIRECT SignDoc or the legacy amino JSON sign doc (code 4), the minimum fee in CheckTx (code 13),
 * the fee deduction (code 5) and the gas for size and signature. It mutates the state it is given: the
 * caller passes the check state (mempool) or the delivery state.
 */
import { makeSignDoc as makeAminoSignDoc, serializeSignDoc, type StdFee } from '@cosmjs/amino'
import { Secp256k1, Secp256k1Signature, sha256 } from '@cosmjs/crypto'
import { fromBase64, toBase64 } from '@cosmjs/encoding'
import { makeSignBytes } from '@cosmjs/proto-signing'
import { PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys'
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing'
import { formatCoins, transfer, type Coin } from './bank.js'
import { SDK, wrap } from './errors.js'
import { abciEvent } from './events.js'
import { GAS, GasMeter } from './gas.js'
import { DENOM, GAS_PRICE_DENOMINATOR, GAS_PRICE_NUMERATOR } from './genesis.js'
import { addressFromPubkey, moduleAddress } from './keys.js'
import type { AbciEvent, AppState } from './state.js'
import { aminoTypes, type DecodedTx } from './tx.js'

export const FEE_COLLECTOR = moduleAddress('fee_collector')
const SECP256K1_PUBKEY = '/cosmos.crypto.secp256k1.PubKey'

export type AnteMode = 'check' | 'deliver' | 'simulate'

export interface AnteContext {
  chainId: string
  /** the height of the block being built (delivery) or the next block (check, simulate) */
  height: number
}

export interface AnteResult {
  gas: GasMeter
  gasWanted: bigint
  signer: string
  events: AbciEvent[]
}

export function runAnte (app: AppState, tx: DecodedTx, mode: AnteMode, ctx: AnteContext): AnteResult {
  const gasWanted = tx.authInfo.fee?.gasLimit ?? 0n
  const gas = new GasMeter(mode === 'simulate' ? undefined : gasWanted)
  const signers = [...new Set(tx.msgs.map(msg => msg.signer))]
  if (signers.length !== 1) throw wrap(SDK.tooManySignatures, `this chain accepts one signer per transaction, got ${signers.length}`)
  const signer = signers[0] as string
  const signerInfo = tx.authInfo.signerInfos[0]
  if (signerInfo === undefined || (mode !== 'simulate' && tx.raw.signatures.length === 0)) throw wrap(SDK.noSignatures, 'no signatures supplied')
  if (tx.authInfo.signerInfos.length !== 1 || (mode !== 'simulate' && tx.raw.signatures.length !== 1)) {
    throw wrap(SDK.unauthorized, `wrong number of signers; expected 1, got ${tx.raw.signatures.length}`)
  }
  const timeoutHeight = tx.body.timeoutHeight
  if (timeoutHeight > 0n && BigInt(ctx.height) > timeoutHeight) {
    throw wrap(SDK.txTimeoutHeight, `block height: ${ctx.height}, timeout height: ${timeoutHeight}`)
  }
  gas.consume(GAS.baseTx, 'txBase')
  gas.consume(GAS.txSizePerByte * BigInt(tx.bytes.length + (mode === 'simulate' ? 64 : 0)), 'txSize')

  const fee: Coin[] = (tx.authInfo.fee?.amount ?? []).map(coin => ({ denom: coin.denom, amount: coin.amount }))
  if (mode === 'check') checkMinimumFee(fee, gasWanted)

  const account = app.accounts[signer]
  if (account === undefined) throw wrap(SDK.unknownAddress, `account ${signer} does not exist`)
  const events: AbciEvent[] = []
  const payable = fee.filter(coin => coin.amount !== '0')
  if (payable.length > 0) {
    events.push(...transfer(app, signer, FEE_COLLECTOR, payable))
    events.push(abciEvent('message', [['sender', signer]]))
  }
  events.push(abciEvent('tx', [['fee', formatCoins(payable)], ['fee_payer', signer]]))

  const pubkey = signerPubkey(signerInfo.publicKey, account.pubkey)
  if (pubkey === undefined) throw wrap(SDK.invalidPubKey, 'pubkey on account is not set')
  if (addressFromPubkey(pubkey) !== signer) {
    throw wrap(SDK.invalidPubKey, `pubKey does not match signer address ${signer} with signer index: 0`)
  }
  if (signerInfo.sequence !== BigInt(account.sequence)) {
    throw wrap(SDK.wrongSequence, `account sequence mismatch, expected ${account.sequence}, got ${signerInfo.sequence}`)
  }
  gas.consume(GAS.signatureVerify, 'ante verify: secp256k1')
  if (mode !== 'simulate') verifySignature(tx, pubkey, signerInfo.modeInfo?.single?.mode, account.number, account.sequence, ctx.chainId)
  account.pubkey = toBase64(pubkey)
  events.push(abciEvent('tx', [['acc_seq', `${signer}/${account.sequence}`]]))
  account.sequence += 1
  events.push(abciEvent('tx', [['signature', toBase64(tx.raw.signatures[0] ?? new Uint8Array())]]))
  return { gas, gasWanted, signer, events }
}

export function minimumFee (gasLimit: bigint): bigint {
  return (gasLimit * GAS_PRICE_NUMERATOR + GAS_PRICE_DENOMINATOR - 1n) / GAS_PRICE_DENOMINATOR
}

function checkMinimumFee (fee: Coin[], gasLimit: bigint): void {
  const required = minimumFee(gasLimit)
  const paid = BigInt(fee.find(coin => coin.denom === DENOM)?.amount ?? '0')
  if (paid < required) {
    throw wrap(SDK.insufficientFee, `insufficient fees; got: ${formatCoins(fee)} required: ${required}${DENOM}`)
  }
}

function signerPubkey (publicKey: { typeUrl: string, value: Uint8Array } | undefined, stored: string | undefined): Uint8Array | undefined {
  if (publicKey !== undefined && publicKey.value.length > 0) {
    if (publicKey.typeUrl !== SECP256K1_PUBKEY) throw wrap(SDK.invalidPubKey, `unsupported pubkey type ${publicKey.typeUrl}`)
    return PubKey.decode(publicKey.value).key
  }
  return stored === undefined ? undefined : fromBase64(stored)
}

function verifySignature (
  tx: DecodedTx,
  pubkey: Uint8Array,
  mode: SignMode | undefined,
  accountNumber: number,
  sequence: number,
  chainId: string
): void {
  const signature = tx.raw.signatures[0] as Uint8Array
  let signBytes: Uint8Array
  if (mode === SignMode.SIGN_MODE_DIRECT) {
    signBytes = makeSignBytes({
      bodyBytes: tx.raw.bodyBytes,
      authInfoBytes: tx.raw.authInfoBytes,
      chainId,
      accountNumber: BigInt(accountNumber)
    })
  } else if (mode === SignMode.SIGN_MODE_LEGACY_AMINO_JSON) {
    signBytes = aminoSignBytes(tx, accountNumber, sequence, chainId)
  } else {
    throw wrap(SDK.notSupported, `unsupported sign mode ${String(mode)}`)
  }
  let valid = false
  try {
    valid = signature.length === 64 && Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(signature), sha256(signBytes), pubkey)
  } catch {
    valid = false
  }
  if (!valid) {
    const detail = mode === SignMode.SIGN_MODE_LEGACY_AMINO_JSON
      ? `signature verification failed; please verify account number (${accountNumber}), sequence (${sequence}) and chain-id (${chainId})`
      : `signature verification failed; please verify account number (${accountNumber}) and chain-id (${chainId}): (unable to verify single signer signature)`
    throw wrap(SDK.unauthorized, detail)
  }
}

function aminoSignBytes (tx: DecodedTx, accountNumber: number, sequence: number, chainId: string): Uint8Array {
  const fee = tx.authInfo.fee
  const stdFee: StdFee = {
    amount: (fee?.amount ?? []).map(coin => ({ denom: coin.denom, amount: coin.amount })),
    gas: (fee?.gasLimit ?? 0n).toString(),
    ...(fee?.granter ? { granter: fee.granter } : {}),
    ...(fee?.payer ? { payer: fee.payer } : {})
  }
  const msgs = tx.msgs.map(msg => aminoTypes.toAmino({ typeUrl: msg.typeUrl, value: msg.value }))
  const timeout = tx.body.timeoutHeight > 0n ? tx.body.timeoutHeight : undefined
  return serializeSignDoc(makeAminoSignDoc(msgs, stdFee, chainId, tx.body.memo, accountNumber, sequence, timeout))
}
