/**
 * `intent-gate/client`: what an application or a wallet needs to submit intents through an intent-gate gateway
 * (docs/client.md). ESM, typed, and free of the gateway's server code: it runs in Node and, as built, in a
 * browser.
 */
export { IntentClient } from './intent-client.js'
export type { IntentClientOptions, RetryInfo, RetryReason, SubmitOptions, SubmitResult } from './intent-client.js'
export type { EventsOptions } from './events.js'
export { secp256k1Signer, signIntent, walletSigner } from './signers.js'
export type { ArbitrarySigningWallet, IntentSigner, Secp256k1SignerOptions, SignerAccount } from './signers.js'
export { canonicalJson } from './canonical.js'
export {
  IntentClientError, ProblemError, InvalidIntentError, VersionUnsupportedError, SignatureInvalidError, NotRepresentableError,
  IdempotencyKeyReusedError, UnavailableError, InProgressError, OutcomeUnknownError, UpstreamFailedError, NetworkError, SignerError
} from './errors.js'
export type { Problem } from './errors.js'
export * from './types.js'
