/** Step: the coordinator's SQLite schema migrations that are pending (including `requires_drain` ones: we hold the drain). */
import type { MigrationRunner } from '../db/migration-runner.js'
import type { StepDetail, UpgradeStep } from './step.js'

export function schemaStep (runner: MigrationRunner): UpgradeStep {
  return {
    name: 'schema_migrations',
    prepare: async () => ({ from_schema_version: runner.current() }),
    apply: async () => {
      const applied = await runner.migrate({ drain: { mode: 'drained' } })
      return { applied: applied.map((f) => f.file), to_schema_version: runner.current() }
    },
    revert: async (detail: StepDetail) => {
      const from = Number(detail.from_schema_version)
      if (runner.current() > from) runner.rollback(from)
    }
  }
}
