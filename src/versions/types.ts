/**
 * The contract between the proxy/coordinator and the versions module: what a version catalog can do.
 * Implementations are pure (no I/O); the proxy calls them on its hot path.
 */

/** One failing field of a body, as named in a 400 problem body. */
export interface FieldError {
  /** JSON pointer of the failing field, e.g. `/input/amount` (empty string for the body itself). */
  field: string
  message: string
}

/** What the gateway reads from any valid intent, whatever its version. */
export interface IntentIdentity {
  /** The signer: `user` in 1.0, `owner` in 2.0. */
  owner: string
  /** The nonce as a decimal string. */
  nonce: string
  /** Unix seconds after which the intent can no longer settle (1.0 `deadline`, 2.0 `fill_deadline`). */
  deadline: number
}

export type Validation =
  | { ok: true, intent: Record<string, unknown>, identity: IntentIdentity }
  | { ok: false, errors: FieldError[] }

export interface VersionCatalog {
  /** Every version this build knows, oldest first (e.g. ["1.0", "2.0"]). */
  readonly known: readonly string[]
  /**
   * Validates a parsed JSON body against the schema of `version` (the body's own `version`, or the default).
   * On success `intent` is the body with `version` made explicit (the body itself when it already had one).
   */
  validateIntent (version: string, body: unknown): Validation
  /**
   * The version an intent of `clientVersion` is forwarded as to an upstream that accepts `upstreamVersions`
   * natively: the client's own when accepted, else the newest accepted one a translation path reaches;
   * null when none is reachable.
   */
  targetVersion (clientVersion: string, upstreamVersions: readonly string[]): string | null
  /**
   * Translates an intent step by step; throws NotRepresentableError (422) when a step cannot express it,
   * NoTranslationPathError when no path exists. The result may share nested objects with `intent`.
   */
  translateIntent (intent: Record<string, unknown>, from: string, to: string): Record<string, unknown>
  /**
   * Translates a submission response body (2xx) from the upstream's version to the client's. Same version: the
   * body itself. Throws UpstreamError (502) when the body is not valid in `from`, NoTranslationPathError when
   * no path exists.
   */
  translateSubmitResponse (body: unknown, from: string, to: string): unknown
  /** Translates a status response body (2xx) from the upstream's version to the client's; throws as above. */
  translateStatusResponse (body: unknown, from: string, to: string): unknown
  /**
   * Checks the owner's address and the signature of a valid intent (./verify.ts): secp256k1 over the canonical
   * bytes of the form the client signed, low s. About 70 µs; owners whose key verified lately skip the address
   * derivation (bounded). `unsignedCanonical`: the unsigned form's text from `canonicalForms`, when at hand.
   * `versionSent`: whether the body as received
   * carried `version` (then exactly one form is checked); unknown, both spellings are tried.
   */
  verifySignature (version: string, intent: Record<string, unknown>, versionSent?: boolean, unsignedCanonical?: string): SignatureVerdict
  /**
   * The canonical text of a valid intent, and of its unsigned form when the version says where its signature
   * sits (null otherwise): one pass for both. `unsigned` is what `verifySignature` may be given, so the text a
   * signature covers is not written twice.
   */
  canonicalForms (version: string, intent: Record<string, unknown>): CanonicalForms
  /** JSON pointer of the intent's deadline field in `version` (`/deadline` in 1.0, `/fill_deadline` in 2.0). */
  deadlineField (version: string): string
  /** Reads the intent id out of a 2xx submission response in `version` (`intent_id` in 2.0, `id` in 1.0). */
  intentIdOf (body: unknown, version: string): string | null
  /** Reads the status out of a status response in `version`. */
  statusOf (body: unknown, version: string): string | null
}

/** An intent's canonical text, and the canonical text of its unsigned form when that is known (`null` if not). */
export interface CanonicalForms {
  canonical: string
  unsigned: string | null
}

export type SignatureVerdict = { ok: true } | { ok: false, check: string, reason: string }

/** Statuses after which an intent is no longer inflight (docs/specification.md, *Words*). */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['settled', 'refunded', 'cancelled', 'expired', 'failed'])
