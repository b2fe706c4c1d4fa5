/**
 * Which public key each recent owner proved to be: an owner is the bech32 address of RIPEMD-160(SHA-256(key)),
 * so once a key was shown to be an owner's, the next intent of that owner with the very same key text needs
 * neither the bech32 decoding nor the two hashes again (about 8 µs of a verified submission). Only matches are
 * kept, keyed by the owner and compared with the exact base64 text of the key: a different text (another key,
 * or another spelling of the same one) is checked in full. Bounded: past `max` owners the oldest is forgotten.
 */
export class OwnerKeys {
  private readonly keys = new Map<string, string>()

  constructor (private readonly max = 10_000) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`owner keys: max must be a positive integer (got ${max})`)
  }

  /** True when `publicKey` (base64, as the intent spells it) was shown to be `owner`'s. */
  known (owner: string, publicKey: string): boolean {
    return this.keys.get(owner) === publicKey
  }

  /** `publicKey` was shown to be `owner`'s. */
  remember (owner: string, publicKey: string): void {
    if (this.keys.delete(owner) || this.keys.size < this.max) {
      this.keys.set(owner, publicKey)
      return
    }
    const oldest = this.keys.keys().next().value as string
    this.keys.delete(oldest)
    this.keys.set(owner, publicKey)
  }

  get size (): number {
    return this.keys.size
  }
}
