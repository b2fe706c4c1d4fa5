/**
 * Every Prometheus metric of intent-gate, in one Registry owned by this module (nothing registers globally).
 * Event counters and histograms are fed by the diagnostics channels the parts publish on
 * (src/observability/channels.ts); gauges that mirror shared state (inflight count, drain/upgrade state,
 * pending IBC packets) are read on scrape from callbacks the composition root passes in, so a scrape always
 * shows the store's truth rather than this instance's guess.
 *
 * The design's names (docs/design.md) keep their meaning: `upgrade_state` is 0 none, 1 draining (an operator drain or an upgrade's
 * pre-check/drain phases, drained included), 2 upgrading (an upgrade past its drain); two values are added for
 * the coordinator's states the design did not name: 3 rolling back, 4 failed (rollback could not finish).
 */
import diagnostics from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import {
  channels, INTENT_ENDED_VIAS, REFUSAL_REASONS, type HoldMessage, type IntentEndedMessage, type RefusalMessage,
  type SignatureRefusalMessage, type StreamMessage, type HoldSizeMessage, type RequestMessage, type TranslationMessage,
  type UpgradeMessage, type UpstreamMessage
} from '../observability/channels.js'
import { registerOperatorGauges, type OperatorSources } from './operator-gauges.js'

/** 0 none, 1 draining, 2 upgrading (the design's); 3 rolling back, 4 failed (the coordinator's additions). */
export type UpgradeStateValue = 0 | 1 | 2 | 3 | 4

/** What the gauges read on every scrape. Each may throw or reject: the gauge then keeps its last value. */
export interface MetricSources {
  /** The exact inflight count (the store). */
  inflightCount: () => Promise<number> | number
  /** The `upgrade_state` value, and since when (ms) the drain or upgrade holds, or null when unknown. */
  upgradeState: () => Promise<{ value: UpgradeStateValue, sinceMs: number | null }> | { value: UpgradeStateValue, sinceMs: number | null }
  /** Pending IBC packets on the watched channels, null while the watcher cannot know; absent without a watcher. */
  pendingIbcPackets?: () => Promise<number | null> | number | null
  /** Active color, upstream health, drain deadline (./operator-gauges.ts). */
  operator?: OperatorSources
  /** The fleet's instances by state as this instance last read the registry; null before the first read. */
  instanceStates?: () => Record<'serving' | 'leaving' | 'gone', number> | null
}

