/**
 * `intent-gate/versions`: what a module named in `[versions] modules` is written against (docs/extending.md).
 * The shapes of a version (`VersionSpec`) and of a translation (`TranslationStep`), the error a translation throws
 * when the target cannot express an intent, the TypeBox builder the catalog compiles (re-exported so a module
 * uses the very copy the gateway validates with), the schema fragments the shipped versions use, and the canonical
 * bytes a client signs. Pure: nothing here starts, reads or writes anything.
 */
export type { IntentAuth, JsonObject, TranslationStep, VersionModule, VersionSpec } from './spec.js'
export type { FieldError, IntentIdentity } from './types.js'
export { NotRepresentableError } from '../errors.js'
export { Type, type Static, type TSchema } from '@sinclair/typebox'
export {
  Address, Amount, ChainId, DecimalNonce, Denom, MAX_SAFE, OneOf, PositiveAmount, PublicKeyB64, SignatureB64, UnixSeconds,
  VersionLabel, stringField
} from './schema-parts.js'
export { canonicalJson, signingDigest } from './canonical.js'
