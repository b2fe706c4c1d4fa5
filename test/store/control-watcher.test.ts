// The control watch tells its listeners every change a store reports with check(), whatever the timing: a change
// that is never delivered leaves held submissions waiting out their whole hold and the proxy on a stale active
// color (the embedded store has no poll to catch up).
import t from 'tap'
import { ControlWatcher } from '../../src/store/control-watcher.js'
import { readControl } from '../../src/store/control.js'
import type { ControlState } from '../../src/store/types.js'

const upgrading = (phase: string): ControlState => readControl({ drain: null, drainStarted: null, upgrade: JSON.stringify({ id: 'u1', phase }), active: null }, null)
const open = (): ControlState => readControl({ drain: null, drainStarted: null, upgrade: null, active: null }, null)
const microtasks = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await Promise.resolve() }

t.test('a change reported a few microtasks after the previous one is delivered, whatever the gap', async (t) => {
  // A read that answers in microtasks, as the embedded store's does: a write right after the previous check could
  // land in the instant the watcher's read loop had ended but not yet said so (it was lost at a gap of 3).
  const lost: number[] = []
  for (let gap = 0; gap < 40; gap++) {
    let state = open()
    const watcher = new ControlWatcher(async () => state, null, (err) => { throw err })
    let heard: ControlState | null = null
    watcher.watch((s) => { heard = s })
    await new Promise((resolve) => setImmediate(resolve))
    state = upgrading('rolling_back')
    watcher.check().catch(() => {})
    await microtasks(gap)
    state = open()
    watcher.check().catch(() => {})
    await new Promise((resolve) => setImmediate(resolve))
    if (heard === null || (heard as ControlState).upgrade !== null) lost.push(gap)
    watcher.close()
  }
  t.same(lost, [], 'the upgrade\'s end was heard at every gap')
})
