/**
 * The two plug-in shapes of the versions module. A version is one schema file exporting `spec: VersionSpec`
 * (in `schemas/`); a translation between two adjacent versions is one step file exporting
 * `step: TranslationStep` (in `steps/`). The registry discovers both folders, so adding a version touches
 * nothing else. Both are pure: no I/O, no shared state.
 */
import type { TSchema } from '@sinclair/typebox'
import type { FieldError, IntentIdentity } from './types.js'

export type JsonObject = Record<string, unknown>

/** Where an intent keeps its signature, and over which version's bytes it was made. */
export interface IntentAuth {
  scheme: string
  /** Base64 33-byte compressed secp256k1 key. */
  publicKey: string
  /** Base64 64-byte `r || s`. */
  signature: string
  /** The version whose canonical form was signed (the intent's own unless it was translated). */
  signedVersion: string
}

export interface VersionSpec {
  /** "major.minor", e.g. "2.0". */
  readonly version: string
  /** JSON schemas (TypeBox) of the intent, the 2xx submission response and the 2xx status response. */
  readonly intentSchema: TSchema
  readonly submitResponseSchema: TSchema
  readonly statusResponseSchema: TSchema
  /** Rules a JSON schema cannot say (one field against another); runs only on schema-valid intents. */
  crossFieldErrors?: (intent: JsonObject) => FieldError[]
  /** JSON pointer of the field `identity().deadline` is read from (named when a deadline is refused). */
  readonly deadlineField: string
  /** Owner, nonce and deadline of a schema-valid intent. */
  identity: (intent: JsonObject) => IntentIdentity
  auth: (intent: JsonObject) => IntentAuth
  /** The intent without its signature: what the client signed (before canonical serialisation). */
  unsigned: (intent: JsonObject) => JsonObject
  /**
   * Where the signature sits, as keys from the top (`['signature']`, `['auth', 'signature']`), when `unsigned`
   * is exactly the intent without that member: the gateway then writes the canonical texts of both in one pass.
   * Absent: `unsigned` is called and its result serialised.
   */
  readonly signaturePath?: readonly string[]
  intentIdOf: (body: unknown) => string | null
  statusOf: (body: unknown) => string | null
}

/**
 * One translation between two versions, in the shape of the design's migration (docs/design.md, *Version migrator*). Each migrate function
 * takes a body valid in `from` (the caller validated it) and returns one valid in `to`; it may share nested
 * objects with its input (bodies are treated as immutable), and throws NotRepresentableError when `to` cannot
 * express the intent.
 */
export interface TranslationStep {
  readonly from: string
  readonly to: string
  /** True when `reverse()` brings every intent this step produces back exactly (to the byte). */
  readonly reversible: boolean
  migrateIntent: (intent: JsonObject) => JsonObject
  migrateSubmitResponse: (body: JsonObject) => JsonObject
  migrateStatusResponse: (body: JsonObject) => JsonObject
  /** The step from `to` back to `from`, or null when there is none. */
  reverse: () => TranslationStep | null
}

/**
 * What a module named in `[versions] modules` exports (named exports, at least one of the two): the way an
 * adopter adds an intent format without forking (docs/extending.md).
 */
export interface VersionModule {
  /** A version of its own: a label no other version (built-in or added) has. */
  spec?: VersionSpec
  /** Translations between two versions (built-in or added); each edge may be claimed once. */
  steps?: readonly TranslationStep[]
}
