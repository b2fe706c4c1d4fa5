/**
 * `intent-gate --version` (`-V`): `intent-gate <semver>`; with `--json`, one document that adds the key layout
 * this release writes and the layouts it reads (an operator checks two releases can share a namespace before
 * a rolling update: docs/store.md). Answered before the command tree is parsed: `--json` is every command's own
 * flag, and a root option of that name would take it from them.
 */
import { UsageError } from '../errors.js'
import { KEY_LAYOUTS, RELEASE_VERSION } from '../release.js'

const VERSION_FLAGS = new Set(['--version', '-V'])

/** The text to print when `args` (after the program name) ask for the version, or null when they do not. */
export function versionAnswer (args: readonly string[]): string | null {
  if (!args.some((a) => VERSION_FLAGS.has(a))) return null
  const other = args.find((a) => !VERSION_FLAGS.has(a) && a !== '--json')
  if (other !== undefined) throw new UsageError(`--version takes only --json, not ${JSON.stringify(other)}`)
  if (!args.includes('--json')) return `intent-gate ${RELEASE_VERSION}`
  return JSON.stringify({ name: 'intent-gate', version: RELEASE_VERSION, layout: { writes: KEY_LAYOUTS.writes, reads: KEY_LAYOUTS.reads } })
}
