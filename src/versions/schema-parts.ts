/**
 * TypeBox fragments shared by the version schemas: amounts, nonces, keys, signatures. The `description` of each
 * pattern-checked string is what a 400 says when the pattern fails ("must be a base-unit decimal string").
 */
import { Type } from '@sinclair/typebox'

/** The largest integer a JSON number carries exactly (2^53 - 1): 1.0's nonces and every deadline. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER

/** Base-unit amount: a decimal integer without sign or leading zeros, up to 78 digits (fits a uint256). */
export const Amount = (description = 'a base-unit decimal string without leading zeros (e.g. "1000000")') =>
  Type.String({ pattern: '^(0|[1-9][0-9]{0,77})$', description })

export const PositiveAmount = () =>
  Type.String({ pattern: '^[1-9][0-9]{0,77}$', description: 'a positive base-unit decimal string without leading zeros (e.g. "1000000")' })

/** A nonce as a decimal string (2.0): no leading zeros, so the string is the number's only spelling. */
export const DecimalNonce = () =>
  Type.String({ pattern: '^(0|[1-9][0-9]{0,77})$', description: 'a decimal string without sign or leading zeros (e.g. "42")' })

export const UnixSeconds = () => Type.Integer({ minimum: 0, maximum: MAX_SAFE })

export const ChainId = () => Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', description: 'a chain id (letters, digits, ".", "_", "-")' })
export const Denom = () => Type.String({ maxLength: 128, pattern: '^[A-Za-z][A-Za-z0-9/:._-]*$', description: 'a denom (e.g. "uatom" or "ibc/27394FB0...")' })
export const Address = () => Type.String({ maxLength: 128, pattern: '^[a-z][a-z0-9]*1[02-9ac-hj-np-z]{6,}$', description: 'a bech32 address (e.g. "cosmos1...")' })

/** 33-byte compressed secp256k1 key in base64 (44 characters, no padding). */
export const PublicKeyB64 = () => Type.String({ pattern: '^[A-Za-z0-9+/]{44}$', description: 'a base64 33-byte compressed secp256k1 public key' })
/** 64-byte `r || s` in base64 (88 characters ending in "=="). */
export const SignatureB64 = () => Type.String({ pattern: '^[A-Za-z0-9+/]{85}[AQgw]==$', description: 'a base64 64-byte secp256k1 signature (r || s)' })

/** A version label, "major.minor". */
export const VersionLabel = () => Type.String({ pattern: '^[0-9]+\\.[0-9]+$', description: 'a version such as "1.0"' })

/** One of a fixed set of strings, as a plain `enum` (a union of literals would report one error per member). */
export const OneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] })

/** `body[key]` when body is an object and the value a string; null otherwise. */
export function stringField (body: unknown, key: string): string | null {
  if (typeof body !== 'object' || body === null) return null
  const value = (body as Record<string, unknown>)[key]
  return typeof value === 'string' ? value : null
}
