/**
 * Stored inflight intents migrated between versions during an upgrade: counts, the records' new form, and a
 * stop at the first intent the target cannot express.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { canonicalJson, createVersionCatalog, migrateStoredIntents } from '../../src/versions/index.js'

const catalog = createVersionCatalog()
const golden = (path: string): Record<string, any> => JSON.parse(readFileSync(new URL(`./golden/${path}`, import.meta.url), 'utf8'))

t.test('migrates every record not yet in the target version and reports the counts', async (t) => {
  const records = [
    { key: 'a', version: '1.0', intent: golden('1.0/intent.json') },
    { key: 'b', version: '2.0', intent: golden('2.0/intent.json') },
    { key: 'c', version: '1.0', intent: { ...golden('1.0/intent.json'), nonce: 43 } }
  ]
  const report = migrateStoredIntents(catalog, records, '2.0')
  t.match(report, { target: '2.0', total: 3, migrated: 2, unchanged: 1, failed: null })
  t.same(report.migrated_records.map((r) => [r.key, r.version]), [['a', '2.0'], ['c', '2.0']])
  t.same(report.migrated_records[0]!.intent, golden('2.0/intent-from-1.0.json'))
  t.equal(records[0]!.version, '1.0', 'the input records are left as they were')
})

t.test('migrating back restores the stored 1.0 bodies exactly', async (t) => {
  const original = [{ key: 'a', version: '1.0', intent: golden('1.0/intent.json') }]
  const up = migrateStoredIntents(catalog, original, '2.0')
  const down = migrateStoredIntents(catalog, up.migrated_records, '1.0')
  t.equal(down.migrated, 1)
  t.equal(canonicalJson(down.migrated_records[0]!.intent), canonicalJson(original[0]!.intent))
})

t.test('stops on the first record it cannot migrate, saying which and why', async (t) => {
  const records = [
    { key: 'ok', version: '2.0', intent: golden('2.0/intent-from-1.0.json') },
    { key: 'multi-asset', version: '2.0', intent: golden('2.0/intent.json') },
    { key: 'never-reached', version: '2.0', intent: golden('2.0/intent-from-1.0.json') }
  ]
  const report = migrateStoredIntents(catalog, records, '1.0')
  t.match(report, { total: 3, migrated: 1, unchanged: 0, failed: { key: 'multi-asset', from: '2.0', code: 'IG_ERR_NOT_REPRESENTABLE', reason: /exactly one input/ } })
  t.same(report.migrated_records.map((r) => r.key), ['ok'])
})

t.test('an unknown target is a failure on the first record, not a crash', async (t) => {
  const report = migrateStoredIntents(catalog, [{ key: 'a', version: '1.0', intent: golden('1.0/intent.json') }], '4.0')
  t.match(report, { migrated: 0, failed: { key: 'a', code: 'IG_ERR_NO_TRANSLATION_PATH' } })
})

t.test('an empty list is a complete run', async (t) => {
  t.match(migrateStoredIntents(catalog, [], '2.0'), { total: 0, migrated: 0, failed: null })
})
