/**
 * What the route handlers share: configuration, the store, the version catalog, the policy and control views.
 * Built once by the proxy; handlers hold no state of their own.
 */
import type { Logger } from 'pino'
import type { RepeatedWarning } from '../repeated-warning.js'
import type { DrainEstimate } from './drain-estimate.js'
import type { Config } from '../config/schema.js'
import type { IntentStore } from '../store/types.js'
import type { VersionCatalog } from '../versions/types.js'
import type { ControlView } from './control.js'
import type { SubmissionHold } from './hold.js'
import type { Upstreams } from './upstreams.js'
import type { AdmissionGate } from './admission-gate.js'
import type { VersionsPolicy } from './versions-policy.js'

export interface ProxyContext {
  readonly proxy: Config['proxy']
  readonly store: IntentStore
  readonly versions: VersionCatalog
  readonly logger: Logger
  /** 'submission refused: the store cannot be reached', once per window with a count (an outage refuses every request). */
  readonly storeRefusals: RepeatedWarning
  /** What an operator's drain has left (Retry-After). */
  readonly drainEstimate: DrainEstimate
  readonly now: () => number
  readonly upstreams: Upstreams
  readonly control: ControlView
  /** Submissions waiting for a coordinated upgrade to end (`[upgrade] hold_new_intents_secs`). */
  readonly hold: SubmissionHold
  /** This instance's own door: starting, leaving (./admission-gate.ts). */
  readonly gate: AdmissionGate
  /** The `[versions]` policy in force (changes at run time). */
  policy (): VersionsPolicy
}

/** The response headers every answer about an intent of `version` carries (Intent-Version, deprecation trio). */
export function versionHeaders (
  policy: VersionsPolicy,
  version: string,
  into: Record<string, string | number>
): Record<string, string | number> {
  into['intent-version'] = version
  const d = policy.deprecationHeaders(version)
  if (d !== undefined) {
    into.deprecation = d.deprecation
    into.sunset = d.sunset
    into.link = d.link
  }
  return into
}
