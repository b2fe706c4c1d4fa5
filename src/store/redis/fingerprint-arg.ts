/**
 * Fingerprints as the scripts take them: the first 24 bytes of the SHA-256 in base64url, 32 characters. Text,
 * not raw bytes: a Buffer among a command's arguments sends ioredis down its slower path for the whole command
 * (about 5 us more of the gateway's CPU per script call, measured here), and 32 characters keep the stored value
 * as small as 32 raw bytes would. 192 bits still tell two intents apart: a client cannot find a second intent
 * with the same fingerprint.
 */
import { NO_FINGERPRINT } from '../records.js'

/** What the scripts read as "no fingerprint" (the width of a real one, so every idempotency value parses alike). */
export const NO_FINGERPRINT_RAW = '-'.repeat(32)

/** A fingerprint (SHA-256 in hex) as stored, or NO_FINGERPRINT_RAW when it is not known. */
export function fingerprintArg (hex: string | undefined): string {
  if (hex === undefined || hex === NO_FINGERPRINT || !/^[0-9a-f]{64}$/.test(hex)) return NO_FINGERPRINT_RAW
  return Buffer.from(hex.slice(0, 48), 'hex').toString('base64url')
}
