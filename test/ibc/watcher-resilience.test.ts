// The watcher misses no packet when its connection to the chain dies mid-stream: the chain process SIGKILLed and
// restarted, the WebSocket reset without a close frame (cosmjs reconnects the socket but not the subscription),
// and the WebSocket black-holed (open, silent). Packets flow before, during and after; afterwards the watcher has
// read every send, its pending count matches the chain's commitments at each checked height, and no
// reconciliation was needed to get there (the start-up one is the only one, and it found nothing).
import t, { type Test } from 'tap'
import { createIbcWatcher, type IbcWatcher } from '../../src/ibc/watcher.js'
import { startChain, type LocalChain } from '../chain/chain-process.js'
import { accountClient, chainCommitments, type Account } from '../chain/settlements.js'
import { captureLog, embeddedStore, startTcpProxy, waitForHeight, watcherConfig } from './helpers.js'

interface Setup {
  chain: LocalChain
  watcher: IbcWatcher
  alice: Account
  countAt: Map<number, number>
  seenSent: Set<string>
  created: string[]
  lines: () => Array<Record<string, unknown>>
}

async function setup (t: Test, viaProxy: boolean): Promise<Setup & { proxy: Awaited<ReturnType<typeof startTcpProxy>> | null }> {
  const chain = await startChain(t, { blockMs: 100, ackDelayMs: 1200 })
  const proxy = viaProxy ? await startTcpProxy(t, chain.port) : null
  const alice = await accountClient(t, chain, 'alice')
  const { logger, lines } = captureLog()
  const watcher = createIbcWatcher({
    config: watcherConfig(proxy?.url ?? chain.rpc),
    store: embeddedStore(t),
    logger,
    expectedBlockMs: 100,
    requestTimeoutMs: 1500,
    retryMinMs: 100,
    retryMaxMs: 500
  })
  t.teardown(() => watcher.close())
  const countAt = new Map<number, number>()
  const seenSent = new Set<string>()
  watcher.onProcessed((e) => {
    countAt.set(e.height, e.pending)
    for (const s of e.sent) seenSent.add(s)
  })
  await watcher.start()
  return { chain, proxy, watcher, alice, countAt, seenSent, created: [], lines }
}

async function createRound (s: Setup, round: string, n: number): Promise<void> {
  const result = await s.alice.createSettlements(Array.from({ length: n }, (_, i) => `${round}-${i}`))
  s.created.push(...result.packets)
}

/** Compares the watcher's count with the chain's commitments at the height the chain answered at. */
async function check (t: Test, s: Setup, commitments: Awaited<ReturnType<typeof chainCommitments>>, label: string): Promise<void> {
  const truth = await commitments('transfer', 'channel-0')
  if (!s.countAt.has(truth.height)) await waitForHeight(s.watcher, (e) => e.height >= truth.height, `height ${truth.height}`)
  t.equal(s.countAt.get(truth.height), truth.sequences.length, `${label}: at height ${truth.height} the watcher counts ${truth.sequences.length} pending like the chain`)
}

async function finish (t: Test, s: Setup, commitments: Awaited<ReturnType<typeof chainCommitments>>): Promise<void> {
  await check(t, s, commitments, 'after the disruption')
  await waitForHeight(s.watcher, (e) => e.pending === 0 && s.seenSent.size >= s.created.length, 'every packet sent and acknowledged', 30_000)
  t.same([...s.seenSent].sort(), [...s.created].sort(), `the watcher read every one of the ${s.created.length} send_packet events`)
  t.same((await commitments('transfer', 'channel-0')).sequences, [], 'the chain has no commitment left')
  const state = s.watcher.state()
  t.equal(state.last_reconcile?.added, 0, 'no reconciliation had to add a packet')
  t.equal(state.last_reconcile?.removed, 0, 'no reconciliation had to remove a packet')
  t.ok(state.connected, 'the watcher is connected again')
}

t.test('the chain process is SIGKILLed and restarted mid-stream', async (t) => {
  const s = await setup(t, false)
  const commitments = await chainCommitments(t, s.chain)
  await createRound(s, 'before', 3)
  await check(t, s, commitments, 'before the crash')

  // A second client keeps creating settlements the whole time; while the chain is down its txs fail (and one
  // may have been committed without its sender hearing so): what matters is what the chain sent.
  const bob = await accountClient(t, s.chain, 'bob')
  const stream = { producing: true }
  let n = 0
  const producer = (async () => {
    while (stream.producing) {
      try {
        await bob.createSettlements([`stream-${n++}`])
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  })()
  await waitForHeight(s.watcher, (e) => e.sent.some((p) => p.startsWith('channel-0/')) && n > 3, 'the stream flowing')
  await s.chain.kill()
  // While it is down the watcher retries; the acknowledgements come in the first blocks after the restart.
  await new Promise((resolve) => setTimeout(resolve, 800))
  await s.chain.restart()
  await waitForHeight(s.watcher, (e) => e.sent.length > 0, 'the stream flowing again')
  stream.producing = false
  await producer

  // The last packet is one whose sender saw it committed; on the channel, sequences run 1..last without gaps.
  await createRound(s, 'after', 3)
  const last = Math.max(...s.created.map((p) => Number(p.split('/')[1])))
  s.created.splice(0, s.created.length, ...Array.from({ length: last }, (_, i) => `channel-0/${i + 1}`))
  await finish(t, s, commitments)
  t.ok(s.lines().some((l) => /cannot reach the chain|does not answer|subscription failed/.test(String(l.msg))), 'the outage was logged')
})

t.test('the WebSocket is reset without a close frame (cosmjs reconnects the socket, not the subscription)', async (t) => {
  const s = await setup(t, true)
  const commitments = await chainCommitments(t, s.chain)
  await createRound(s, 'before', 3)
  await check(t, s, commitments, 'before the cut')
  const rebuiltBefore = s.watcher.state().subscriptions_rebuilt
  t.ok((s.proxy?.cut() ?? 0) >= 1, 'connections were cut')
  await createRound(s, 'during', 2)
  await check(t, s, commitments, 'during the outage')
  await createRound(s, 'after', 2)
  await finish(t, s, commitments)
  t.ok(s.watcher.state().subscriptions_rebuilt > rebuiltBefore, 'the subscription was rebuilt')
})

t.test('the WebSocket is black-holed: open, but nothing comes through', async (t) => {
  const s = await setup(t, true)
  const commitments = await chainCommitments(t, s.chain)
  await createRound(s, 'before', 3)
  await check(t, s, commitments, 'before the black hole')
  const rebuiltBefore = s.watcher.state().subscriptions_rebuilt
  t.ok((s.proxy?.blackhole() ?? 0) >= 1, 'connections went silent')
  await createRound(s, 'during', 2)
  await check(t, s, commitments, 'during the outage')
  await createRound(s, 'after', 2)
  await finish(t, s, commitments)
  t.ok(s.watcher.state().subscriptions_rebuilt > rebuiltBefore, 'the silent subscription was detected and rebuilt')
})
