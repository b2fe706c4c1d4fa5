// Attack 1 of issue 24: a body JSON.parse reads one way and another conforming parser another. Duplicate keys
// (a shadowed `outputs` paying the attacker), invalid UTF-8 in a shadowed duplicate, and re-spellings of the
// signed numbers all carry a valid signature over the last-wins reading. Each is refused (400 ambiguous-json,
// naming the reason and the field) before anything is registered or forwarded; the victim's genuine order sent
// afterwards is admitted, not answered with a stored refusal; a padded honest order is forwarded and stored in
// its compact form, and the sample service (which reads bodies the same way) receives exactly those bytes.
import t from 'tap'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { request } from '../helpers/gateway.js'
import { serviceStats, startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service): on the shared 2-core machine one start has taken
// 30 s under load and a whole file close to tap's 180 s, so these files get twice that.
t.setTimeout(360_000)

/** `text` with the first `"key":value` (a number) written as `spelling(value)`. */
const respell = (text: string, key: string, spelling: (n: string) => string): string =>
  text.replace(new RegExp(`"${key}":(\\d+)`), (_m, n: string) => `"${key}":${spelling(n)}`)

t.test('1.0: every ambiguous spelling of a signed order is refused; the genuine order is then admitted', async (t) => {
  const edge = await startEdgeWithService(t, '1.0')
  const victim = makeSigner()
  const attacker = makeSigner()
  const genuine = signIntentV1(victim)
  const text = JSON.stringify(genuine)
  const shadow = JSON.stringify({ ...genuine.output, min_amount: '0', recipient: attacker.addressFor('osmo') })
  const bad: Array<[string, string | Buffer, string, string]> = [
    ['a shadowed output paying the attacker', text.replace('"output":', `"output":${shadow},"output":`), 'duplicate_key', '/output'],
    ['a duplicate deep inside', text.replace('"recipient":', '"recipient":"osmo1attacker","recipient":'), 'duplicate_key', '/output/recipient'],
    ['invalid UTF-8 in a shadowed duplicate', Buffer.concat([Buffer.from(text.slice(0, -1) + ',"user":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","user":' + JSON.stringify(genuine.user) + '}')]), 'invalid_utf8', ''],
    ['a lone surrogate', text.slice(0, -1) + ',"x":"\\ud800"}', 'lone_surrogate', '/x'],
    ['nonce 1e1-style', respell(text, 'nonce', (n) => `${n}e0`), 'number_form', '/nonce'],
    ['nonce with a fraction', respell(text, 'nonce', (n) => `${n}.0`), 'number_form', '/nonce'],
    ['deadline in exponent form', respell(text, 'deadline', (n) => `${n.slice(0, 1)}.${n.slice(1)}e${n.length - 1}`), 'number_form', '/deadline']
  ]
  for (const [what, raw, reason, field] of bad) {
    const answer = await request(`${edge.gw.proxyUrl}/intents`, { raw })
    t.equal(answer.status, 400, what)
    t.equal(answer.headers.get('content-type'), 'application/problem+json')
    t.equal(answer.body.type, 'urn:intent-gate:problem:ambiguous-json', what)
    t.equal(answer.body.reason, reason, what)
    t.same(answer.body.errors.map((e: { field: string }) => e.field), [field], `${what}: the field is named`)
  }
  const zero = signIntentV1(victim, { nonce: 0 })
  const minusZero = await request(`${edge.gw.proxyUrl}/intents`, { raw: JSON.stringify(zero).replace('"nonce":0', '"nonce":-0') })
  t.equal(minusZero.body.reason, 'number_form', 'nonce -0')

  const stats = await serviceStats(edge.service)
  t.equal(stats.accepted, 0, 'nothing ambiguous reached the service')

  const answer = await edge.submit(genuine)
  t.equal(answer.status, 202, "the victim's own order is admitted: no refusal was kept under its owner and nonce")
  t.equal(answer.headers.get('idempotent-replayed'), null)
  const after = await serviceStats(edge.service)
  t.equal(after.accepted, 1)
  t.equal(after.refused['invalid_json'] ?? 0, 0, 'the service never saw an ambiguous body')
})

t.test('2.0: a padded honest order is forwarded and stored compact', async (t) => {
  const edge = await startEdgeWithService(t, '2.0')
  const owner = makeSigner()
  const intent = signIntentV2(owner)
  // About 60 KB of white space around a 1 KB order: within max_body_bytes, and none of it kept.
  const padded = JSON.stringify(intent).replaceAll(',', `,${' '.repeat(3_800)}`)
  t.ok(padded.length > 50_000, 'padded past 50 KB')
  const answer = await request(`${edge.gw.proxyUrl}/intents`, { raw: padded })
  t.equal(answer.status, 202)
  t.ok(padded.length < 65_536, `${padded.length} bytes`)
  // One record: its JSON header and a newline. Layout 3 drops the forwarded bytes of a bound record (nothing
  // resends it); the answer came after the bind, so neither the padding nor the payload is left.
  const record = await edge.redis.cli('HVALS', 'intent-gate:{default}:inflight')
  t.equal(record.slice(record.indexOf('\n') + 1), '', 'the bound record keeps no payload, padded or not')
  t.notOk(record.includes('   '), 'and no padding in its header')
  const memory = Number(await edge.redis.cli('MEMORY', 'USAGE', 'intent-gate:{default}:inflight'))
  t.ok(memory < 8_000, `the inflight hash holds ${memory} bytes, not the padding`)

  const duplicate = JSON.stringify(intent).replace('"outputs":', `"outputs":${JSON.stringify(intent.outputs)},"outputs":`)
  const refused = await request(`${edge.gw.proxyUrl}/intents`, { raw: duplicate, headers: { 'idempotency-key': 'dup-1' } })
  t.equal(refused.status, 400)
  t.equal(refused.body.reason, 'duplicate_key')
})

t.test('the sample service reads bodies the same way', async (t) => {
  const edge = await startEdgeWithService(t, '1.0')
  const text = JSON.stringify(signIntentV1(makeSigner()))
  const direct = await request(`${edge.service.url}/intents`, { raw: respell(text, 'nonce', (n) => `${n}.0`) })
  t.equal(direct.status, 400)
  t.equal(direct.body.type, 'urn:intent-service:problem:ambiguous-json')
  t.equal(direct.body.reason, 'number_form')
  const dup = await request(`${edge.service.url}/intents`, { raw: text.replace('"user":', '"user":"cosmos1x","user":') })
  t.equal(dup.body.reason, 'duplicate_key')
  t.equal((await request(`${edge.service.url}/intents`, { raw: text })).status, 202, 'the same order, written once, is taken')
})
