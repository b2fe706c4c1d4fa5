// The metrics module: channel events become counters and histograms; state gauges are read on scrape, and a
// failing source (Redis down) does not fail the scrape.
import t from 'tap'
import { createMetrics, type UpgradeStateValue } from '../../src/metrics/index.js'
import { channels } from '../../src/observability/channels.js'

function sample (text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

t.test('events published on the channels are counted', async (t) => {
  const metrics = createMetrics({ inflightCount: () => 0, upgradeState: () => ({ value: 0, sinceMs: null }) })
  t.teardown(metrics.close)
  channels.request.publish({ route: 'submit', status: 202, version: '1.0', durationMs: 3 })
  channels.request.publish({ route: 'submit', status: 202, version: '1.0', durationMs: 4 })
  channels.request.publish({ route: 'passthrough', status: 200, version: null, durationMs: 1 })
  channels.refusal.publish({ reason: 'draining' })
  channels.upstream.publish({ upstream: 'blue', route: 'submit', status: 202, durationMs: 20 })
  channels.translation.publish({ from: '1.0', to: '2.0', kind: 'intent' })
  channels.intentEnded.publish({ id: 'x', status: 'settled', via: 'reconciler' })
  const text = await metrics.text()
  t.equal(sample(text, 'intent_gate_requests_total', 'route="submit",status="202",version="1.0"'), 2)
  t.equal(sample(text, 'intent_gate_requests_total', 'route="passthrough",status="200",version="none"'), 1)
  t.equal(sample(text, 'intent_gate_refusals_total', 'reason="draining"'), 1)
  t.equal(sample(text, 'intent_gate_upstream_latency_seconds_count', 'upstream="blue",route="submit"'), 1)
  t.equal(sample(text, 'intent_gate_upstream_latency_seconds_bucket', 'le="0.025",upstream="blue",route="submit"'), 1)
  t.equal(sample(text, 'intent_gate_upstream_latency_seconds_bucket', 'le="0.01",upstream="blue",route="submit"'), 0)
  t.equal(sample(text, 'intent_gate_translations_total', 'from="1.0",to="2.0",kind="intent"'), 1)
  t.equal(sample(text, 'intent_gate_intents_ended_total', 'status="settled",via="reconciler"'), 1)
})

t.test('two instances keep separate registries and a closed one stops counting', async (t) => {
  const a = createMetrics({ inflightCount: () => 0, upgradeState: () => ({ value: 0, sinceMs: null }) })
  const b = createMetrics({ inflightCount: () => 0, upgradeState: () => ({ value: 0, sinceMs: null }) })
  t.teardown(b.close)
  a.close()
  channels.refusal.publish({ reason: 'upgrading' })
  t.equal(sample(await a.text(), 'intent_gate_refusals_total', 'reason="upgrading"'), undefined)
  t.equal(sample(await b.text(), 'intent_gate_refusals_total', 'reason="upgrading"'), 1)
})

t.test('state gauges are read on scrape and keep their last value when a source fails', async (t) => {
  let inflight: number | Error = 7
  let state: { value: UpgradeStateValue, sinceMs: number | null } = { value: 1, sinceMs: 1_700_000_000_000 }
  const metrics = createMetrics({
    inflightCount: async () => { if (inflight instanceof Error) throw inflight; return inflight },
    upgradeState: () => state,
    pendingIbcPackets: () => 3
  })
  t.teardown(metrics.close)
  let text = await metrics.text()
  t.equal(sample(text, 'inflight_settlements'), 7)
  t.equal(sample(text, 'upgrade_state'), 1)
  t.equal(sample(text, 'upgrade_start_time'), 1_700_000_000)
  t.equal(sample(text, 'intent_gate_ibc_pending_packets'), 3)
  inflight = new Error('redis down')
  state = { value: 0, sinceMs: null }
  text = await metrics.text()
  t.equal(sample(text, 'inflight_settlements'), 7, 'last good value kept')
  t.equal(sample(text, 'upgrade_state'), 0)
  t.equal(sample(text, 'upgrade_start_time'), 1_700_000_000, 'start time kept after the drain ends')
})

t.test('upgrade events feed the design metrics', async (t) => {
  let state: { value: UpgradeStateValue, sinceMs: number | null } = { value: 1, sinceMs: 5_000 }
  const metrics = createMetrics({ inflightCount: () => 0, upgradeState: () => state })
  t.teardown(metrics.close)
  channels.upgrade.publish({ event: 'started', id: 'u1', targetVersion: '2.0', atMs: 2_000_000 })
  state = { value: 2, sinceMs: 5_000 }
  channels.upgrade.publish({ event: 'drained', id: 'u1', durationSecs: 42 })
  let text = await metrics.text()
  t.equal(sample(text, 'upgrade_start_time'), 2_000, 'the upgrade start wins while it runs')
  t.equal(sample(text, 'drain_duration_seconds_count'), 1)
  t.equal(sample(text, 'drain_duration_seconds_bucket', 'le="60"'), 1)
  t.equal(sample(text, 'drain_duration_seconds_bucket', 'le="30"'), 0)
  channels.upgrade.publish({ event: 'ended', id: 'u1', outcome: 'rolled_back', durationSecs: 100 })
  channels.upgrade.publish({ event: 'ended', id: 'u2', outcome: 'completed', durationSecs: 50 })
  text = await metrics.text()
  t.equal(sample(text, 'upgrade_rollbacks_total'), 1)
  t.equal(sample(text, 'upgrade_duration_seconds_count'), 2)
})

t.test('every metric of docs/specification.md section 7 is exposed from the first scrape', async (t) => {
  const metrics = createMetrics({ inflightCount: () => 0, upgradeState: () => ({ value: 0, sinceMs: null }) })
  t.teardown(metrics.close)
  const text = await metrics.text()
  const expected: Array<[string, string]> = [
    ['upgrade_state', 'gauge'], ['inflight_settlements', 'gauge'], ['drain_duration_seconds', 'histogram'],
    ['upgrade_duration_seconds', 'histogram'], ['upgrade_rollbacks_total', 'counter'], ['upgrade_start_time', 'gauge'],
    ['intent_gate_requests_total', 'counter'], ['intent_gate_upstream_latency_seconds', 'histogram'],
    ['intent_gate_translations_total', 'counter'], ['intent_gate_refusals_total', 'counter'],
    ['intent_gate_ibc_pending_packets', 'gauge'], ['intent_gate_intents_ended_total', 'counter'],
    ['intent_gate_holds_total', 'counter'], ['intent_gate_hold_wait_seconds', 'histogram']
  ]
  for (const [name, type] of expected) t.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name)
  t.equal(sample(text, 'upgrade_state'), 0)
  t.equal(sample(text, 'inflight_settlements'), 0)
  t.equal(metrics.contentType.split(';')[0], 'text/plain')
})
