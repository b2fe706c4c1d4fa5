/**
 * What one signature verification costs, in the bench's own process (no I/O): a really signed 1.0 intent
 * verified as the gateway does it. The gateway's verifier is found where it is built (the first of
 * VERIFIER_MODULES that exports a verify function). Beside it, for scale, the same check through @cosmjs/crypto
 * (a Cosmos wallet's library, pure JavaScript: what the sample service used before the gateway verified).
 * And the 2.0 wallet signature (`auth.scheme` "adr036"), made by cosmjs's amino wallet as Keplr's signArbitrary
 * makes it: the same verify plus the sign doc built around the canonical bytes.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Secp256k1HdWallet, makeSignDoc } from '@cosmjs/amino'
import { Secp256k1, Secp256k1Signature } from '@cosmjs/crypto'
import { fromBase64, toBase64, toUtf8 } from '@cosmjs/encoding'
import { canonicalJson, signingDigest } from '../../src/versions/canonical.js'
import { createVersionCatalog } from '../../src/versions/index.js'
import type { JsonObject } from '../../src/versions/spec.js'
import { makeBenchSigner, signedIntentV1 } from '../lib/signed.js'

/** Where the gateway's verifier may live (dist paths, relative to this file), and the export names tried. */
const VERIFIER_MODULES = ['../../src/versions/verify.js', '../../src/proxy/verify.js', '../../src/versions/signature.js', '../../src/proxy/signature.js', '../../src/verify/index.js']
const EXPORT_NAMES = ['verifyIntent', 'verifySignature', 'verify']

export interface VerifierTiming {
  /** Which module and export. */
  name: string
  usPerVerify: number
  iterations: number
  error?: string
}

export interface VerifyCost {
  id: 'verify-cost'
  title: string
  /** The library that signed the bodies. */
  signer: string
  gateway: VerifierTiming | null
  /** The gateway's verifier over 2.0 intents with a wallet's ADR-036 signature. */
  adr036: VerifierTiming | null
  /** The reference: digest and verify through @cosmjs/crypto. */
  reference: VerifierTiming
}

/** A 1.0 intent's signature over its canonical bytes, checked with @cosmjs/crypto (no owner or low-s check). */
function cosmjsVerify (intent: JsonObject): boolean {
  const { signature, ...unsigned } = intent
  return Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(fromBase64(String(signature))), signingDigest(unsigned), fromBase64(String(intent['public_key'])))
}

type Verify = (...args: unknown[]) => unknown

async function findVerifier (modules: string[]): Promise<{ name: string, fn: Verify } | null> {
  for (const rel of modules) {
    const url = new URL(rel, import.meta.url)
    if (!existsSync(fileURLToPath(url))) continue
    const mod = await import(url.href) as Record<string, unknown>
    for (const name of EXPORT_NAMES) {
      if (typeof mod[name] === 'function') return { name: `${rel.replace(/^(\.\.\/)+/, '')} ${name}()`, fn: mod[name] as Verify }
    }
  }
  return null
}

const accepted = (verdict: unknown): boolean => verdict === true || (typeof verdict === 'object' && verdict !== null && (verdict as { ok?: unknown }).ok === true)

function time (name: string, iterations: number, op: (i: number) => unknown): VerifierTiming {
  try {
    for (let i = 0; i < Math.min(200, iterations); i++) if (!accepted(op(i))) throw new Error(`refused a valid signed intent: ${JSON.stringify(op(i))}`)
    const start = process.cpuUsage()
    for (let i = 0; i < iterations; i++) op(i)
    const used = process.cpuUsage(start)
    return { name, iterations, usPerVerify: (used.user + used.system) / iterations }
  } catch (err) {
    return { name, iterations, usPerVerify: Number.NaN, error: (err as Error).message }
  }
}

/** A 2.0 intent signed by `wallet` the way a browser wallet's signArbitrary signs it (ADR-036 amino sign doc). */
async function walletSignedV2 (wallet: Secp256k1HdWallet, nonce: number, deadline: number): Promise<JsonObject> {
  const [account] = await wallet.getAccounts()
  if (account === undefined) throw new Error('the wallet has no account')
  const unsigned = {
    version: '2.0',
    owner: account.address,
    origin_chain_id: 'cosmoshub-4',
    inputs: [{ chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' }],
    outputs: [{ chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: account.address }],
    fill_deadline: deadline,
    nonce: String(nonce),
    auth: { scheme: 'adr036', public_key: toBase64(account.pubkey), signed_version: '2.0' }
  }
  const data = toBase64(toUtf8(canonicalJson(unsigned)))
  const doc = makeSignDoc([{ type: 'sign/MsgSignData', value: { signer: account.address, data } }], { gas: '0', amount: [] }, '', '', 0, 0)
  const { signature } = await wallet.signAmino(account.address, doc)
  return { ...unsigned, auth: { ...unsigned.auth, signature: signature.signature } }
}

export async function verifyCost (quick: boolean): Promise<VerifyCost> {
  const catalog = createVersionCatalog()
  const signer = await makeBenchSigner()
  const deadline = Math.floor(Date.now() / 1000) + 3600
  const intents = Array.from({ length: 64 }, (_, i) => JSON.parse(signedIntentV1(signer, 1 + i, deadline)) as JsonObject)
  const iterations = quick ? 500 : 2000
  const found = await findVerifier(VERIFIER_MODULES)
  const wallet = await Secp256k1HdWallet.generate(12)
  const walletIntents: JsonObject[] = []
  for (let i = 0; i < 64; i++) walletIntents.push(await walletSignedV2(wallet, 1 + i, deadline))
  return {
    id: 'verify-cost',
    title: 'signature verification, in process (no I/O)',
    signer: signer.library,
    // The calling convention of src/versions/verify.ts: (catalog, version, intent) -> { ok } | boolean.
    gateway: found === null ? null : time(found.name, iterations, (i) => found.fn(catalog, '1.0', intents[i % intents.length])),
    adr036: found === null ? null : time(`${found.name}, 2.0 adr036`, iterations, (i) => found.fn(catalog, '2.0', walletIntents[i % walletIntents.length])),
    reference: time('@cosmjs/crypto Secp256k1.verifySignature over the canonical digest', Math.ceil(iterations / 4), (i) => cosmjsVerify(intents[i % intents.length] as JsonObject))
  }
}
