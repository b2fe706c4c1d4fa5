/**
 * Keys and addresses of the local chain: bech32 `wasm` account addresses from secp256k1 keys (the Cosmos
 * ripemd160(sha256(pubkey)) rule), the fixed mnemonics of the genesis accounts, and the signing key of the
 * built-in relayer.
 */
import { Bip39, EnglishMnemonic, Secp256k1, Slip10, Slip10Curve, sha256, ripemd160, stringToPath } from '@cosmjs/crypto'
import { toBech32, toUtf8 } from '@cosmjs/encoding'

export const ADDRESS_PREFIX = 'wasm'
const COSMOS_HD_PATH = stringToPath("m/44'/118'/0'/0/0")

export interface KeyPair {
  mnemonic: string
  address: string
  /** 33-byte compressed secp256k1 public key */
  pubkey: Uint8Array
  privkey: Uint8Array
}

export function addressFromPubkey (compressedPubkey: Uint8Array): string {
  return toBech32(ADDRESS_PREFIX, ripemd160(sha256(compressedPubkey)))
}

/** A module or contract address: the first 20 (module) or all 32 (contract) bytes of sha256 of a name. */
export function moduleAddress (name: string): string {
  return toBech32(ADDRESS_PREFIX, sha256(toUtf8(name)).slice(0, 20))
}

export function contractAddress (seed: string): string {
  return toBech32(ADDRESS_PREFIX, sha256(toUtf8(`contract/${seed}`)))
}

/** A valid 24-word BIP-39 mnemonic derived from a name, so the genesis accounts are the same on every start. */
export function fixedMnemonic (name: string): string {
  return Bip39.encode(sha256(toUtf8(`intent-gate sandbox account ${name}`))).toString()
}

export async function keyPairFromMnemonic (mnemonic: string): Promise<KeyPair> {
  const seed = await Bip39.mnemonicToSeed(new EnglishMnemonic(mnemonic))
  const { privkey } = Slip10.derivePath(Slip10Curve.Secp256k1, seed, COSMOS_HD_PATH)
  const { pubkey } = Secp256k1.makeKeypair(privkey)
  const compressed = Secp256k1.compressPubkey(pubkey)
  return { mnemonic, address: addressFromPubkey(compressed), pubkey: compressed, privkey }
}
