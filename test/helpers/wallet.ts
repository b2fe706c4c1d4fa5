/**
 * A stand-in for a browser wallet (Keplr's `getKey` and `signArbitrary`) made from cosmjs's amino wallet, so
 * the ADR-036 signatures in the tests are made by a real wallet library and not by intent-gate's code. The sign
 * doc is built with cosmjs's own `makeSignDoc` in the shape Keplr's `makeADR36AminoSignDoc` gives it (one
 * `sign/MsgSignData` message, empty chain id, fee and memo, account number and sequence 0) and signed with
 * `Secp256k1HdWallet.signAmino`, which sorts, hashes and signs it as a wallet does.
 */
import { Secp256k1HdWallet, makeSignDoc, type StdSignature } from '@cosmjs/amino'
import { fromBech32, toBase64, toUtf8 } from '@cosmjs/encoding'

export interface KeplrKey {
  name: string
  algo: string
  pubKey: Uint8Array
  address: Uint8Array
  bech32Address: string
  isNanoLedger: boolean
}

export interface KeplrLike {
  getKey: (chainId: string) => Promise<KeplrKey>
  signArbitrary: (chainId: string, signer: string, data: string | Uint8Array) => Promise<StdSignature>
}

export interface TestWallet extends KeplrLike {
  mnemonic: string
  address: string
  /** Base64 of the 33-byte compressed key (the `pub_key.value` a wallet returns). */
  publicKey: string
}

/** A fresh wallet (12 random words), or the one `mnemonic` derives; addresses with `prefix` (default `cosmos`). */
export async function cosmjsWallet (o: { mnemonic?: string, prefix?: string } = {}): Promise<TestWallet> {
  const options = { prefix: o.prefix ?? 'cosmos' }
  const wallet = o.mnemonic === undefined
    ? await Secp256k1HdWallet.generate(12, options)
    : await Secp256k1HdWallet.fromMnemonic(o.mnemonic, options)
  const [account] = await wallet.getAccounts()
  if (account === undefined) throw new Error('the wallet has no account')
  const address = account.address
  return {
    mnemonic: wallet.mnemonic,
    address,
    publicKey: toBase64(account.pubkey),
    getKey: async () => ({ name: 'test', algo: 'secp256k1', pubKey: account.pubkey, address: fromBech32(address, 90).data, bech32Address: address, isNanoLedger: false }),
    signArbitrary: async (_chainId, signer, data) => await signArbitrary(wallet, signer, data)
  }
}

/** Keplr's signArbitrary over cosmjs: a string is signed as its UTF-8 bytes. */
export async function signArbitrary (wallet: Secp256k1HdWallet, signer: string, data: string | Uint8Array): Promise<StdSignature> {
  const bytes = typeof data === 'string' ? toUtf8(data) : data
  const doc = makeSignDoc([{ type: 'sign/MsgSignData', value: { signer, data: toBase64(bytes) } }], { gas: '0', amount: [] }, '', '', 0, 0)
  const { signature } = await wallet.signAmino(signer, doc)
  return signature
}
