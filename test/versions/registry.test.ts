/**
 * The registry as a future version would meet it: a 3.0 (one spec, one step, built here) joins 1.0 and 2.0
 * and every path between them is found; what cannot be joined is said, not guessed.
 */
import t from 'tap'
import { Type } from '@sinclair/typebox'
import { VersionCatalogImpl } from '../../src/versions/catalog.js'
import { VersionRegistry, compareVersions, newestVersion } from '../../src/versions/registry.js'
import { spec as v1 } from '../../src/versions/schemas/v1_0.js'
import { spec as v2 } from '../../src/versions/schemas/v2_0.js'
import { step as v1ToV2 } from '../../src/versions/steps/v1_0-to-v2_0.js'
import type { TranslationStep, VersionSpec } from '../../src/versions/spec.js'
import { readFileSync } from 'node:fs'

const golden = (path: string): Record<string, any> => JSON.parse(readFileSync(new URL(`./golden/${path}`, import.meta.url), 'utf8'))

const v3: VersionSpec = {
  ...v2,
  version: '3.0',
  intentSchema: Type.Object({ version: Type.Literal('3.0'), wrapped: Type.Object({}, { additionalProperties: true }) }),
  submitResponseSchema: Type.Object({ ref: Type.String() }),
  statusResponseSchema: Type.Object({ ref: Type.String(), state: Type.String() })
}

function v2ToV3 (reversible: boolean): TranslationStep {
  const up: TranslationStep = {
    from: '2.0',
    to: '3.0',
    reversible,
    migrateIntent: (intent) => ({ version: '3.0', wrapped: intent }),
    migrateSubmitResponse: (body) => ({ ref: body['intent_id'] }),
    migrateStatusResponse: (body) => ({ ref: body['intent_id'], state: body['status'] }),
    reverse: () => reversible ? down : null
  }
  const down: TranslationStep = {
    from: '3.0',
    to: '2.0',
    reversible,
    migrateIntent: (intent) => intent['wrapped'] as Record<string, unknown>,
    migrateSubmitResponse: (body) => ({ intent_id: body['ref'], status: 'accepted', version: '2.0' }),
    migrateStatusResponse: (body) => ({ intent_id: body['ref'], status: body['state'], fills: [], updated_at: 0 }),
    reverse: () => up
  }
  return up
}

t.test('a 3.0 added as one spec and one step is reached from 1.0 in two steps, and back', async (t) => {
  const catalog = new VersionCatalogImpl([v2, v3, v1], [v2ToV3(true), v1ToV2])
  t.same(catalog.known, ['1.0', '2.0', '3.0'])
  t.same(catalog.path('1.0', '3.0')?.map((s) => `${s.from}>${s.to}`), ['1.0>2.0', '2.0>3.0'])
  t.same(catalog.path('3.0', '1.0')?.map((s) => `${s.from}>${s.to}`), ['3.0>2.0', '2.0>1.0'])
  const sent = golden('1.0/intent.json')
  const v3Intent = catalog.translateIntent(sent, '1.0', '3.0')
  t.match(v3Intent, { version: '3.0', wrapped: { version: '2.0', auth: { signed_version: '1.0' } } })
  t.same(catalog.translateIntent(v3Intent, '3.0', '1.0'), sent)
  t.equal(catalog.targetVersion('1.0', ['2.0', '3.0']), '3.0', 'the newest the upstream accepts')
  t.same(catalog.translateStatusResponse({ ref: 'r', state: 'matched' }, '3.0', '1.0'), { id: 'r', status: 'pending', filled_amount: '0', tx_hash: null })
})

t.test('a step that is not reversible gives no way back', async (t) => {
  const catalog = new VersionCatalogImpl([v1, v2, v3], [v1ToV2, v2ToV3(false)])
  t.ok(catalog.path('1.0', '3.0'))
  t.equal(catalog.path('3.0', '2.0'), null)
  t.equal(catalog.targetVersion('3.0', ['1.0', '2.0']), null)
  t.throws(() => catalog.translateIntent({}, '3.0', '1.0'), { code: 'IG_ERR_NO_TRANSLATION_PATH', message: /from version 3\.0 to 1\.0/ })
})

t.test('a version with no step is known but unreachable', async (t) => {
  const registry = new VersionRegistry([v1, v2, v3], [v1ToV2])
  t.equal(registry.path('1.0', '3.0'), null)
  t.same(registry.path('3.0', '3.0'), [])
})

t.test('inconsistent registrations are refused at start', async (t) => {
  t.throws(() => new VersionRegistry([v1, v2, v1], []), /version 1\.0 is defined twice/)
  t.throws(() => new VersionRegistry([v1, v2], [v2ToV3(true)]), /names version 3\.0, which has no schema/)
  t.throws(() => new VersionRegistry([v1, v2], [v1ToV2, v1ToV2]), /two steps translate 1\.0 -> 2\.0/)
})

t.test('versions order numerically', async (t) => {
  t.same(['10.0', '2.1', '2.0', '1.0'].sort(compareVersions), ['1.0', '2.0', '2.1', '10.0'])
  t.same(['1.10', '1.9', '1.2'].sort(compareVersions), ['1.2', '1.9', '1.10'], 'minor versions too')
  t.equal(newestVersion(['1.9', '1.10', '1.2']), '1.10')
  t.equal(newestVersion([]), undefined)
})
