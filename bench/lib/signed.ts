/**
 * Really signed 1.0 intents, for the rows where the gateway verifies signatures: a template cannot serve there
 * (the signature covers the nonce), so every request is a body signed beforehand, written one per line to a file
 * the load generator walks through. One key signs them all (the gateway verifies each; nothing is cached by key).
 *
 * Signing goes through the `secp256k1` package when it is installed (libsecp256k1, or its elliptic fallback: both
 * give low-s signatures), else through @cosmjs/crypto; either way the bodies are the form docs/specification.md section 8
 * says a client signs.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { Secp256k1, ripemd160, sha256 } from '@cosmjs/crypto'
import { toBase64, toBech32 } from '@cosmjs/encoding'
import { signingDigest } from '../../src/versions/canonical.js'
import type { JsonObject } from '../../src/versions/spec.js'

type SignDigest = (digest: Uint8Array) => Uint8Array

interface NativeSecp256k1 {
  privateKeyVerify: (key: Uint8Array) => boolean
  publicKeyCreate: (key: Uint8Array, compressed: boolean) => Uint8Array
  ecdsaSign: (digest: Uint8Array, key: Uint8Array) => { signature: Uint8Array }
}

async function loadNative (): Promise<NativeSecp256k1 | null> {
  try {
    // Not a dependency the bench may assume (the gateway's choice of library): used when present.
    const specifier: string = 'secp256k1'
    const mod = await import(specifier) as { default?: NativeSecp256k1 } & NativeSecp256k1
    return mod.default ?? mod
  } catch {
    return null
  }
}

export interface BenchSigner {
  address: string
  recipient: string
  publicKey: string
  sign: SignDigest
  /** Which library signs ('secp256k1' or '@cosmjs/crypto'). */
  library: string
}

export async function makeBenchSigner (): Promise<BenchSigner> {
  const native = await loadNative()
  let key = randomBytes(32)
  if (native !== null) {
    while (!native.privateKeyVerify(key)) key = randomBytes(32)
    const publicKey = native.publicKeyCreate(key, true)
    return signer(publicKey, (d) => native.ecdsaSign(d, key).signature, 'secp256k1')
  }
  const publicKey = Secp256k1.compressPubkey(Secp256k1.makeKeypair(key).pubkey)
  return signer(publicKey, (d) => Secp256k1.trimRecoveryByte(Secp256k1.createSignature(d, key).toFixedLength()), '@cosmjs/crypto')
}

function signer (publicKey: Uint8Array, sign: SignDigest, library: string): BenchSigner {
  const hash = ripemd160(sha256(publicKey))
  return { address: toBech32('cosmos', hash), recipient: toBech32('osmo', hash), publicKey: toBase64(publicKey), sign, library }
}

/** A signed 1.0 intent with `nonce`, as JSON text (the field order of the bench's template). */
export function signedIntentV1 (s: BenchSigner, nonce: number, deadline: number): string {
  const unsigned: JsonObject = {
    version: '1.0',
    user: s.address,
    input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' },
    output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: s.recipient },
    deadline,
    nonce,
    public_key: s.publicKey
  }
  return JSON.stringify({ ...unsigned, signature: toBase64(s.sign(signingDigest(unsigned))) })
}

/** Writes `count` signed intents, nonces from `nonceBase + 1`, one JSON body per line; returns the CPU ms spent. */
export async function writeSignedBodies (s: BenchSigner, file: string, count: number, nonceBase: number): Promise<number> {
  const started = process.cpuUsage()
  // An hour ahead: inside the gateway's max_intent_lifetime_secs, and no deadline passes during a run.
  const deadline = Math.floor(Date.now() / 1000) + 3600
  const out = createWriteStream(file)
  for (let i = 1; i <= count; i++) {
    if (!out.write(signedIntentV1(s, nonceBase + i, deadline) + '\n')) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  const used = process.cpuUsage(started)
  return (used.user + used.system) / 1000
}

/**
 * A SignedSource (cases/context.ts): every load run gets its own file of fresh bodies, sized for its duration at
 * 1.5 times the fastest rate seen so far (a first guess before any run), plus one per connection.
 */
export class SignedBodies {
  private rate = 3000
  private files = 0
  /** CPU ms the bench spent signing, and how many bodies. */
  signMs = 0
  signed = 0

  constructor (
    private readonly signer: BenchSigner,
    private readonly dir: string,
    private readonly nonces: { take: () => number },
    private readonly connections: number
  ) {}

  async prepare (durationSec: number): Promise<{ file: string, count: number }> {
    const count = Math.ceil(this.rate * durationSec * 1.5) + this.connections
    const file = path.join(this.dir, `signed-${++this.files}.jsonl`)
    this.signMs += await writeSignedBodies(this.signer, file, count, this.nonces.take())
    this.signed += count
    return { file, count }
  }

  observe (result: { rps: number }): void {
    if (Number.isFinite(result.rps)) this.rate = Math.max(this.rate, result.rps)
  }
}
