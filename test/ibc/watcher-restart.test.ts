// The watcher keeps its last applied height and its pending packets in the store (Redis here, a real
// redis-server): a watcher that stops while packets are sent and acknowledged, and starts again, reads every
// height it missed from the stored one on; and a fresh watcher (empty store) starting while packets are pending
// learns them from the chain's commitments.
import t from 'tap'
import { createIbcWatcher, type IbcWatcher } from '../../src/ibc/watcher.js'
import { PENDING_HASH, WATCHER_DOC } from '../../src/ibc/watcher-store.js'
import type { Store } from '../../src/store/types.js'
import { startRedis } from '../helpers/redis.js'
import { startChain } from '../chain/chain-process.js'
import { accountClient, chainCommitments } from '../chain/settlements.js'
import { captureLog, embeddedStore, redisStore, waitForHeight, watcherConfig } from './helpers.js'

t.test('a restarted watcher resumes from the height in Redis and reads every height it missed', async (t) => {
  const redis = await startRedis(t)
  const chain = await startChain(t, { blockMs: 100, ackDelayMs: 700 })
  const alice = await accountClient(t, chain, 'alice')
  const commitments = await chainCommitments(t, chain)
  const seen = new Set<string>()
  const created: string[] = []
  const run = async (store: Store): Promise<IbcWatcher> => {
    const watcher = createIbcWatcher({ config: watcherConfig(chain.rpc), store, logger: captureLog().logger, expectedBlockMs: 100 })
    t.teardown(() => watcher.close())
    watcher.onProcessed((e) => { for (const s of e.sent) seen.add(s) })
    await watcher.start()
    return watcher
  }

  const first = await run((await redisStore(t, redis.url)))
  const before = await alice.createSettlements(['r-1', 'r-2'])
  created.push(...before.packets)
  await waitForHeight(first, (e) => e.height >= before.height, 'the first packets')
  await first.close()
  const storedHeight = (await (await redisStore(t, redis.url)).getDoc<{ last_height: number }>(WATCHER_DOC))?.last_height ?? -1
  t.ok(storedHeight >= before.height, `the last applied height (${storedHeight}) is in Redis`)
  t.same(Object.keys(await (await redisStore(t, redis.url)).hashGetAll(PENDING_HASH)).sort(), before.packets.map((p) => `transfer/${p}`).sort(), 'the pending packets are in Redis')

  // While no watcher runs: the first packets are acknowledged, new ones are sent (and some acknowledged too).
  const during = await alice.createSettlements(['r-3', 'r-4'])
  created.push(...during.packets)
  // Wait (on the chain, no watcher runs) until the relayer has acknowledged the first packets.
  const firstSequences = before.packets.map((p) => Number(p.split('/')[1]))
  let away = await commitments('transfer', 'channel-0')
  while (firstSequences.some((s) => away.sequences.includes(s))) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    away = await commitments('transfer', 'channel-0')
  }
  t.ok(away.height > storedHeight, `the first packets were acknowledged at heights the watcher did not see (${storedHeight + 1}..${away.height})`)

  const second = await run((await redisStore(t, redis.url)))
  // And reconciled: the start's reconciliation applies the heights up to its commitments' first, so those
  // heights can show everything read before it has finished (the next block's event comes after it).
  await waitForHeight(second, (e) => e.pending === 0 && seen.size >= created.length && second.state().last_reconcile !== null,
    'everything read and acknowledged, and reconciled', 20_000)
  t.same([...seen].sort(), [...created].sort(), 'every send was read, including those made while it was away')
  t.equal(second.state().last_reconcile?.added, 0, 'the reconciliation found nothing the backfill missed')
  t.equal(second.state().last_reconcile?.removed, 0)
  t.same(await (await redisStore(t, redis.url)).hashGetAll(PENDING_HASH), {}, 'nothing pending is left in Redis')
})

t.test('a fresh watcher learns the packets already pending from the commitments', async (t) => {
  const chain = await startChain(t, { blockMs: 100, ackDelayMs: 600_000 })
  const alice = await accountClient(t, chain, 'alice')
  const sent = await alice.createSettlements(['f-1', 'f-2', 'f-3'])
  const watcher = createIbcWatcher({
    config: watcherConfig(chain.rpc),
    store: embeddedStore(t),
    logger: captureLog().logger,
    expectedBlockMs: 100
  })
  t.teardown(() => watcher.close())
  t.equal(watcher.state().healthy, false, 'not healthy before it has reconciled')
  await watcher.start()
  await waitForHeight(watcher, () => watcher.state().last_reconcile !== null, 'the first reconciliation')
  t.same(watcher.pending().map((p) => `${p.channel}/${p.sequence}`).sort(), [...sent.packets].sort())
  t.ok(watcher.pending().every((p) => p.sent_height === null), 'sent before the watcher started: height unknown')
  t.equal(watcher.state().last_reconcile?.added, 3)
})
