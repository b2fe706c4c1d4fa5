/** Fingerprints as the scripts take them. */
import { NO_FINGERPRINT } from '../records.js'

/** What the scripts read as "no fingerprint" (the width of a real one, so every idempotency value parses alike). */
export const NO_FINGERPRINT_RAW = '-'.repeat(32)

/** A fingerprint's 32 raw bytes (kept for the whole retention: half the size of hex), or NO_FINGERPRINT_RAW. */
export function fingerprintArg (hex: string | undefined): Buffer | string {
  if (hex === undefined || hex === NO_FINGERPRINT || !/^[0-9a-f]{64}$/.test(hex)) return NO_FINGERPRINT_RAW
  return Buffer.from(hex, 'hex')
}
