/**
 * The audit log's Redis door: a change of the `drain` or `active` key that no gateway made (an operator's
 * `redis-cli SET`/`DEL`) is recorded as `via: "redis"` when this instance notices it. A gateway's own writes
 * leave a note beside the key in the same transaction (CONTROL_WRITE_DOC); a change that matches it was made
 * through a door already audited, by the instance that made it. Every instance notices a change by hand, so
 * each instance's log has it.
 */
import type { ControlStore, DocumentStore } from '../store/types.js'
import type { ControlState } from '../store/types.js'
import { CONTROL_WRITE_DOC, drainValue, type ControlWrite } from '../store/control.js'
import type { AuditLog } from './audit-log.js'
import type { Logger } from '../log.js'

interface Seen { drain: string | null, active: string | null, drainState: ControlState['drain'] }

export function noticeControlChanges (store: Pick<ControlStore, 'watchControl'> & Pick<DocumentStore, 'getDoc'>, audit: Pick<AuditLog, 'record'>, logger: Logger): () => void {
  let previous: Seen | null = null
  let queue: Promise<void> = Promise.resolve()
  const stop = store.watchControl((state) => {
    const seen: Seen = { drain: state.drain === null ? null : drainValue(state.drain), active: state.active, drainState: state.drain }
    const before = previous
    previous = seen
    // The first state is where this instance starts from, not a change.
    if (before === null) return
    const changed: Array<ControlWrite['key']> = []
    if (seen.drain !== before.drain) changed.push('drain')
    if (seen.active !== before.active && seen.active !== null) changed.push('active')
    if (changed.length === 0) return
    queue = queue.then(async () => {
      const note = await store.getDoc<ControlWrite>(CONTROL_WRITE_DOC).catch(() => null)
      for (const key of changed) {
        const value = key === 'drain' ? seen.drain : seen.active
        if (note !== null && note.key === key && note.value === value) continue
        audit.record(key === 'drain' ? drainEntry(seen) : { actor: 'redis', via: 'redis', origin: null, action: 'upstreams.swap', detail: { from: before.active, to: seen.active } })
      }
    }).catch((err: unknown) => { logger.error({ err }, 'audit: cannot check a control change') })
  })
  return stop
}

function drainEntry (seen: Seen): Parameters<AuditLog['record']>[0] {
  if (seen.drainState === null) return { actor: 'redis', via: 'redis', origin: null, action: 'drain.stop', detail: {} }
  return {
    actor: 'redis',
    via: 'redis',
    origin: null,
    action: 'drain.start',
    detail: { deadline_secs: seen.drainState.deadline_secs ?? null },
    ...(seen.drainState.reason !== undefined ? { reason: seen.drainState.reason } : {})
  }
}
