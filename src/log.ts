/**
 * The logger factory: pino writing JSON lines to stderr (stdout carries the one machine-readable "listening"
 * line and command output). Secrets never reach a log line: the admin token and the signer mnemonic are
 * redacted wherever they appear in a logged object, and the parts are expected to log env var NAMES only.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/** Paths pino censors in every logged object (one level of nesting covers `{req: {headers}}` and `{config}`). */
export const REDACTED_PATHS: readonly string[] = [
  'token', '*.token', 'admin_token', '*.admin_token',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'mnemonic', '*.mnemonic', 'signer_mnemonic', '*.signer_mnemonic'
]

export interface LoggerOptions {
  /** A pino level name (the config schema allows only valid ones). */
  level: LevelWithSilent | string
  /** Where the lines go; stderr unless a test captures them. */
  destination?: NodeJS.WritableStream
  /** Fixed fields on every line. */
  base?: Record<string, unknown>
}

export function createLogger (options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { name: 'intent-gate', ...options.base },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' }
  }, options.destination ?? pino.destination({ fd: 2, sync: true }))
}
