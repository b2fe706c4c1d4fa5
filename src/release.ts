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

export const RELEASE_VERSION = '0.3.0'

export interface KeyLayouts {
  /** The layout this release writes (and marks the namespace with). */
  readonly writes: number
  /** Every layout whose data this release reads correctly, ascending; `writes` is one of them. */
  readonly reads: readonly number[]
}

/**
 * Layout 3, lean records: a bound inflight record keeps its header line only (the forwarded bytes are dropped
 * at bind, when no resend can need them), and an owner's key set holds a 12-character hash of each scope
 * instead of the scope. A store writes it when its `writes` is this or above.
 */
export const LEAN_LAYOUT = 3

/**
 * This release, the first step of the lean-records change: it reads layout 3 (a bound record without its
 * forwarded bytes) and still writes layout 2, which 0.2.0 beside it reads. The next release writes layout 3.
 */
export const KEY_LAYOUTS: KeyLayouts = { writes: 2, reads: [2, 3] }
