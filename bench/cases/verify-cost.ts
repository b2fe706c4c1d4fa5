/**
 * What one signature verification costs, in the bench's own process (no I/O): a really signed 1.0 intent
 * verified as the gateway does it. The gateway's verifier is found where it is built (the first of
 * VERIFIER_MODULES that exports a verify function). Beside it, for scale, the same check through @cosmjs/crypto
 * (a Cosmos wallet's library, pure JavaScript: what the sample service used before the gateway verified).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Secp256k1, Secp256k1Signature } from '@cosmjs/crypto'
import { fromBase64 } from '@cosmjs/encoding'
import { signingDigest } from '../../src/versions/canonical.js'
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

export async function verifyCost (quick: boolean): Promise<VerifyCost> {
  const catalog = createVersionCatalog()
  const signer = await makeBenchSigner()
  const deadline = Math.floor(Date.now() / 1000) + 3600
  const intents = Array.from({ length: 64 }, (_, i) => JSON.parse(signedIntentV1(signer, 1 + i, deadline)) as JsonObject)
  const iterations = quick ? 500 : 2000
  const found = await findVerifier(VERIFIER_MODULES)
  return {
    id: 'verify-cost',
    title: 'signature verification, in process (no I/O)',
    signer: signer.library,
    // The calling convention of src/versions/verify.ts: (catalog, version, intent) -> { ok } | boolean.
    gateway: found === null ? null : time(found.name, iterations, (i) => found.fn(catalog, '1.0', intents[i % intents.length])),
    reference: time('@cosmjs/crypto Secp256k1.verifySignature over the canonical digest', Math.ceil(iterations / 4), (i) => cosmjsVerify(intents[i % intents.length] as JsonObject))
  }
}
