/**
 * The coordinator's errors: schema migrations, checkpoints, upgrade refusals and failures. Each has a stable code
 * (docs/errors.md); the ones an admin client sees carry their HTTP status and problem type.
 */
import { IntentGateError, problem } from '../errors.js'

/** A migration file that cannot be parsed, or a numbering problem in `migrations/`. */
export class MigrationFileError extends IntentGateError {
  override readonly code = 'IG_ERR_MIGRATION_FILE'
}

/** A migration file changed after it was applied (its SHA-256 no longer matches the recorded one). */
export class MigrationChecksumError extends IntentGateError {
  override readonly code = 'IG_ERR_MIGRATION_CHECKSUM'
  constructor (readonly file: string, readonly recorded: string, readonly actual: string) {
    super(`migration ${file} was changed after it was applied (recorded sha256 ${recorded.slice(0, 12)}…, file now ${actual.slice(0, 12)}…); restore the file or write a new migration`)
  }
}

/** A `requires_drain: true` migration while the system is not drained. */
export class MigrationRequiresDrainError extends IntentGateError {
  override readonly code = 'IG_ERR_MIGRATION_REQUIRES_DRAIN'
  override readonly problem = problem('conflict')
  constructor (readonly file: string, why: string) {
    super(`migration ${file} requires a drained system, and the system is not drained (${why}); run it through an upgrade or drain first`)
  }
}

/** Rollback past a migration that has no `down`, or to a version that does not exist. */
export class MigrationIrreversibleError extends IntentGateError {
  override readonly code = 'IG_ERR_MIGRATION_IRREVERSIBLE'
}

/** A migration's SQL failed; nothing of it was kept (one transaction each). */
export class MigrationFailedError extends IntentGateError {
  override readonly code = 'IG_ERR_MIGRATION_FAILED'
}

/** A checkpoint that does not exist. */
export class CheckpointNotFoundError extends IntentGateError {
  override readonly code = 'IG_ERR_CHECKPOINT_NOT_FOUND'
  override readonly problem = problem('not-found')
}

/** A checkpoint whose content does not match its SHA-256, or that cannot be read. */
export class CheckpointCorruptError extends IntentGateError {
  override readonly code = 'IG_ERR_CHECKPOINT_CORRUPT'
  override readonly problem = problem('checkpoint-corrupt')
}

/** An upgrade refused: another one runs, too soon after the last, or nothing to abort. */
export class UpgradeConflictError extends IntentGateError {
  override readonly code = 'IG_ERR_UPGRADE_CONFLICT'
  override readonly problem = problem('upgrade-conflict')
}

/** An upgrade request that makes no sense (unknown color, checksum not hex, ...). */
export class UpgradeRequestError extends IntentGateError {
  override readonly code = 'IG_ERR_UPGRADE_REQUEST'
  override readonly problem = problem('invalid-request')
}

/** A phase of an upgrade failed (a pre-check, the drain timing out, a step, a post-check). */
export class UpgradePhaseError extends IntentGateError {
  override readonly code = 'IG_ERR_UPGRADE_PHASE'
  constructor (readonly phase: string, message: string, options?: { cause?: unknown }) {
    super(`${phase}: ${message}`, options)
  }
}

/** The coordinator lost its leader lease while acting; it stops and another instance takes over. */
export class LeadershipLostError extends IntentGateError {
  override readonly code = 'IG_ERR_LEADERSHIP_LOST'
}

/** The upgrade was aborted by an operator. */
export class UpgradeAbortedError extends IntentGateError {
  override readonly code = 'IG_ERR_UPGRADE_ABORTED'
}

/** `upgrade status --watch` saw the upgrade end rolled back or failed (exit status 1). */
export class UpgradeEndedError extends IntentGateError {
  override readonly code = 'IG_ERR_UPGRADE_ENDED'
}
