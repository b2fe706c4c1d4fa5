/**
 * The namespace's key layout, checked at every connection and never rewritten under running instances
 * (docs/store.md, "Two releases on one namespace"). The `layout` key names the newest layout anyone writes in
 * the namespace. An instance shares the namespace when it reads that layout; a release that writes a newer
 * one raises the mark (only upward, so a rollback to the release before leaves it: that one reads it too).
 * A namespace without the mark is new (it gets this release's) or holds the first layout's records (bare keys,
 * from before 0.1.0), which 0.1.0 migrated and this release no longer reads.
 */
import { LayoutMismatchError, StoreUnavailableError } from '../../errors.js'
import type { KeyLayouts } from '../../release.js'
import { isInflightHandle, type StoreKeys } from '../keys.js'
import type { RedisClient } from './connection.js'

/** Sets the mark to ARGV[2] only while it still says ARGV[1] (another instance may raise it meanwhile). */
const RAISE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0
`

/** Raises the mark from `from` to `to`; false when another instance changed it first. */
async function raiseMark (client: RedisClient, k: StoreKeys, c: { from: string, to: number }): Promise<boolean> {
  return Number(await client.eval(RAISE, 1, k.layout, c.from, String(c.to))) === 1
}

/** How many records of the first layout (before 0.1.0) the check looks through for a bare key. */
const SCAN_COUNT = 1000

/**
 * Resolves to the namespace's layout once it is one this release shares (marking a new namespace, or raising
 * the mark to `layouts.writes`); rejects with LayoutMismatchError, having written nothing, when it is not.
 */
export async function checkLayout (client: RedisClient, k: StoreKeys, layouts: KeyLayouts): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const current = await client.get(k.layout)
    if (current === null) {
      const bare = await firstBareKey(client, k)
      if (bare !== null) throw new LayoutMismatchError('1', layouts.writes, layouts.reads, `its inflight records are keyed by bare keys, e.g. "${bare}", and no layout is marked; 0.1.0 moves them to layout 2 at start`)
      if (await client.set(k.layout, String(layouts.writes), 'NX') === 'OK') return layouts.writes
      continue // another instance marked it first: check what it wrote
    }
    const found = /^[1-9][0-9]{0,5}$/.test(current) ? Number(current) : null
    if (found === null || !layouts.reads.includes(found)) {
      throw new LayoutMismatchError(JSON.stringify(current).slice(1, -1), layouts.writes, layouts.reads, `the key ${k.layout}`)
    }
    if (found >= layouts.writes) return found
    if (await raiseMark(client, k, { from: current, to: layouts.writes })) return layouts.writes
    if (attempt > 10) throw new Error('the namespace\'s layout mark keeps changing while this instance checks it')
  }
}

/**
 * A field of `inflight` that is neither an owner-scoped admission scope (`o:...`) nor a scope's handle (layout
 * 4): the first layout's, or null.
 */
async function firstBareKey (client: RedisClient, k: StoreKeys): Promise<string | null> {
  let cursor = '0'
  do {
    // Fields and values alternate (NOVALUES needs Redis 7.4).
    const [next, entries] = await client.hscan(k.inflight, cursor, 'COUNT', SCAN_COUNT)
    for (let i = 0; i < entries.length; i += 2) {
      const field = entries[i] as string
      if (!field.startsWith('o:') && !isInflightHandle(field)) return field
    }
    cursor = next
  } while (cursor !== '0')
  return null
}

/**
 * Whether the namespace's layout is one this instance shares: nothing is admitted, nor the registry written,
 * until a connection has checked it, nor while it is one this instance cannot share (then the refusal, kept for
 * health and start).
 */
export class LayoutGate {
  state: 'unchecked' | 'shared' | LayoutMismatchError = 'unchecked'

  get shared (): boolean {
    return this.state === 'shared'
  }

  /** Throws StoreUnavailableError unless the layout is shared. */
  require (op: string): void {
    if (this.state !== 'shared') {
      const why = this.state === 'unchecked' ? 'the namespace\'s key layout is not checked yet' : this.state.message
      throw new StoreUnavailableError(`store unavailable (${op}): ${why}`)
    }
  }
}
