/**
 * The diagnostics_channel names the parts publish on, and the shape of each message. Publishers never import
 * prom-client; src/metrics subscribes and owns every metric object. Publishing to a channel nobody subscribes to
 * costs one `hasSubscribers` check, so the hot path stays cheap.
 */
import diagnostics from 'node:diagnostics_channel'

/** A request answered by the proxy. `route` is `submit`, `status` or `passthrough`. */
export interface RequestMessage { route: 'submit' | 'status' | 'passthrough', status: number, version: string | null, durationMs: number }
/** One exchange with an upstream (submission or status read). */
export interface UpstreamMessage { upstream: string, route: 'submit' | 'status' | 'reconcile' | 'health', status: number | null, durationMs: number }
/** A body translated between versions. */
export interface TranslationMessage { from: string, to: string, kind: 'intent' | 'submit_response' | 'status_response' }
/** Why a submission was refused before forwarding: the `reason` of intent_gate_refusals_total. */
export const REFUSAL_REASONS = [
  'draining', 'upgrading', 'store_unavailable', 'instance_leaving', 'duplicate_in_progress', 'invalid', 'ambiguous_json',
  'version_unsupported', 'too_large', 'signature_invalid', 'idempotency_key_reused', 'owner_key_limit'
] as const
export type RefusalReason = typeof REFUSAL_REASONS[number]
/** A submission refused before forwarding. */
export interface RefusalMessage { reason: RefusalReason }
/** A submission refused because its owner or signature did not verify; `check` names the failed check. */
export interface SignatureRefusalMessage { check: string }
/** A submission held during an upgrade left the hold: admitted (`released`), refused, timed out, gone, or never
 * held because the hold was full. */
export interface HoldMessage { event: 'released' | 'refused' | 'expired' | 'gone' | 'full', waitedMs: number }
/** What the hold holds now (published whenever a submission enters or leaves it). */
export interface HoldSizeMessage { held: number, bytes: number }
/** An inflight intent ended (terminal status seen, reconciled, expired, reported by the service or the chain). */
export interface IntentEndedMessage { id: string, status: string, via: IntentEndedVia }
/** What saw an inflight intent end: the `via` of intent_gate_intents_ended_total and of the store's ended log. */
export const INTENT_ENDED_VIAS = ['response', 'reconciler', 'admin', 'chain', 'expiry'] as const
export type IntentEndedVia = typeof INTENT_ENDED_VIAS[number]

/**
 * An upgrade's lifecycle, published by the coordinator. `started` sets `upgrade_start_time`; `drained` observes
 * `drain_duration_seconds`; `ended` observes `upgrade_duration_seconds` and, for `rolled_back` and `failed`
 * (a rollback that could not finish), counts one `upgrade_rollbacks_total`.
 */
export type UpgradeMessage =
  | { event: 'started', id: string, targetVersion: string, atMs: number }
  | { event: 'drained', id: string, durationSecs: number }
  | { event: 'ended', id: string, outcome: 'completed' | 'rolled_back' | 'failed', durationSecs: number }

/** The IBC watcher's pending packets after each applied height or reconciliation (`height` null before the first). */
export interface IbcPendingMessage { pending: number, stale: number, height: number | null }

/** An event stream opened or closed, or was refused past its cap (`max_event_streams[_per_peer]`), on either port. */
export interface StreamMessage { port: 'proxy' | 'admin', event: 'opened' | 'closed' | 'refused' }

/** The store noticed that Redis lost its data; `journaled` records of this instance are registered again. */
export interface StoreDataLostMessage { journaled: number }

export const channels = {
  request: diagnostics.channel('intent-gate:proxy:request'),
  upstream: diagnostics.channel('intent-gate:proxy:upstream'),
  translation: diagnostics.channel('intent-gate:versions:translation'),
  refusal: diagnostics.channel('intent-gate:proxy:refusal'),
  signatureRefused: diagnostics.channel('intent-gate:proxy:signature-refused'),
  hold: diagnostics.channel('intent-gate:proxy:hold'),
  holdSize: diagnostics.channel('intent-gate:proxy:hold-size'),
  intentEnded: diagnostics.channel('intent-gate:inflight:ended'),
  storeDataLost: diagnostics.channel('intent-gate:store:data-lost'),
  upgrade: diagnostics.channel('intent-gate:upgrade:event'),
  ibcPending: diagnostics.channel('intent-gate:ibc:pending'),
  stream: diagnostics.channel('intent-gate:http:stream')
} as const
