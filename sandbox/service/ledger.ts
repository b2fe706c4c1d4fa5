/**
 * The sample service's memory: accepted intents by id, by (owner, nonce) and by (owner, Idempotency-Key), and
 * the counts tests assert exactly-once delivery with. A repeated (owner, nonce) or (owner, key) with the same
 * signed order is the same intent (idempotent, docs/specification.md section 8); with another order it is a reused nonce or
 * a reused key. Keys are per owner, so one owner's key can never name another owner's intent.
 */
import { randomBytes } from 'node:crypto'
import type { AcceptedIntent } from './settler.js'

export interface LedgerEntry extends AcceptedIntent {
  /** Submissions seen for this (owner, nonce), the first included. */
  submissions: number
  /** A status forced through `POST /sandbox/intents/<id>` (tests of refunds, failures, stuck intents). */
  forced: { status: string, atMs: number } | null
}

export type Refusal = 'invalid_json' | 'invalid_intent' | 'unsupported_version' | 'bad_signature' | 'nonce_reused' | 'too_large' | 'unavailable' | 'key_reused'

export type Admission =
  | { kind: 'new', entry: LedgerEntry }
  | { kind: 'duplicate', entry: LedgerEntry }
  | { kind: 'conflict', entry: LedgerEntry }
  | { kind: 'key_reused', entry: LedgerEntry }

export class Ledger {
  private readonly byId = new Map<string, LedgerEntry>()
  private readonly byKey = new Map<string, LedgerEntry>()
  /** `<owner> <Idempotency-Key>` (a space cannot occur in either) to the intent first sent under it. */
  private readonly byClientKey = new Map<string, LedgerEntry>()
  // A per-process prefix keeps ids unique across restarts without a random draw per intent.
  private readonly idPrefix = `int_${randomBytes(4).toString('hex')}`
  private counter = 0
  private duplicates = 0
  private readonly refused: Record<Refusal, number> = {
    invalid_json: 0,
    invalid_intent: 0,
    unsupported_version: 0,
    bad_signature: 0,
    nonce_reused: 0,
    too_large: 0,
    unavailable: 0,
    key_reused: 0
  }

  /**
   * `sameOrder` tells a retry from a different order reusing the nonce; it runs only when a key repeats, so a
   * first submission pays for no hashing. `clientKey` is the request's Idempotency-Key, null without one.
   */
  admit (fields: Omit<AcceptedIntent, 'id'>, clientKey: string | null, sameOrder: (known: AcceptedIntent) => boolean): Admission {
    const scoped = clientKey === null ? null : `${fields.owner} ${clientKey}`
    const byClient = scoped === null ? undefined : this.byClientKey.get(scoped)
    if (byClient !== undefined) {
      if (!sameOrder(byClient)) return { kind: 'key_reused', entry: byClient }
      return this.repeat(byClient)
    }
    const key = `${fields.owner}:${fields.nonce}`
    const known = this.byKey.get(key)
    if (known !== undefined) {
      if (!sameOrder(known)) return { kind: 'conflict', entry: known }
      if (scoped !== null) this.byClientKey.set(scoped, known)
      return this.repeat(known)
    }
    const entry: LedgerEntry = { ...fields, id: `${this.idPrefix}${(++this.counter).toString(36)}`, submissions: 1, forced: null }
    this.byId.set(entry.id, entry)
    this.byKey.set(key, entry)
    if (scoped !== null) this.byClientKey.set(scoped, entry)
    return { kind: 'new', entry }
  }

  private repeat (known: LedgerEntry): Admission {
    known.submissions++
    this.duplicates++
    return { kind: 'duplicate', entry: known }
  }

  get (id: string): LedgerEntry | undefined {
    return this.byId.get(id)
  }

  refuse (reason: Refusal): void {
    this.refused[reason]++
  }

  stats (withKeys: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = { accepted: this.byId.size, duplicates: this.duplicates, refused: { ...this.refused } }
    if (withKeys) {
      const byKey: Record<string, number> = {}
      for (const [key, entry] of this.byKey) byKey[key] = entry.submissions
      out['by_key'] = byKey
    }
    return out
  }
}
