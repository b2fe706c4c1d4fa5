/**
 * The proxy's types, apart from its builder so that ./proxy.ts and ./index.ts do not import each other.
 * See the API in ./index.ts.
 */
import type { Logger } from 'pino'
import type { Config, Color } from '../config/schema.js'
import type { ControlState, ControlStore, DocumentStore, IntentStore, LeaseStore } from '../store/types.js'
import type { VersionCatalog } from '../versions/types.js'
import type { UpstreamState, Upstream } from './upstreams.js'
import type { VersionsPolicy, VersionsPolicyInput } from './versions-policy.js'
import type { ReconcileReport } from './reconciler.js'
import type { ClientStatus } from './client-status.js'
import type { AdmissionGate } from './admission-gate.js'

/** What the proxy and its parts use (submissions, reconciler, control view, notices, answer counts). */
export type ProxyStore = IntentStore & LeaseStore & Pick<ControlStore, 'control' | 'watchControl'> & Pick<DocumentStore, 'getDoc' | 'hashSet'>

export interface ProxyOptions {
  config: Config
  store: ProxyStore
  versions: VersionCatalog
  logger: Logger
  /** Clock in Unix ms (tests); Date.now by default. */
  now?: () => number
  /** This instance's own door (start conditions, leaving); always open when absent. */
  gate?: AdmissionGate
}

export interface ProxyAddress { host: string, port: number }

export interface Proxy {
  listen (): Promise<ProxyAddress>
  address (): ProxyAddress | null
  url (): string
  readonly upstreams: {
    states (): UpstreamState[]
    get (color: Color): Upstream | undefined
  }
  activeColor (): Color
  /** What a client asking /.well-known/intent-gate/status now is told (mode, Retry-After...). */
  clientStatus (): ClientStatus
  controlState (): ControlState | null
  setVersionsPolicy (policy: VersionsPolicyInput): void
  versionsPolicy (): VersionsPolicy
  reconcileOnce (): Promise<ReconcileReport>
  /** The instance leaves: held submissions are answered now (503 with Retry-After) and no new one is held. */
  stopHolding (): void
  /** Submissions, status reads and WebSocket tunnels still open. */
  openExchanges (): number
  /** Submissions held for a coordinated upgrade right now. */
  held (): number
  /** Aborts every upstream call now: a submission sent and unanswered stays in the store as an unknown outcome. */
  abandonExchanges (): Promise<void>
  close (): Promise<void>
  destroy (): Promise<void>
}