export interface Metrics {
  readonly registry: Registry
  readonly contentType: string
  /** The Prometheus text exposition of every metric. */
  text: () => Promise<string>
  /** Unsubscribes from the channels; idempotent. */
  close: () => void
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function createMetrics (sources: MetricSources): Metrics {
  const registry = new Registry()
  const registers = [registry]
  registerOperatorGauges(registry, sources.operator ?? {})
  /** Set while this instance's coordinator runs an upgrade: its start wins over the drain's. */
  let upgradeStartedAtMs: number | null = null

  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'upgrade_start_time',
    help: 'Unix time (seconds) when the current drain or upgrade started; kept after it ends',
    registers,
    async collect () {
      // Collects run concurrently, so this reads the state itself rather than relying on upgrade_state's collect.
      const state = await readOrUndefined(sources.upgradeState)
      if (state === undefined || state.value === 0) return
      const since = upgradeStartedAtMs ?? state.sinceMs
      if (since !== null) this.set(since / 1000)
    }
  })
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'upgrade_state',
    help: 'Current upgrade state (0=none, 1=draining, 2=upgrading, 3=rolling back, 4=failed)',
    registers,
    async collect () {
      const state = await readOrUndefined(sources.upgradeState)
      if (state === undefined) return
      this.set(state.value)
    }
  })
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'inflight_settlements',
    help: 'Number of inflight settlements (intents admitted and not yet terminal), across every instance',
    registers,
    async collect () {
      const n = await readOrUndefined(sources.inflightCount)
      if (n !== undefined) this.set(n)
    }
  })
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'intent_gate_instances',
    help: 'Gateway instances of this namespace by state (serving, leaving, gone), from the fleet\'s registry as this instance last read it',
    labelNames: ['state'],
    registers,
    collect () {
      const states = sources.instanceStates?.() ?? null
      if (states === null) return
      for (const [state, n] of Object.entries(states)) this.set({ state }, n)
    }
  })
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'intent_gate_ibc_pending_packets',
    help: 'IBC packets sent on the watched channels and not yet acknowledged or timed out',
    registers,
    async collect () {
      if (sources.pendingIbcPackets === undefined) return
      const n = await readOrUndefined(sources.pendingIbcPackets)
      // A gauge cannot be null: an unknown count is NaN (no `== 0` alert fires on a guess), and the gauge below says why.
      if (n !== undefined) this.set(n ?? Number.NaN)
    }
  })
  // eslint-disable-next-line no-new -- registered on creation; read on scrape
  new Gauge({
    name: 'intent_gate_ibc_pending_known',
    help: '1 when intent_gate_ibc_pending_packets is known; 0 while the IBC watcher cannot read the chain or has not caught up (the drain status is then mode "unknown")',
    registers,
    async collect () {
      if (sources.pendingIbcPackets === undefined) return
      const n = await readOrUndefined(sources.pendingIbcPackets)
      if (n !== undefined) this.set(n === null ? 0 : 1)
    }
  })
  const drainDuration = new Histogram({
    name: 'drain_duration_seconds',
    help: 'Time to drain system',
    buckets: [10, 30, 60, 120, 300, 600, 1800],
    registers
  })
  const upgradeDuration = new Histogram({
    name: 'upgrade_duration_seconds',
    help: 'Total upgrade duration',
    buckets: [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers
  })
  const rollbacks = new Counter({ name: 'upgrade_rollbacks_total', help: 'Total number of upgrade rollbacks', registers })

  const requests = new Counter({
    name: 'intent_gate_requests_total',
    help: 'Requests answered by the proxy, by route (submit, status, passthrough), HTTP status and client intent version',
    labelNames: ['route', 'status', 'version'] as const,
    registers
  })
  const upstreamLatency = new Histogram({
    name: 'intent_gate_upstream_latency_seconds',
    help: 'Time from sending a request to an upstream until its response headers (or failure)',
    labelNames: ['upstream', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers
  })
  const translations = new Counter({
    name: 'intent_gate_translations_total',
    help: 'Bodies translated between intent versions, by direction and kind (intent, submit_response, status_response)',
    labelNames: ['from', 'to', 'kind'] as const,
    registers
  })
  const refusals = new Counter({
    name: 'intent_gate_refusals_total',
    help: `Submissions refused before forwarding, by reason (${REFUSAL_REASONS.join(', ')})`,
    labelNames: ['reason'] as const,
    registers
  })
  const holds = new Counter({
    name: 'intent_gate_holds_total',
    help: 'Submissions that waited during an upgrade, by outcome (released: admitted after it; refused; expired: 503 after the hold; gone: the client left; full: hold_max_intents reached, refused at once)',
    labelNames: ['outcome'] as const,
    registers
  })
  const holdWait = new Histogram({
    name: 'intent_gate_hold_wait_seconds',
    help: 'How long held submissions waited during an upgrade',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers
  })
  const storeDataLost = new Counter({
    name: 'intent_gate_store_data_lost_total',
    help: 'Times this instance found that Redis had lost its data (restarted empty, failed over to an empty replica, flushed) and registered its inflight records again',
    registers
  })
  const signatureRefusals = new Counter({
    name: 'intent_gate_signature_refusals_total',
    help: 'Submissions refused (401) because the owner or the signature did not verify, by failed check (owner, public_key, signature_encoding, high_s, signed_form, signature)',
    labelNames: ['check'] as const,
    registers
  })
  const held = new Gauge({
    name: 'intent_gate_held_submissions',
    help: 'Submissions held right now during an upgrade (at most [upgrade] hold_max_intents)',
    registers
  })
  const heldBytes = new Gauge({
    name: 'intent_gate_held_bytes',
    help: 'Bytes of the compact bodies held right now during an upgrade (at most [upgrade] hold_max_bytes)',
    registers
  })
  const streams = new Gauge({
    name: 'intent_gate_event_streams',
    help: 'Open event streams, by port (proxy: /.well-known/intent-gate/events; admin: /status/events)',
    labelNames: ['port'] as const,
    registers
  })
  const streamRefusals = new Counter({
    name: 'intent_gate_stream_refusals_total',
    help: 'Event streams refused (503) past max_event_streams or max_event_streams_per_peer, by port',
    labelNames: ['port'] as const,
    registers
  })
  const ended = new Counter({
    name: 'intent_gate_intents_ended_total',
    help: `Inflight intents that ended, by terminal status and by what saw it (${INTENT_ENDED_VIAS.join(', ')})`,
    labelNames: ['status', 'via'] as const,
    registers
  })

  const handlers: Array<[diagnostics.Channel, (message: unknown) => void]> = [
    [channels.request, (m) => {
      const r = m as RequestMessage
      requests.inc({ route: r.route, status: String(r.status), version: r.version ?? 'none' })
    }],
    [channels.upstream, (m) => {
      const u = m as UpstreamMessage
      upstreamLatency.observe({ upstream: u.upstream, route: u.route }, u.durationMs / 1000)
    }],
    [channels.translation, (m) => {
      const t = m as TranslationMessage
      translations.inc({ from: t.from, to: t.to, kind: t.kind })
    }],
    [channels.refusal, (m) => { refusals.inc({ reason: (m as RefusalMessage).reason }) }],
    [channels.storeDataLost, () => { storeDataLost.inc() }],
    [channels.signatureRefused, (m) => { signatureRefusals.inc({ check: (m as SignatureRefusalMessage).check }) }],
    [channels.hold, (m) => {
      const h = m as HoldMessage
      holds.inc({ outcome: h.event })
      if (h.event !== 'full') holdWait.observe(h.waitedMs / 1000)
    }],
    [channels.holdSize, (m) => {
      const h = m as HoldSizeMessage
      held.set(h.held)
      heldBytes.set(h.bytes)
    }],
    [channels.stream, (m) => {
      const s = m as StreamMessage
      if (s.event === 'opened') streams.inc({ port: s.port })
      else if (s.event === 'closed') streams.dec({ port: s.port })
      else streamRefusals.inc({ port: s.port })
    }],
    [channels.intentEnded, (m) => {
      const e = m as IntentEndedMessage
      ended.inc({ status: e.status, via: e.via })
    }],
    [channels.upgrade, (m) => {
      const u = m as UpgradeMessage
      if (u.event === 'started') {
        upgradeStartedAtMs = u.atMs
      } else if (u.event === 'drained') {
        drainDuration.observe(u.durationSecs)
      } else {
        upgradeDuration.observe(u.durationSecs)
        if (u.outcome !== 'completed') rollbacks.inc()
        upgradeStartedAtMs = null
      }
    }]
  ]
  for (const [channel, handler] of handlers) channel.subscribe(handler)

  let closed = false
  return {
    registry,
    contentType: registry.contentType,
    text: async () => await registry.metrics(),
    close: () => {
      if (closed) return
      closed = true
      for (const [channel, handler] of handlers) channel.unsubscribe(handler)
    }
  }
}

/** A source's value, or undefined when it failed (a scrape must not fail because Redis is down). */
async function readOrUndefined<T> (source: () => Promise<T> | T): Promise<T | undefined> {
  try {
    return await source()
  } catch {
    return undefined
  }
}
