/**
 * Golden files per version (test/versions/golden/<version>/): each intent and response is valid in its version,
 * each translation gives exactly the checked-in result, each signature verifies (also after translation), and
 * the signed bytes are the checked-in canonical form, byte for byte.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { canonicalJson, createVersionCatalog } from '../../src/versions/index.js'
import { verifyIntent } from '../../src/versions/verify.js'

const catalog = createVersionCatalog()
const golden = (path: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./golden/${path}`, import.meta.url), 'utf8'))
const goldenText = (path: string): string => readFileSync(new URL(`./golden/${path}`, import.meta.url), 'utf8')

t.test('every golden intent is valid in its version and its signature verifies', async (t) => {
  for (const [version, file] of [['1.0', '1.0/intent.json'], ['2.0', '2.0/intent.json'], ['2.0', '2.0/intent-from-1.0.json']] as const) {
    const v = catalog.validateIntent(version, golden(file))
    t.ok(v.ok, `${file} is valid ${version}`)
    if (v.ok) t.same(verifyIntent(catalog, version, v.intent), { ok: true }, `${file} signature verifies`)
  }
})

t.test('every golden response is valid in its version', async (t) => {
  for (const version of ['1.0', '2.0']) {
    t.same(catalog.checkResponse('submit', version, golden(`${version}/submit-response.json`)), [], `${version} submission response`)
    t.same(catalog.checkResponse('status', version, golden(`${version}/status-response.json`)), [], `${version} status response`)
  }
  t.same(catalog.checkResponse('submit', '1.0', golden('1.0/submit-response-from-2.0.json')), [])
  t.same(catalog.checkResponse('status', '1.0', golden('1.0/status-response-from-2.0.json')), [])
})

t.test('the signed bytes are the canonical form on file', async (t) => {
  t.equal(canonicalJson(catalog.spec('1.0')!.unsigned(golden('1.0/intent.json'))), goldenText('1.0/intent.signed-bytes.txt'))
  t.equal(canonicalJson(catalog.spec('2.0')!.unsigned(golden('2.0/intent.json'))), goldenText('2.0/intent.signed-bytes.txt'))
})

t.test('translations give the golden results', async (t) => {
  t.same(catalog.translateIntent(golden('1.0/intent.json'), '1.0', '2.0'), golden('2.0/intent-from-1.0.json'))
  t.same(catalog.translateIntent(golden('2.0/intent-from-1.0.json'), '2.0', '1.0'), golden('1.0/intent.json'))
  t.same(catalog.translateSubmitResponse(golden('2.0/submit-response.json'), '2.0', '1.0'), golden('1.0/submit-response-from-2.0.json'))
  t.same(catalog.translateStatusResponse(golden('2.0/status-response.json'), '2.0', '1.0'), golden('1.0/status-response-from-2.0.json'))
})

t.test('the golden native 2.0 intent is refused by 1.0 with every reason', async (t) => {
  t.throws(() => catalog.translateIntent(golden('2.0/intent.json'), '2.0', '1.0'), {
    code: 'IG_ERR_NOT_REPRESENTABLE',
    message: /exactly one input, this intent has 2.*open_deadline.*max_solver_fee_bps.*nonce 18446744073709551615.*2\.0 form/
  })
})
