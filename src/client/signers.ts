/**
 * Signers that make the signatures an intent carries, and `signIntent`, which fills a draft in and signs it.
 * What is signed is the intent's canonical bytes without the signature:
 *   - `secp256k1Signer(privateKey)`: SHA-256 of those bytes, a 64-byte low-s `r || s` (`auth.scheme`
 *     "secp256k1"; also 1.0's only kind). For a key the application holds (a server, a bot, a test).
 *   - `walletSigner(wallet, chainId)`: the wallet's `signArbitrary(chainId, owner, bytes)`, an ADR-036 signature
 *     (`auth.scheme` "adr036"; 2.0 only). For Keplr, Leap, Cosmostation or any cosmjs-based wallet in a browser:
 *     the user sees the intent's JSON in the wallet's prompt, and the key never leaves the wallet.
 * The key arithmetic of `secp256k1Signer` comes from @cosmjs/crypto, loaded on first use: a page that signs only
 * through a wallet never loads it.
 */
import { canonicalJson } from './canonical.js'
import { SignerError } from './errors.js'
import type { Intent, IntentDraft, IntentDraftV1, IntentDraftV2, IntentV1, IntentV2 } from './types.js'

export interface SignerAccount {
  /** The owner's bech32 address. */
  address: string
  /** Base64 of the 33-byte compressed secp256k1 public key. */
  publicKey: string
}

export interface IntentSigner {
  readonly scheme: 'secp256k1' | 'adr036'
  account: () => Promise<SignerAccount>
  /** The base64 signature over `canonical` (the intent's canonical JSON without its signature) for `owner`. */
  sign: (canonical: string, owner: string) => Promise<string>
}

/** What `walletSigner` needs of a wallet: Keplr's `getKey` and `signArbitrary` (Leap and Cosmostation have both). */
export interface ArbitrarySigningWallet {
  getKey: (chainId: string) => Promise<{ bech32Address: string, pubKey: Uint8Array }>
  signArbitrary: (
    chainId: string,
    signer: string,
    data: string | Uint8Array
  ) => Promise<{ pub_key: { type?: string, value: string }, signature: string }>
}

export function walletSigner (wallet: ArbitrarySigningWallet, chainId: string): IntentSigner {
  let account: Promise<SignerAccount> | undefined
  const load = async (): Promise<SignerAccount> => {
    const key = await wallet.getKey(chainId)
    return { address: key.bech32Address, publicKey: toBase64(key.pubKey) }
  }
  return {
    scheme: 'adr036',
    account: async () => await (account ??= load()),
    async sign (canonical, owner) {
      // A string is signed as its UTF-8 bytes, and the wallet shows it to the user as text.
      const signed = await wallet.signArbitrary(chainId, owner, canonical)
      const expected = (await (account ??= load())).publicKey
      if (signed.pub_key.value !== expected) throw new SignerError(`the wallet signed with another key (${signed.pub_key.value}) than it reported for ${chainId} (${expected})`)
      return signed.signature
    }
  }
}

export interface Secp256k1SignerOptions {
  /** The bech32 prefix of the owner's address (default `cosmos`). */
  prefix?: string
}

/** A signer over a raw 32-byte secp256k1 private key (bytes or hex). */
export function secp256k1Signer (privateKey: Uint8Array | string, options: Secp256k1SignerOptions = {}): IntentSigner {
  const key = typeof privateKey === 'string' ? fromHex(privateKey) : Uint8Array.from(privateKey)
  if (key.length !== 32) throw new SignerError(`a secp256k1 private key is 32 bytes, got ${key.length}`)
  const prefix = options.prefix ?? 'cosmos'
  let account: Promise<SignerAccount> | undefined
  const load = async (): Promise<SignerAccount> => {
    const { crypto, encoding } = await cosmjs()
    let pubkey: Uint8Array
    try {
      pubkey = crypto.Secp256k1.compressPubkey((await crypto.Secp256k1.makeKeypair(key)).pubkey)
    } catch (err) {
      throw new SignerError(`not a valid secp256k1 private key: ${(err as Error).message}`)
    }
    return { address: encoding.toBech32(prefix, crypto.ripemd160(crypto.sha256(pubkey)), 90), publicKey: toBase64(pubkey) }
  }
  return {
    scheme: 'secp256k1',
    account: async () => await (account ??= load()),
    async sign (canonical) {
      const { crypto } = await cosmjs()
      const signature = await crypto.Secp256k1.createSignature(crypto.sha256(new TextEncoder().encode(canonical)), key)
      return toBase64(crypto.Secp256k1.trimRecoveryByte(signature.toFixedLength()))
    }
  }
}

/**
 * Fills in a draft and signs it: the owner (`user` in 1.0) when left out, the public key, `auth` with the
 * signer's scheme and `signed_version` "2.0". A draft with `version: "1.0"` makes a 1.0 intent (a raw secp256k1
 * signature only: a wallet's ADR-036 signature has no place in 1.0); any other makes a 2.0 intent.
 */
export async function signIntent (signer: IntentSigner, draft: IntentDraftV1): Promise<IntentV1>
export async function signIntent (signer: IntentSigner, draft: IntentDraftV2): Promise<IntentV2>
export async function signIntent (signer: IntentSigner, draft: IntentDraft): Promise<Intent>
export async function signIntent (signer: IntentSigner, draft: IntentDraft): Promise<Intent> {
  const { address, publicKey } = await signer.account()
  if (draft.version === '1.0') {
    if (signer.scheme !== 'secp256k1') throw new SignerError('a 1.0 intent carries only a raw secp256k1 signature: sign it with secp256k1Signer, or send it as 2.0')
    const unsigned = { user: address, ...draft, public_key: publicKey }
    const signature = await signer.sign(canonicalJson(unsigned), unsigned.user)
    return { ...unsigned, signature }
  }
  const unsigned = { owner: address, ...draft, version: '2.0' as const, auth: { scheme: signer.scheme, public_key: publicKey, signed_version: '2.0' } }
  const signature = await signer.sign(canonicalJson(unsigned), unsigned.owner)
  return { ...unsigned, auth: { ...unsigned.auth, signature } }
}

interface Cosmjs {
  crypto: typeof import('@cosmjs/crypto')
  encoding: typeof import('@cosmjs/encoding')
}

let loaded: Promise<Cosmjs> | undefined
async function cosmjs (): Promise<Cosmjs> {
  loaded ??= Promise.all([import('@cosmjs/crypto'), import('@cosmjs/encoding')]).then(([crypto, encoding]) => ({ crypto, encoding }))
  return await loaded
}

/** Base64 without Buffer, so the module runs in a browser as it is. */
export function toBase64 (bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number)
  return btoa(binary)
}

function fromHex (hex: string): Uint8Array {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new SignerError('a hex private key has an even number of hex digits')
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return out
}
