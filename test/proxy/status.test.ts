/**
 * Status reads and the ends of inflight records: a read goes to the upstream that owns the intent (also after a
 * swap), is translated back to the client's version, and a terminal status ends the record; the reconciler ends
 * terminal intents on the owner and expires overdue ones, reporting them; unbound leftovers are released.
 */
import diagnostics from 'node:diagnostics_channel'
import t, { type Test } from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import type { IntentEndedMessage } from '../../src/observability/channels.js'
import { call, startGateway, waitFor, type StoreKind } from './harness.js'
import { startUpstream } from './upstream.js'

function suite (t: Test, kind: StoreKind): void {
  t.test('a status read goes to the owner after a swap; a terminal status ends the record', async (t) => {
    const blue = await startUpstream(t, '2.0', 'blue')
    const green = await startUpstream(t, '2.0', 'green')
    const { client, proxy, store } = await startGateway(t, { blue, green }, kind)

    const accepted = await call(client, 'POST', '/intents', signIntentV2(makeSigner()))
    t.equal(accepted.status, 202)
    const id = accepted.json.intent_id as string

    await store.setActive('green')
    await waitFor(() => proxy.activeColor() === 'green')
    const fresh = await call(client, 'POST', '/intents', signIntentV2(makeSigner()))
    t.equal(green.submissions().length, 1, 'new intents go to green')
    t.equal((await store.inflightById(fresh.json.intent_id))?.upstream, 'green')

    const pending = await call(client, 'GET', `/intents/${id}`)
    t.equal(pending.status, 200, 'blue answers for its own intent')
    t.equal(pending.json.status, 'accepted')
    t.equal(pending.headers['intent-version'], '2.0')
    t.ok(await store.inflightById(id), 'still inflight')

    blue.setStatus(id, 'settled')
    const settled = await call(client, 'GET', `/intents/${id}`)
    t.equal(settled.json.status, 'settled')
    t.equal(await store.inflightById(id), null, 'the terminal status ended the record')
    const ended = await store.ended(10)
    t.match(ended[0], { id, status: 'settled', via: 'response', upstream: 'blue' })

    const afterEnd = await call(client, 'GET', `/intents/${id}`)
    t.equal(afterEnd.status, 200, 'an ended intent of the old color is still found on blue')
    t.equal(afterEnd.json.status, 'settled')
    t.notOk(green.received.some((r) => r.url === `/intents/${id}`), 'green was never asked: the store remembers the owner')

    const unknown = await call(client, 'GET', '/intents/nope')
    t.equal(unknown.status, 404, 'an unknown id goes to the active upstream, whose answer passes through')
    t.equal(green.received.at(-1)?.url, '/intents/nope')
  })

  t.test('a 1.0 client reads its status in 1.0 from a 2.0 owner', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, { blue }, kind)
    const accepted = await call(client, 'POST', '/intents', signIntentV1(makeSigner()))
    const id = accepted.json.id as string
    blue.setStatus(id, 'matched')
    const pending = await call(client, 'GET', `/intents/${id}`)
    t.same(pending.json, { id, status: 'pending', filled_amount: '0', tx_hash: null })
    t.equal(pending.headers['intent-version'], '1.0')
    t.equal((await store.inflightById(id))?.phase, 'matched', 'the phase is remembered in the 2.0 vocabulary')

    blue.setStatus(id, 'settled')
    const settled = await call(client, 'GET', `/intents/${id}`)
    t.same(settled.json, { id, status: 'settled', filled_amount: '12', tx_hash: 'CD' }, 'fills summed, last hash')
    t.equal(await store.inflightById(id), null)
  })

  t.test('after its record ended, a 1.0 intent is still read on its owner and in 1.0, without Intent-Version', async (t) => {
    const blue = await startUpstream(t, '2.0', 'blue')
    const green = await startUpstream(t, '2.0', 'green')
    const { client, proxy, store } = await startGateway(t, { blue, green }, kind)
    const id = (await call(client, 'POST', '/intents', signIntentV1(makeSigner()))).json.id as string
    t.match(await store.inflightById(id), { upstream: 'blue', version: '1.0', upstream_version: '2.0' })

    await store.setActive('green')
    await waitFor(() => proxy.activeColor() === 'green')
    blue.setStatus(id, 'settled')
    t.equal((await call(client, 'GET', `/intents/${id}`)).json.status, 'settled')
    t.equal(await store.inflightById(id), null, 'the record ended')

    const blueReads = blue.received.filter((r) => r.url === `/intents/${id}`).length
    const later = await call(client, 'GET', `/intents/${id}`)
    t.equal(later.status, 200)
    t.same(later.json, { id, status: 'settled', filled_amount: '12', tx_hash: 'CD' }, 'the 1.0 form')
    t.equal(later.headers['intent-version'], '1.0')
    t.equal(blue.received.filter((r) => r.url === `/intents/${id}`).length, blueReads + 1, 'read on blue, the owner')
    t.notOk(green.received.some((r) => r.url === `/intents/${id}`), 'the active color was not asked')
  })

  t.test('the reconciler ends terminal intents on their owner and expires overdue ones, reporting them', async (t) => {
    const blue = await startUpstream(t, '2.0', 'blue')
    const green = await startUpstream(t, '2.0', 'green')
    let clock = Date.now()
    const { client, proxy, logs, store, config } = await startGateway(t, { blue, green, toml: '[upgrade]\nextend_timeout_secs = 600' }, kind, () => clock)
    const published: IntentEndedMessage[] = []
    const onEnded = (m: unknown): void => { published.push(m as IntentEndedMessage) }
    diagnostics.subscribe('intent-gate:inflight:ended', onEnded)
    t.teardown(() => diagnostics.unsubscribe('intent-gate:inflight:ended', onEnded))

    const nowSecs = Math.floor(Date.now() / 1000)
    const settles = (await call(client, 'POST', '/intents', signIntentV2(makeSigner()))).json.intent_id as string
    const overdue = (await call(client, 'POST', '/intents', signIntentV2(makeSigner(), { fill_deadline: nowSecs + 60 }))).json.intent_id as string
    const alive = (await call(client, 'POST', '/intents', signIntentV2(makeSigner(), { fill_deadline: nowSecs + 7200 }))).json.intent_id as string
    await store.setActive('green')
    await waitFor(() => proxy.activeColor() === 'green')
    blue.setStatus(settles, 'settled')

    const young = await proxy.reconcileOnce()
    t.equal(young.polled, 0, 'records younger than one interval are not polled')
    clock += config.proxy.reconcile_interval_ms + 1
    const first = await proxy.reconcileOnce()
    t.ok(first.leader)
    t.same(first.ended, [{ id: settles, status: 'settled', via: 'reconciler' }], 'polled on blue, the owner, after the swap')
    t.ok(blue.received.some((r) => r.url === `/intents/${settles}` && r.headers['user-agent'] === 'intent-gate-reconciler'))
    t.equal(green.received.filter((r) => r.method === 'GET').length, 0, 'nothing polled on green')

    clock = (nowSecs + 60 + 600) * 1000 + 1000 // past the deadline plus extend_timeout_secs
    const second = await proxy.reconcileOnce()
    t.same(second.ended, [{ id: overdue, status: 'expired', via: 'expiry' }])
    t.ok(await store.inflightById(alive), 'an intent within its deadline stays')
    t.equal(await store.inflightById(overdue), null)
    t.match((await store.ended(10))[0], { id: overdue, status: 'expired', via: 'expiry' })
    t.ok(logs.some((l) => l.level === 40 && l.id === overdue && /expired/.test(l.msg)), 'the expiry is logged at warn')
    t.same(published.filter((m) => m.id === overdue), [{ id: overdue, status: 'expired', via: 'expiry' }], 'and published')
  })

  t.test('an owner that is down is not polled; its overdue intents still expire', async (t) => {
    const blue = await startUpstream(t, '2.0')
    let clock = Date.now()
    const { client, proxy, store, config } = await startGateway(t, { blue, toml: '[upgrade]\nextend_timeout_secs = 60' }, kind, () => clock)
    const nowSecs = Math.floor(Date.now() / 1000)
    const id = (await call(client, 'POST', '/intents', signIntentV2(makeSigner(), { fill_deadline: nowSecs + 30 }))).json.intent_id as string
    blue.setUnhealthy(true)
    await waitFor(() => proxy.upstreams.get('blue')!.state().status === 'unhealthy')
    clock = (nowSecs + 30 + 60) * 1000 + config.proxy.reconcile_interval_ms + 1000
    const round = await proxy.reconcileOnce()
    t.equal(round.polled, 0, 'not polled')
    t.same(round.ended, [{ id, status: 'expired', via: 'expiry' }])
    t.notOk(blue.received.some((r) => r.headers['user-agent'] === 'intent-gate-reconciler'))
    t.equal(await store.inflightById(id), null)
  })

  t.test('a record never bound (its gateway died between forward and bind) is resent to its owner after 2 × upstream_timeout_ms, and its answer binds it', async (t) => {
    const blue = await startUpstream(t, '2.0')
    let clock = Date.now()
    const { proxy, store } = await startGateway(t, { blue, proxy: { upstream_timeout_ms: 1000 } }, kind, () => clock)
    const intent = signIntentV2(makeSigner())
    const admitted = await store.admit({
      record: { key: 'orphan-1', upstream: 'blue', version: '2.0', upstream_version: '2.0', created_at_ms: clock, deadline: Math.floor(clock / 1000) + 3600, client_key: 'client-key-1', payload: JSON.stringify(intent), intent },
      idempotencyTtlSecs: 60
    })
    t.equal(admitted.kind, 'admitted')
    t.same((await proxy.reconcileOnce()).resent, [], 'young: maybe still being forwarded')
    clock += 2001
    t.same((await proxy.reconcileOnce()).resent, [{ key: 'orphan-1', upstream: 'blue', outcome: 'bound' }])
    const resent = blue.submissions().at(-1)!
    t.equal(resent.body, JSON.stringify(intent), 'the same bytes')
    t.equal(resent.headers['idempotency-key'], 'client-key-1', 'with the client key')
    t.equal(resent.headers['user-agent'], 'intent-gate-reconciler')
    t.equal(await store.inflightCount(), 1, 'still inflight, now bound')
    const retry = await store.admit({
      record: { key: 'orphan-1', upstream: 'green', version: '2.0', upstream_version: '2.0', created_at_ms: clock, deadline: Math.floor(clock / 1000) + 3600, intent: {} },
      idempotencyTtlSecs: 60
    })
    t.equal(retry.kind, 'replay', "a client's retry gets the owner's answer, never a second forward")
  })
}

for (const kind of ['embedded', 'redis'] as const) t.test(`${kind} store`, async (t) => suite(t, kind))
