// The private-field workaround in src/ibc/block-subscription.ts (cancelReconnect) exists because cosmjs's
// ReconnectingSocket opens a new connection after an explicit WebsocketClient.disconnect(). These tests count
// the connections a real WebSocket server sees: the first fails once cosmjs stops reconnecting after a
// disconnect (then the workaround can go), the second fails when the workaround stops working (the private fields
// moved), since then a closed subscription connects again.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { WebsocketClient } from '@cosmjs/tendermint-rpc'
import { WebSocketServer } from 'ws'
import { cancelReconnect, subscribeNewBlocks } from '../../src/ibc/block-subscription.js'

/** cosmjs's first reconnect comes 100 ms after a disconnect; 30 times that without one means none is coming. */
const NO_RECONNECT_MS = 3000

async function server (t: Test): Promise<{ url: string, connections: () => number, next: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  let count = 0
  wss.on('connection', () => { count++ })
  t.teardown(async () => {
    for (const client of wss.clients) client.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
  return {
    url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    connections: () => count,
    next: async () => { await once(wss, 'connection') }
  }
}

/** Resolves true if a new connection arrives within `ms`, false otherwise. */
async function reconnects (s: Awaited<ReturnType<typeof server>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const result = await Promise.race([
    s.next().then(() => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  ])
  clearTimeout(timer)
  return result
}

t.test('cosmjs still reconnects after an explicit disconnect (else remove cancelReconnect)', async (t) => {
  const s = await server(t)
  const connected = s.next()
  const client = new WebsocketClient(s.url.replace(/^http/, 'ws'))
  await connected
  await client.connected()
  const again = reconnects(s, NO_RECONNECT_MS)
  client.disconnect()
  t.ok(await again, 'a disconnected WebsocketClient opened a new connection: the workaround is still needed')
  client.disconnect()
  t.equal(cancelReconnect(client), true, 'the private fields the workaround uses are there')
})

t.test('a closed block subscription does not connect again (the workaround works)', async (t) => {
  const s = await server(t)
  const connected = s.next()
  const subscription = subscribeNewBlocks(s.url, { onBlock: () => {}, onFailure: () => {} })
  await connected
  t.equal(s.connections(), 1)
  const again = reconnects(s, NO_RECONNECT_MS)
  subscription.close()
  t.equal(await again, false, `no new connection within ${NO_RECONNECT_MS} ms of close()`)
  t.equal(s.connections(), 1)
})
