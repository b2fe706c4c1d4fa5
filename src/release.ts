/**
 * What this build is, in one place: its release version (kept equal to package.json's by
 * test/release/version.test.ts) and the Redis key layouts it shares a namespace with (docs/store.md,
 * "Two releases on one namespace"). `intent-gate --version`, the fleet registry and the status page read these.
 *
 * A layout is the shape of everything the gateway keeps in a namespace: records, keys, script arguments,
 * control values. Two adjacent releases must each read what the other writes, so a release `writes` one
 * layout and `reads` that one and its neighbours'. A change is made in two releases: the first reads the new
 * form and still writes the old; the next writes the new (and still reads the old, for a rollback).
 */

export const RELEASE_VERSION = '0.2.0'

export interface KeyLayouts {
  /** The layout this release writes (and marks the namespace with). */
  readonly writes: number
  /** Every layout whose data this release reads correctly, ascending; `writes` is one of them. */
  readonly reads: readonly number[]
}

/** This release: layout 2 (owner-scoped keys, split records), the one 0.1.0 reads and writes. */
export const KEY_LAYOUTS: KeyLayouts = { writes: 2, reads: [2] }
