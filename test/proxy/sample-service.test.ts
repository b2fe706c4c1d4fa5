/**
 * The proxy in front of the real sample intent service (sandbox/service, signatures verified) with a real Redis:
 * blue serves 1.0, green 2.0. A 1.0 client keeps working across the swap (translated to 2.0 for green, its
 * signature still verifying), status reads go to each intent's owner in the client's version, and every order
 * is accepted by exactly one upstream exactly once.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { IntentService } from '../../sandbox/service/server.js'
import { ClockSettler } from '../../sandbox/service/settler.js'
import { call, catalog, startGateway, waitFor } from './harness.js'
import type { Teardown } from './upstream.js'

async function startService (t: Teardown, versions: string[]): Promise<{ url: string, version: string }> {
  const service = new IntentService({ catalog, versions, settler: new ClockSettler(3_600_000), verify: true })
  service.server.listen(0, '127.0.0.1')
  await once(service.server, 'listening')
  t.teardown(async () => {
    service.server.closeAllConnections()
    await new Promise((resolve) => service.server.close(resolve))
  })
  const { port } = service.server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, version: versions.at(-1) as string }
}

async function stats (url: string): Promise<{ accepted: number, duplicates: number }> {
  const res = await fetch(`${url}/sandbox/stats?keys=0`)
  return await res.json() as { accepted: number, duplicates: number }
}

t.test('1.0 and 2.0 clients across a blue (1.0) to green (2.0) swap, on Redis', async (t) => {
  const blueSvc = await startService(t, ['1.0'])
  const greenSvc = await startService(t, ['2.0'])
  let clock = Date.now()
  const { client, store, proxy, config } = await startGateway(t, { blue: blueSvc, green: greenSvc }, 'redis', () => clock)
  const signer = makeSigner()

  const onBlue = signIntentV1(signer)
  const a = await call(client, 'POST', '/intents', onBlue)
  t.equal(a.status, 202, `accepted by blue (${a.text})`)
  t.match(a.json, { status: 'pending', version: '1.0' })
  const blueId = a.json.id as string

  await store.setActive('green')
  await waitFor(() => proxy.activeColor() === 'green')

  const translated = signIntentV1(signer)
  const b = await call(client, 'POST', '/intents', translated)
  t.equal(b.status, 202, `a 1.0 intent accepted by green: translated, its 1.0 signature verified there (${b.text})`)
  t.same(Object.keys(b.json).sort(), ['id', 'status', 'version'])
  t.equal(b.json.version, '1.0')
  t.equal(b.headers['intent-version'], '1.0')
  const greenId = b.json.id as string

  const native = await call(client, 'POST', '/intents', signIntentV2(signer))
  t.equal(native.status, 202)
  t.equal(native.json.version, '2.0')

  const replay = await call(client, 'POST', '/intents', translated)
  t.equal(replay.headers['idempotent-replayed'], 'true')

  t.equal((await store.inflightById(blueId))?.upstream, 'blue')
  t.equal((await store.inflightById(greenId))?.upstream, 'green')
  t.same(await store.inflightByUpstream(), { blue: 1, green: 2 })

  const blueStatus = await call(client, 'GET', `/intents/${blueId}`)
  t.equal(blueStatus.status, 200, 'the blue intent is read on blue after the swap')
  t.equal(blueStatus.json.status, 'pending')
  const greenStatus = await call(client, 'GET', `/intents/${greenId}`)
  t.match(greenStatus.json, { id: greenId, status: 'pending', filled_amount: '0' }, 'read in 1.0 from the 2.0 owner')

  // Settle the blue intent on blue; the reconciler, polling the owner, ends it.
  const forced = await fetch(`${blueSvc.url}/sandbox/intents/${encodeURIComponent(blueId)}`, { method: 'POST', body: JSON.stringify({ status: 'settled' }) })
  t.equal(forced.status, 200)
  clock += config.proxy.reconcile_interval_ms + 1
  const round = await proxy.reconcileOnce()
  t.same(round.ended, [{ id: blueId, status: 'settled', via: 'reconciler' }])
  t.same(await store.inflightByUpstream(), { blue: 0, green: 2 }, 'blue has drained: it can be stopped')

  t.equal((await stats(blueSvc.url)).accepted, 1, 'blue accepted one order')
  t.equal((await stats(greenSvc.url)).accepted, 2, 'green accepted two, once each')
})
