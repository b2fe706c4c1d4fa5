/**
 * Submission bodies for the load generators. Submissions are deduplicated by owner and nonce, so every request
 * needs a fresh nonce: a body is a template, the JSON text before and after the nonce's digits, and the load
 * generator puts a unique number between them (wrk in Lua, autocannon in JavaScript).
 *
 * The signature and key are well-formed (the gateway validates their shape) but sign nothing: the bench backend
 * does not verify signatures, and the gateway never does (the intent service's job).
 */
import { randomBytes } from 'node:crypto'

export interface BodyTemplate {
  /** JSON text up to the nonce's first digit. */
  prefix: string
  /** JSON text after the nonce's last digit. */
  suffix: string
}

const BECH32_CHARS = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const NONCE_MARK = 987654321987

function bech32Like (hrp: string): string {
  const bytes = randomBytes(38)
  return `${hrp}1${[...bytes].map((b) => BECH32_CHARS[b % 32]).join('')}`
}

/** A version 1.0 intent (docs/specification.md section 8) around a nonce. */
export function intentV1Template (): BodyTemplate {
  const publicKey = Buffer.concat([Buffer.from([2]), randomBytes(32)]).toString('base64')
  const intent = {
    version: '1.0',
    user: bech32Like('cosmos'),
    input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' },
    output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: bech32Like('osmo') },
    // A day ahead: far enough that no deadline passes during a run.
    deadline: Math.floor(Date.now() / 1000) + 86_400,
    nonce: NONCE_MARK,
    public_key: publicKey,
    signature: randomBytes(64).toString('base64')
  }
  const [prefix, suffix] = JSON.stringify(intent).split(String(NONCE_MARK))
  if (prefix === undefined || suffix === undefined) throw new Error('the nonce mark is not in the template')
  return { prefix, suffix }
}

export function fillTemplate (template: BodyTemplate, nonce: number): string {
  return `${template.prefix}${nonce}${template.suffix}`
}

/**
 * Hands each load-generator run its own nonce range, so that no two runs of one bench (warm-ups included) send
 * the same owner and nonce. A range holds 10^12 nonces; 1.0 nonces must stay below 2^53 (about 9 * 10^15).
 */
export class NonceRanges {
  private next = 1
  take (): number {
    const base = this.next * 1e12
    this.next++
    if (base >= 9e15) throw new Error('out of nonce ranges')
    return base
  }
}
