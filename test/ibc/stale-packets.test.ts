// A relayer outage: with the local chain's relayer paused, packets stay pending, turn stale once older than
// stale_packet_secs, and are reported as such by the watcher's state and by GET /admin/ibc/pending; once the
// relayer resumes they are acknowledged and the report empties.
import t from 'tap'
import { createAdminServer } from '../../src/admin/server.js'
import { ibcRoutes } from '../../src/admin/routes/ibc.js'
import { createIbcWatcher } from '../../src/ibc/watcher.js'
import { channels, type IbcPendingMessage } from '../../src/observability/channels.js'
import { startChain } from '../chain/chain-process.js'
import { accountClient } from '../chain/settlements.js'
import { captureLog, embeddedStore, waitForHeight, watcherConfig } from './helpers.js'

t.test('a paused relayer makes packets stale, and they are reported until it resumes', async (t) => {
  const chain = await startChain(t, { blockMs: 100, ackDelayMs: 200 })
  const alice = await accountClient(t, chain, 'alice')
  const { logger } = captureLog()
  const watcher = createIbcWatcher({
    config: watcherConfig(chain.rpc, { stale_packet_secs: 1 }),
    store: embeddedStore(t),
    logger,
    expectedBlockMs: 100
  })
  t.teardown(() => watcher.close())
  const published: IbcPendingMessage[] = []
  const onPending = (message: unknown): void => { published.push(message as IbcPendingMessage) }
  channels.ibcPending.subscribe(onPending)
  t.teardown(() => channels.ibcPending.unsubscribe(onPending))
  await watcher.start()

  const admin = createAdminServer({ listen: '127.0.0.1:0', token: 'test-token', logger })
  admin.register(ibcRoutes({ watcher }))
  await admin.listen()
  t.teardown(() => admin.close())
  const get = async (path: string): Promise<{ status: number, body: any }> => {
    const response = await fetch(`${admin.url()}${path}`, { headers: { authorization: 'Bearer test-token' } })
    return { status: response.status, body: await response.json() }
  }

  await chain.control('/sandbox/relayer/pause', undefined, 'POST')
  const sent = await alice.createSettlements(['stale-a', 'stale-b'])
  await waitForHeight(watcher, () => watcher.state().stale === 2, 'two stale packets')

  const pending = await get('/admin/ibc/pending')
  t.equal(pending.status, 200)
  t.same(pending.body.map((p: any) => `${p.channel}/${p.sequence}`).sort(), [...sent.packets].sort(), 'the packets the tx sent are listed')
  for (const p of pending.body) {
    t.match(p, { channel: 'channel-0', port: 'transfer', sent_height: sent.height, stale: true }, `${p.channel}/${p.sequence} is stale, sent at the tx's height`)
    t.ok(p.age_secs >= 1, `age ${p.age_secs} s`)
  }
  t.same((await get('/admin/ibc/pending?stale=false')).body, [], 'no fresh packet')
  t.equal((await get('/admin/ibc/pending?stale=maybe')).status, 400, 'a bad filter is refused')
  const status = await get('/admin/ibc/status')
  t.match(status.body, { enabled: true, connected: true, healthy: false, stale: 2, pending: 2 })
  t.match(status.body.reason, /2 packet\(s\) pending longer than 1 s \(is the relayer running\?\)/)
  t.match(published.at(-1), { pending: 2, stale: 2 }, 'the metrics channel hears the pending and stale counts')

  await chain.control('/sandbox/relayer/resume', undefined, 'POST')
  await waitForHeight(watcher, (e) => e.pending === 0, 'the relayer acknowledges them')
  t.same((await get('/admin/ibc/pending')).body, [])
  t.match((await get('/admin/ibc/status')).body, { healthy: true, reason: null, stale: 0 })
})

t.test('without a chain nothing is watched', async (t) => {
  const { logger } = captureLog()
  const admin = createAdminServer({ listen: '127.0.0.1:0', token: 'test-token', logger })
  admin.register(ibcRoutes({ watcher: null }))
  await admin.listen()
  t.teardown(() => admin.close())
  const headers = { authorization: 'Bearer test-token' }
  t.same(await (await fetch(`${admin.url()}/admin/ibc/pending`, { headers })).json(), [])
  t.same(await (await fetch(`${admin.url()}/admin/ibc/status`, { headers })).json(), { enabled: false })
})
