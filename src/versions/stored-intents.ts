/**
 * Migrates the gateway's stored inflight intents to another version during an upgrade (the design's
 * `migrate_inflight`). Plain data in, plain data out: the coordinator reads the records from the store, calls
 * this, writes back what it returns. It stops at the first intent the target version cannot express, so the
 * caller can roll back the ones already migrated (each step here is reversible).
 */
import { IntentGateError } from '../errors.js'
import type { Catalog } from './catalog.js'
import type { JsonObject } from './spec.js'

export interface StoredIntent {
  /** The record's identity in the caller's store (the admission key or intent id); echoed, never interpreted. */
  key: string
  /** The version `intent` is in. */
  version: string
  intent: JsonObject
}

export interface StoredIntentsReport {
  target: string
  /** Records given. */
  total: number
  /** Records translated (their new form is in `migrated_records`). */
  migrated: number
  /** Records already in the target version. */
  unchanged: number
  migrated_records: StoredIntent[]
  /** The record that stopped the run, and why; null when every record reached the target version. */
  failed: { key: string, from: string, code: string, reason: string } | null
}

export function migrateStoredIntents (catalog: Catalog, records: readonly StoredIntent[], target: string): StoredIntentsReport {
  const report: StoredIntentsReport = { target, total: records.length, migrated: 0, unchanged: 0, migrated_records: [], failed: null }
  for (const record of records) {
    if (record.version === target) {
      report.unchanged++
      continue
    }
    try {
      const intent = catalog.translateIntent(record.intent, record.version, target)
      report.migrated_records.push({ key: record.key, version: target, intent })
      report.migrated++
    } catch (err) {
      if (!(err instanceof IntentGateError)) throw err
      report.failed = { key: record.key, from: record.version, code: err.code, reason: err.message }
      break
    }
  }
  return report
}
