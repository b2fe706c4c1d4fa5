/**
 * A migration step of an upgrade: `prepare` captures what `revert` needs (written to the journal before `apply`
 * runs), `apply` makes the change, `revert` undoes it. `revert` must be safe whether `apply` ran fully, partly or
 * not at all (a coordinator killed mid-step reverts it without knowing how far it got), and safe to repeat.
 */
export type StepDetail = Record<string, unknown>

export interface UpgradeStep {
  readonly name: string
  prepare (): Promise<StepDetail>
  /** Returns facts worth keeping (merged into the step's detail), e.g. the migration transaction's hash. */
  apply (detail: StepDetail, signal: AbortSignal): Promise<StepDetail | undefined>
  /** `signal`: the coordinator stopped acting (a revert that waits, e.g. for a timeout height, gives up). */
  revert (detail: StepDetail, signal?: AbortSignal): Promise<void>
}
