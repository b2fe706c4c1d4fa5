// Unknown is not zero (issue 9, docs/specification.md section 5): with the local chain node killed the IBC watcher cannot see
// the chain, so `drain start` answers pending_ibc_packets null and mode "unknown", never `drained` (before, it
// answered `{"mode":"drained","pending_ibc_packets":0}`). /metrics says the same: the pending gauge is NaN and
// intent_gate_ibc_pending_known is 0. Once the chain is back and the watcher caught up, the drain is `drained`.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, metricValue, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { startChain } from '../chain/chain-process.js'

interface DrainBody { mode: string, inflight_settlements: number | null, pending_ibc_packets: number | null }

t.test('the chain killed: drain start is mode unknown with pending_ibc_packets null, drained once it is back', async (t) => {
  const [redis, chain, blue] = await Promise.all([startRedis(t), startChain(t, { blockMs: 200 }), startService(t, { versions: '1.0' })])
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url }).replace('[chain]\nenabled = false\n', `[chain]
enabled = true
rpc_url = "${chain.info.rpc}"
chain_id = "${chain.info.chain_id}"
settlement_contract = "${chain.info.settlement_contract}"
gas_price = "${chain.info.gas_price}"

[ibc]
reconcile_interval_secs = 1
`)
  const gw = await startGateway(t, { config })
  const ibcState = async (): Promise<{ connected: boolean, healthy: boolean }> => (await gw.admin<{ connected: boolean, healthy: boolean }>('GET', '/admin/ibc/status')).body
  await waitFor('the watcher caught up with the chain', async () => (await ibcState()).connected && (await gw.admin<DrainBody>('GET', '/admin/drain/status')).body.pending_ibc_packets === 0 ? true : undefined, 30_000, 100)

  await chain.kill()
  await waitFor('the watcher noticed the chain is gone', async () => (await ibcState()).connected ? undefined : true, 60_000, 100)
  const started = await gw.admin<DrainBody>('POST', '/admin/drain/start', { reason: 'chain down' })
  t.equal(started.status, 200)
  t.match(started.body, { mode: 'unknown', inflight_settlements: 0, pending_ibc_packets: null }, 'unknown, not drained')
  t.match((await gw.admin<DrainBody>('GET', '/admin/drain/status')).body, { mode: 'unknown', pending_ibc_packets: null })
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.equal(metricValue(metrics, 'intent_gate_ibc_pending_known'), 0, 'intent_gate_ibc_pending_known 0')
  t.ok(Number.isNaN(metricValue(metrics, 'intent_gate_ibc_pending_packets')), 'intent_gate_ibc_pending_packets NaN')
  t.equal(metricValue(metrics, 'upgrade_state'), 1, 'upgrade_state still says draining')

  await chain.restart()
  const drained = await waitFor('drained once the chain is back and the watcher caught up', async () => {
    const { body } = await gw.admin<DrainBody>('GET', '/admin/drain/status')
    return body.mode === 'drained' ? body : undefined
  }, 60_000, 100)
  t.match(drained, { inflight_settlements: 0, pending_ibc_packets: 0 })
  const after = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.equal(metricValue(after, 'intent_gate_ibc_pending_known'), 1)
  t.equal(metricValue(after, 'intent_gate_ibc_pending_packets'), 0)
})
