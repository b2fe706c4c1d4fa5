/**
 * Step: the stored inflight records' version migration (docs/design.md, protocol version upgrade: "convert remaining intents").
 * Each record the migrator changes is rewritten in place; revert puts back the checkpoint's copy of every record
 * that is still inflight.
 */
import type { InflightRecord, IntentStore } from '../../store/types.js'
import type { StoredIntentMigrator } from '../ports.js'
import type { UpgradeStep } from './step.js'

export function storedIntentsStep (store: Pick<IntentStore, 'inflight' | 'updateInflight'>, migrator: StoredIntentMigrator, targetVersion: string,
  checkpointRecords: () => InflightRecord[], onMigrated: (key: string, from: string, to: string) => void = () => {}): UpgradeStep {
  return {
    name: 'stored_intents',
    prepare: async () => ({ target_version: targetVersion }),
    apply: async () => {
      let migrated = 0
      for (const record of await store.inflight()) {
        const next = migrator.migrate(record, targetVersion)
        if (next === null || next === record) continue
        if (await store.updateInflight(next)) {
          migrated++
          onMigrated(record.key, record.upstream_version, next.upstream_version)
        }
      }
      return { migrated }
    },
    revert: async () => {
      const current = new Map((await store.inflight()).map((r) => [r.key, r]))
      for (const original of checkpointRecords()) {
        const now = current.get(original.key)
        if (now === undefined || now.upstream_version === original.upstream_version) continue
        // Only the migrated fields go back: the phase and deadline may have moved on legitimately since.
        await store.updateInflight({ ...now, intent: original.intent, upstream_version: original.upstream_version })
      }
    }
  }
}
