/**
 * The signer of chain transactions: a secp256k1 HD wallet from the mnemonic held in the environment variable
 * `chain.signer_mnemonic_env` names. The mnemonic is read when a transaction is about to be signed, never kept
 * in a field a logger could print, and never quoted in an error (only the variable's name is).
 */
import { fromBech32 } from '@cosmjs/encoding'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { SignerUnavailableError } from './errors.js'

export interface Signer {
  readonly wallet: DirectSecp256k1HdWallet
  readonly address: string
}

/** The bech32 prefix of an address (`wasm` for `wasm1...`); the signer's prefix follows the contract's. */
export function bech32PrefixOf (address: string): string {
  // @cosmjs/encoding 0.39 throws without an explicit length limit; contract addresses are 60-odd characters.
  return fromBech32(address, 128).prefix
}

export async function signerFromEnv (
  envVar: string,
  prefix: string,
  env: Record<string, string | undefined> = process.env
): Promise<Signer> {
  const mnemonic = env[envVar]
  if (mnemonic === undefined || mnemonic.trim() === '') throw new SignerUnavailableError(envVar, 'the variable is not set')
  let wallet: DirectSecp256k1HdWallet
  try {
    wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic.trim().split(/\s+/).join(' '), { prefix })
  } catch {
    // The library's message may quote the offending words; ours must not.
    throw new SignerUnavailableError(envVar, 'the value is not a valid BIP-39 mnemonic')
  }
  const [account] = await wallet.getAccounts()
  if (account === undefined) throw new SignerUnavailableError(envVar, 'the wallet has no account')
  return { wallet, address: account.address }
}
