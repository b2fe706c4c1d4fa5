/**
 * Submissions through the proxy (docs/specification.md section 3): bind on 2xx, release and replay below 500 (but 401, 403,
 * 408, 409, 429), release and forget at 500+ and when nothing reached the upstream, outcome unknown (kept with
 * the owner) on a timeout, 409 while in progress, 503 while draining or without a store, the refusals that never
 * reach the backend (413, 400, version-unsupported, 401 signature-invalid), and idempotency keys.
 */
import { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { call, startGateway, type StoreKind } from './harness.js'
import { startUpstream } from './upstream.js'

const PROBLEM = 'application/problem+json'

function suite (t: Test, kind: StoreKind): void {
  t.test('a 2xx binds the record to the intent id; the retry is a replay that is not forwarded', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, { blue }, kind)
    const signer = makeSigner()
    const intent = signIntentV2(signer)

    const first = await call(client, 'POST', '/intents', intent, { 'x-request-id': 'req-1', 'accept-encoding': 'gzip' })
    t.equal(first.status, 202)
    t.equal(first.json.status, 'accepted')
    t.equal(first.headers['intent-version'], '2.0')
    t.equal(first.headers['x-request-id'], 'req-1')
    t.notOk(first.headers['idempotent-replayed'])
    const id = first.json.intent_id as string

    const sent = blue.submissions()
    t.equal(sent.length, 1)
    // Without a header the key is the owner and nonce, which the service knows the order by itself (section 8):
    // no key is made up for it, so no client-chosen header value can ever collide with it upstream.
    t.equal(sent[0]!.headers['idempotency-key'], undefined, 'no derived key is sent upstream')
    t.equal(sent[0]!.headers['x-request-id'], 'req-1')
    t.equal(sent[0]!.headers['accept-encoding'], 'identity', 'the gateway reads the answer, so it asks for it uncompressed')
    t.same(JSON.parse(sent[0]!.body), intent, 'the body reaches the upstream as sent')

    const record = await store.inflightById(id)
    t.ok(record, 'bound to the intent id')
    t.equal(record?.upstream, 'blue')
    t.equal(record?.version, '2.0')

    const again = await call(client, 'POST', '/intents', intent)
    t.equal(again.status, 202)
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.same(again.json, first.json, 'the first response is replayed')
    t.equal(again.headers['intent-version'], '2.0')
    t.equal(blue.submissions().length, 1, 'the replay was not forwarded')
    t.equal(await store.inflightCount(), 1)
  })

  t.test('an explicit Idempotency-Key is the key and is forwarded; a bad one is refused', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client } = await startGateway(t, { blue }, kind)
    const signer = makeSigner()

    const a = await call(client, 'POST', '/intents', signIntentV2(signer), { 'idempotency-key': 'order-7' })
    t.equal(a.status, 202)
    t.equal(blue.submissions()[0]!.headers['idempotency-key'], 'order-7')
    // A different intent under the same key is refused: the key remembers the intent's fingerprint.
    const b = await call(client, 'POST', '/intents', signIntentV2(signer), { 'idempotency-key': 'order-7' })
    t.equal(b.status, 422)
    t.equal(b.json.type, 'urn:intent-gate:problem:idempotency-key-reused')
    t.equal(blue.submissions().length, 1, 'nothing forwarded')
    // The same header value from another owner is another key.
    const other = await call(client, 'POST', '/intents', signIntentV2(makeSigner()), { 'idempotency-key': 'order-7' })
    t.equal(other.status, 202)
    t.notOk(other.headers['idempotent-replayed'])

    const bad = await call(client, 'POST', '/intents', signIntentV2(signer), { 'idempotency-key': 'x'.repeat(300) })
    t.equal(bad.status, 400)
    t.equal(bad.json.errors[0].field, 'header:Idempotency-Key')
  })

  t.test('a duplicate while the first is in progress gets 409 with Retry-After: 1', async (t) => {
    const blue = await startUpstream(t, '2.0')
    blue.delaySubmissions(300)
    const { client, url } = await startGateway(t, { blue }, kind)
    const intent = signIntentV2(makeSigner())

    const firstP = call(client, 'POST', '/intents', intent)
    await blue.waitForRequest('/intents')
    const { Client } = await import('undici')
    const other = new Client(url)
    t.teardown(async () => await other.destroy())
    const dup = await call(other, 'POST', '/intents', intent)
    t.equal(dup.status, 409)
    t.equal(dup.headers['retry-after'], '1')
    t.equal(dup.headers['content-type'], PROBLEM)
    t.equal(dup.json.type, 'urn:intent-gate:problem:duplicate-in-progress')
    const first = await firstP
    t.equal(first.status, 202)
    t.equal(blue.submissions().length, 1)
  })

  t.test('an upstream status below 500 releases the record and is replayed to retries', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, { blue }, kind)
    const intent = signIntentV2(makeSigner())
    const problem = { type: 'urn:example:insufficient-funds', title: 'Insufficient funds', status: 422 }
    blue.answerNext(422, problem)

    const first = await call(client, 'POST', '/intents', intent)
    t.equal(first.status, 422)
    t.same(first.json, problem, 'the service problem passes through unchanged')
    t.equal(await store.inflightCount(), 0, 'released')

    const retry = await call(client, 'POST', '/intents', intent)
    t.equal(retry.status, 422)
    t.equal(retry.headers['idempotent-replayed'], 'true')
    t.same(retry.json, problem)
    t.equal(blue.submissions().length, 1)
  })

  t.test('a forged copy is refused at the edge, and a 401/403/408/409/429 from the service is never kept', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, { blue }, kind)
    const signer = makeSigner()
    const genuine = signIntentV2(signer)
    const forged = { ...genuine, max_solver_fee_bps: 9999 }

    const attack = await call(client, 'POST', '/intents', forged)
    t.equal(attack.status, 401, 'the gateway refuses a copy whose signature does not cover it')
    t.equal(attack.json.type, 'urn:intent-gate:problem:signature-invalid')
    t.equal(blue.submissions().length, 0, 'never forwarded')
    t.equal(await store.inflightCount(), 0)
    const real = await call(client, 'POST', '/intents', genuine)
    t.equal(real.status, 202, 'the genuine order is forwarded')
    t.notOk(real.headers['idempotent-replayed'])

    // Under an explicit key too: a refusal that says nothing lasting about the order is not replayed.
    for (const status of [401, 403, 408, 409, 429]) {
      blue.answerNext(status, { title: `refused ${status}` })
      const own = signIntentV2(signer)
      t.equal((await call(client, 'POST', '/intents', own, { 'idempotency-key': `k-${status}` })).status, status)
      const again = await call(client, 'POST', '/intents', own, { 'idempotency-key': `k-${status}` })
      t.equal(again.status, 202, `after a ${status} the retry goes through`)
      t.notOk(again.headers['idempotent-replayed'])
    }
  })

  t.test('an upstream 5xx releases and forgets: the retry is forwarded again', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, { blue }, kind)
    const intent = signIntentV2(makeSigner())
    blue.answerNext(503, { title: 'busy' })

    const first = await call(client, 'POST', '/intents', intent)
    t.equal(first.status, 503)
    t.same(first.json, { title: 'busy' })
    t.equal(await store.inflightCount(), 0)
    const retry = await call(client, 'POST', '/intents', intent)
    t.equal(retry.status, 202)
    t.notOk(retry.headers['idempotent-replayed'])
    t.equal(blue.submissions().length, 2)
    t.equal(await store.inflightCount(), 1)
  })

  t.test('an unreachable upstream is a 502 problem (released); a silent one a 504 outcome-unknown (kept with its owner)', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const deadUrl = blue.url
    await blue.close()
    const { client, store } = await startGateway(t, { blue: deadUrl }, kind)
    const r = await call(client, 'POST', '/intents', signIntentV2(makeSigner()), { 'x-request-id': 'rid-502' })
    t.equal(r.status, 502)
    t.equal(r.headers['content-type'], PROBLEM)
    t.equal(r.json.type, 'urn:intent-gate:problem:upstream-unavailable')
    t.equal(r.json.status, 502)
    t.equal(r.json.request_id, 'rid-502')
    t.match(r.json.detail, /blue/)
    t.equal(await store.inflightCount(), 0)

    const slow = await startUpstream(t, '2.0')
    slow.delaySubmissions(1000)
    const p2 = await startGateway(t, { blue: slow, proxy: { upstream_timeout_ms: 200 } }, kind)
    const store2 = p2.store
    const r2 = await call(p2.client, 'POST', '/intents', signIntentV2(makeSigner()))
    t.equal(r2.status, 504)
    t.equal(r2.json.type, 'urn:intent-gate:problem:upstream-outcome-unknown')
    t.ok(Number(r2.headers['retry-after']) >= 1, 'with Retry-After')
    t.equal(await store2.inflightCount(), 1, 'the upstream may hold it: still inflight')
    t.match((await store2.inflight())[0], { upstream: 'blue', phase: 'unknown', id: null })
  })

  t.test('while draining: 503 draining with an honest Retry-After; nothing forwarded, nothing registered', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, { blue, proxy: { drain_retry_after_secs: 7 } }, kind)

    await store.setDrain({ deadline_secs: 120, reason: 'maintenance' })
    const r = await call(client, 'POST', '/intents', signIntentV2(makeSigner()))
    t.equal(r.status, 503)
    t.equal(r.headers['content-type'], PROBLEM)
    t.equal(r.json.type, 'urn:intent-gate:problem:draining')
    t.match(r.json.detail, /maintenance/)
    const retryAfter = Number(r.headers['retry-after'])
    // Nothing inflight: the drain is done at once and waits for its operator, so clients are told
    // drain_retry_after_secs, not the two minutes to the deadline (docs/proxy.md, Retry-After of an operator's drain).
    t.equal(retryAfter, 7, `drained, not the seconds to the deadline (${retryAfter})`)

    await store.setDrain({})
    const r2 = await call(client, 'POST', '/intents', signIntentV2(makeSigner()))
    t.equal(r2.status, 503)
    t.equal(r2.headers['retry-after'], '7', 'without a deadline: proxy.drain_retry_after_secs')

    t.equal(blue.submissions().length, 0)
    t.equal(await store.inflightCount(), 0)

    await store.setDrain(null)
    const r3 = await call(client, 'POST', '/intents', signIntentV2(makeSigner()))
    t.equal(r3.status, 202, 'accepted again once the switch is off')
  })

  t.test('a store that cannot answer fails closed: 503 with Retry-After, nothing forwarded; then recovers', { skip: kind === 'embedded' && 'the embedded store cannot fail' }, async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, redis } = await startGateway(t, { blue }, kind)
    await redis!.kill()
    const r = await call(client, 'POST', '/intents', signIntentV2(makeSigner()))
    t.equal(r.status, 503)
    t.ok(Number(r.headers['retry-after']) >= 1)
    t.equal(r.json.type, 'urn:intent-gate:problem:store-unavailable')
    t.equal(blue.submissions().length, 0, 'nothing forwarded uncounted')
    await redis!.restart()
    const signer = makeSigner()
    let r2 = await call(client, 'POST', '/intents', signIntentV2(signer))
    // The client reconnects on its own; a submission in the reconnect window still fails closed.
    while (r2.status === 503) r2 = await call(client, 'POST', '/intents', signIntentV2(signer))
    t.equal(r2.status, 202, 'recovers by itself')
  })

  t.test('refusals that never reach the backend: 413, not JSON, invalid fields, unsupported version', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, { blue, proxy: { max_body_bytes: 2048 }, toml: '[versions]\naccepted = ["2.0"]\ndefault = "2.0"' }, kind)

    const big = await call(client, 'POST', '/intents', JSON.stringify({ version: '2.0', pad: 'x'.repeat(5000) }))
    t.equal(big.status, 413)
    t.equal(big.json.type, 'urn:intent-gate:problem:payload-too-large')

    // Chunked, no Content-Length: refused once the limit is crossed.
    const chunked = await client.request({
      method: 'POST',
      path: '/intents',
      headers: { 'content-type': 'application/json' },
      body: Readable.from((function * () { for (let i = 0; i < 10; i++) yield Buffer.alloc(512, 32) })())
    }).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }), (err: Error) => ({ status: 0, body: err.message }))
    t.equal(chunked.status, 413, 'streamed body over the limit')

    const notJson = await call(client, 'POST', '/intents', '{"version": "2.0",')
    t.equal(notJson.status, 400)
    t.equal(notJson.json.type, 'urn:intent-gate:problem:invalid-intent')
    t.match(notJson.json.detail, /not valid JSON/)

    const bad = signIntentV2(makeSigner()) as Record<string, unknown>
    delete bad.owner
    bad.fill_deadline = 'soon'
    const invalid = await call(client, 'POST', '/intents', bad)
    t.equal(invalid.status, 400)
    const fields = (invalid.json.errors as Array<{ field: string }>).map((e) => e.field)
    t.ok(fields.some((f) => f.includes('owner')), `names owner (${fields.join(', ')})`)
    t.ok(fields.some((f) => f.includes('fill_deadline')), 'names fill_deadline')
    t.equal(invalid.headers['intent-version'], '2.0')

    const old = await call(client, 'POST', '/intents', signIntentV1(makeSigner()))
    t.equal(old.status, 400)
    t.equal(old.json.type, 'urn:intent-gate:problem:version-unsupported')
    t.equal(old.json.title, 'Upgrade required')
    t.same(old.json.accepted, ['2.0'])
    t.match(old.json.detail, /2\.0/)

    t.equal(blue.submissions().length, 0, 'none reached the backend')
    t.equal(await store.inflightCount(), 0, 'none was registered')
  })

  t.test('a 1.0 intent to a 2.0 upstream is translated there and back, with deprecation headers', async (t) => {
    const blue = await startUpstream(t, '2.0')
    const { client, store } = await startGateway(t, {
      blue,
      toml: '[versions]\naccepted = ["1.0", "2.0"]\ndefault = "1.0"\n[versions.deprecated."1.0"]\nsince = "2026-12-01T00:00:00Z"\nsunset = "2027-03-01T00:00:00Z"\nlink = "https://example.org/migrate"'
    }, kind)
    const signer = makeSigner()
    const intent = signIntentV1(signer)

    const r = await call(client, 'POST', '/intents', intent)
    t.equal(r.status, 202)
    t.same(Object.keys(r.json).sort(), ['id', 'status', 'version'])
    t.equal(r.json.status, 'pending')
    t.equal(r.json.version, '1.0')
    t.equal(r.headers['intent-version'], '1.0')
    t.equal(r.headers.deprecation, `@${Date.parse('2026-12-01T00:00:00Z') / 1000}`)
    t.equal(r.headers.sunset, 'Mon, 01 Mar 2027 00:00:00 GMT')
    t.equal(r.headers.link, '<https://example.org/migrate>; rel="deprecation"')

    const forwarded = JSON.parse(blue.submissions()[0]!.body)
    t.equal(forwarded.version, '2.0')
    t.equal(forwarded.owner, intent.user)
    t.equal(forwarded.nonce, String(intent.nonce))
    t.equal(forwarded.auth.signed_version, '1.0')
    t.equal(forwarded.auth.signature, intent.signature)

    const record = await store.inflightById(r.json.id)
    t.equal(record?.version, '1.0')
    t.equal(record?.upstream_version, '2.0')

    // A body without `version` is the default (1.0) and is forwarded with its version said explicitly. Its
    // signature covers the body as sent (without `version`): the one form the gateway checks.
    const bare = signIntentV1(signer, { version: undefined })
    const r2 = await call(client, 'POST', '/intents', bare)
    t.equal(r2.status, 202)
    t.equal(r2.headers['intent-version'], '1.0')
    const { version: _v, ...strippedAfterSigning } = signIntentV1(signer)
    const r3 = await call(client, 'POST', '/intents', strippedAfterSigning)
    t.equal(r3.status, 401, 'a signature over a `version` the body does not carry covers something not sent')
  })

  t.test('a 2.0 intent that 1.0 cannot express is refused with 422 before admission when the owner takes only 1.0', async (t) => {
    const blue = await startUpstream(t, '1.0')
    const { client, store } = await startGateway(t, { blue }, kind)
    const signer = makeSigner()
    const two = signIntentV2(signer, {
      inputs: [{ chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1' }, { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '2' }]
    })
    const r = await call(client, 'POST', '/intents', two)
    t.equal(r.status, 422)
    t.equal(r.json.type, 'urn:intent-gate:problem:not-representable')
    t.equal(r.headers['intent-version'], '2.0')
    t.equal(blue.submissions().length, 0)
    t.equal(await store.inflightCount(), 0)
  })
}

for (const kind of ['embedded', 'redis'] as const) t.test(`${kind} store`, async (t) => suite(t, kind))
