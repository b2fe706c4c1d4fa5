// While packets flow (settlements created, the relayer acknowledging them a few blocks later), the watcher's pending
// count at every height equals the chain's packet commitments read at that height; it saw every packet sent, and
// once the relayer is done nothing is pending on either side. Runs the built local chain (npm run build first).
import t from 'tap'
import { createIbcWatcher } from '../../src/ibc/watcher.js'
import { startChain } from '../chain/chain-process.js'
import { accountClient, chainCommitments } from '../chain/settlements.js'
import { captureLog, embeddedStore, waitForHeight, watcherConfig } from './helpers.js'

t.test('the pending count equals the chain\'s packet commitments at every check while packets flow', async (t) => {
  const chain = await startChain(t, { blockMs: 100, ackDelayMs: 3000 })
  const commitments = await chainCommitments(t, chain)
  const alice = await accountClient(t, chain, 'alice')
  const { logger, lines } = captureLog()
  const watcher = createIbcWatcher({
    config: watcherConfig(chain.rpc),
    store: embeddedStore(t),
    logger,
    expectedBlockMs: 100,
    requestTimeoutMs: 3000
  })
  t.teardown(() => watcher.close())

  const countAt = new Map<number, number>()
  const seenSent = new Set<string>()
  watcher.onProcessed((e) => {
    countAt.set(e.height, e.pending)
    for (const s of e.sent) seenSent.add(s)
  })
  await watcher.start()

  const created: string[] = []
  let checks = 0
  let sawPending = 0
  for (let round = 0; round < 14; round++) {
    const ids = Array.from({ length: 1 + (round % 3) }, (_, i) => `flow-${round}-${i}`)
    await alice.createSettlements(ids)
    created.push(...ids)
    const truth = await commitments('transfer', 'channel-0')
    if (!countAt.has(truth.height)) await waitForHeight(watcher, (e) => e.height >= truth.height, `height ${truth.height}`)
    const applied = countAt.get(truth.height)
    t.equal(applied, truth.sequences.length, `height ${truth.height}: watcher ${applied}, chain ${truth.sequences.length}`)
    sawPending = Math.max(sawPending, truth.sequences.length)
    checks++
  }
  t.ok(sawPending >= 2, `packets were pending at once during the flow (up to ${sawPending})`)

  // The relayer acknowledges everything; both sides end empty.
  await waitForHeight(watcher, (e) => e.pending === 0, 'every packet acknowledged')
  const end = await commitments('transfer', 'channel-0')
  t.same(end.sequences, [], 'no commitment left on chain')
  t.same(watcher.pending(), [], 'nothing pending in the watcher')
  t.equal(seenSent.size, created.length, `the watcher read every send_packet (${created.length} settlements in ${checks} txs)`)
  t.equal(watcher.state().last_reconcile?.added, 0, 'the start-up reconciliation found nothing the events missed')
  t.notOk(lines().some((l) => Number(l.level) >= 40 && /reconciliation with the packet commitments changed/.test(String(l.msg))), 'no reconciliation correction')
})
