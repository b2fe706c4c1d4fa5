// Bad input reaches the watcher and it keeps running: an RPC that cannot be reached (typed error naming the URL,
// retries until the chain appears), a malformed packet event on the wire (logged with its height and reason,
// skipped, the packet recovered by the reconciliation), and a configured channel the chain does not know
// (reported; the other channels are still watched).
import http from 'node:http'
import type { Duplex } from 'node:stream'
import t, { type Test } from 'tap'
import httpProxy from 'http-proxy'
import { createIbcWatcher, type IbcWatcher } from '../../src/ibc/watcher.js'
import { freePort } from '../helpers/redis.js'
import { startChain } from '../chain/chain-process.js'
import { accountClient } from '../chain/settlements.js'
import { captureLog, embeddedStore, waitForHeight, watcherConfig } from './helpers.js'

/** Polls the watcher's state: used only where no height is being processed that could be awaited instead. */
async function until (watcher: IbcWatcher, predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(watcher.state())}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('an unreachable RPC: a typed error naming the URL, retries, and recovery when the chain appears', async (t) => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const { logger, lines } = captureLog()
  const watcher = createIbcWatcher({
    config: watcherConfig(url),
    store: embeddedStore(t),
    logger,
    expectedBlockMs: 100,
    retryMinMs: 100,
    retryMaxMs: 300,
    requestTimeoutMs: 1000
  })
  t.teardown(() => watcher.close())
  await watcher.start()
  await until(watcher, () => watcher.state().last_error !== null, 'the first error')
  const state = watcher.state()
  t.equal(state.last_error?.code, 'IG_ERR_CHAIN_UNREACHABLE')
  t.match(state.last_error?.message, `chain RPC ${url} is unreachable`)
  t.match(state, { connected: false, healthy: false, reason: /not receiving blocks/ })
  t.ok(lines().some((l) => l.msg === 'cannot reach the chain; retrying' && JSON.stringify(l.err).includes(url)), 'logged with the URL')

  await startChain(t, { port, blockMs: 100 })
  const processed = await waitForHeight(watcher, () => true, 'a height once the chain is up')
  t.ok(processed.height >= 1, 'the watcher reads the chain once it answers')
  await until(watcher, () => watcher.state().connected, 'connected')
})

/**
 * An HTTP proxy in front of the chain that corrupts the next send_packet event it carries in a block_results
 * answer (its packet_sequence is dropped); WebSocket upgrades pass through untouched.
 */
async function corruptingProxy (t: Test, target: string): Promise<{ url: string, arm: () => void, corrupted: () => number[] }> {
  let armed = false
  const corrupted: number[] = []
  const ws = httpProxy.createProxyServer({ target, ws: true })
  ws.on('error', () => {})
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? body : undefined })
        .then(async (upstream) => {
          let text = await upstream.text()
          if (armed && body.includes('"block_results"') && text.includes('send_packet')) {
            const answer = JSON.parse(text)
            for (const tx of answer.result?.txs_results ?? []) {
              for (const event of tx.events ?? []) {
                if (!armed || event.type !== 'send_packet') continue
                corrupted.push(Number(event.attributes.find((a: { key: string }) => a.key === 'packet_sequence')?.value))
                event.attributes = event.attributes.filter((a: { key: string }) => a.key !== 'packet_sequence')
                armed = false
              }
            }
            text = JSON.stringify(answer)
          }
          res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text)
        })
        .catch(() => res.destroy())
    })
  })
  server.on('upgrade', (req, socket: Duplex, head) => ws.ws(req, socket, head))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    ws.close()
    await new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, arm: () => { armed = true }, corrupted: () => corrupted }
}

t.test('a malformed packet event is logged and skipped; the watcher keeps going and the reconciliation recovers the packet', async (t) => {
  const chain = await startChain(t, { blockMs: 100, ackDelayMs: 4000 })
  const proxy = await corruptingProxy(t, chain.rpc)
  const alice = await accountClient(t, chain, 'alice')
  const { logger, lines } = captureLog()
  const watcher = createIbcWatcher({ config: watcherConfig(proxy.url), store: embeddedStore(t), logger, expectedBlockMs: 100 })
  t.teardown(() => watcher.close())
  const seen = new Set<string>()
  watcher.onProcessed((e) => { for (const s of e.sent) seen.add(s) })
  await watcher.start()
  await watcher.reconcile() // the start-up reconciliation is behind us: the next one is the test's

  proxy.arm()
  const bad = await alice.createSettlements(['malformed-1'])
  await waitForHeight(watcher, (e) => e.height >= bad.height, 'the corrupted height')
  t.same(proxy.corrupted(), [1], 'the proxy corrupted the packet with sequence 1')
  const state = watcher.state()
  t.equal(state.malformed_events, 1)
  t.equal(state.last_error?.code, 'IG_ERR_IBC_EVENT_MALFORMED')
  const warning = lines().find((l) => l.code === 'IG_ERR_IBC_EVENT_MALFORMED')
  t.match(warning, { height: bad.height, event: 'send_packet', msg: `malformed send_packet event at height ${bad.height}: packet_sequence is missing` })

  const good = await alice.createSettlements(['after-malformed'])
  await waitForHeight(watcher, (e) => e.height >= good.height, 'the next packet')
  t.ok(seen.has(good.packets[0] as string), 'the next packet is tracked')
  t.notOk(watcher.pending().some((p) => p.sequence === 1), 'the corrupted packet is not known from events')

  await watcher.reconcile()
  t.ok(watcher.pending().some((p) => p.sequence === 1 && p.sent_height === null), 'the reconciliation brought it in from the commitments')
  t.equal(watcher.state().last_reconcile?.added, 1)
  t.ok(lines().some((l) => /reconciliation with the packet commitments changed/.test(String(l.msg))), 'the correction is logged')
  await waitForHeight(watcher, (e) => e.pending === 0, 'both acknowledged', 20_000)
})

t.test('a configured channel the chain does not know is reported; the others are still watched', async (t) => {
  const chain = await startChain(t, { blockMs: 100, ackDelayMs: 4000 })
  const alice = await accountClient(t, chain, 'alice')
  const { logger, lines } = captureLog()
  const watcher = createIbcWatcher({ config: watcherConfig(chain.rpc, { channels: ['channel-0', 'channel-7'] }), store: embeddedStore(t), logger, expectedBlockMs: 100 })
  t.teardown(() => watcher.close())
  await watcher.start()
  await watcher.reconcile()
  t.same(watcher.state().unknown_channels, ['channel-7'])
  t.match(watcher.state().reason, /unknown channel\(s\): channel-7/)
  const error = lines().find((l) => l.code === 'IG_ERR_IBC_UNKNOWN_CHANNEL')
  t.match(error, { level: 50, channel: 'channel-7', port: 'transfer', msg: /ibc.channels lists channel-7, which the chain does not know on port transfer/ })

  const sent = await alice.createSettlements(['known-channel'])
  await waitForHeight(watcher, (e) => e.height >= sent.height, 'the packet on channel-0')
  t.same(watcher.pending().map((p) => `${p.channel}/${p.sequence}`), sent.packets, 'channel-0 is watched')
})
