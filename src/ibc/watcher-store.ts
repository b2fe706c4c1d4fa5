/**
 * Where the watcher keeps what must survive a restart: the last height whose events it applied (a store
 * document) and the pending packets (a store hash, one field per `port/channel/sequence`). Pending changes are
 * written BEFORE the height that caused them, so a crash in between only makes the next run apply that height
 * again, which changes nothing (adding a known packet and removing an absent one are no-ops).
 */
import type { DocumentStore } from '../store/types.js'
import type { Changes, PendingPacket } from './pending-set.js'

export const WATCHER_DOC = 'ibc:watcher'
export const PENDING_HASH = 'ibc:pending'

export interface WatcherDoc {
  last_height: number
  updated_at_ms: number
}

export interface LoadedState {
  lastHeight: number | null
  packets: PendingPacket[]
  /** Stored entries that could not be read, or are on channels no longer watched; deleted from the store. */
  dropped: string[]
}

export async function loadWatcherState (store: DocumentStore, isWatched: (port: string, channel: string) => boolean): Promise<LoadedState> {
  const doc = await store.getDoc<WatcherDoc>(WATCHER_DOC)
  const stored = await store.hashGetAll<PendingPacket>(PENDING_HASH)
  const packets: PendingPacket[] = []
  const dropped: string[] = []
  for (const [key, value] of Object.entries(stored)) {
    if (isPendingPacket(value) && isWatched(value.port, value.channel)) packets.push(value)
    else dropped.push(key)
  }
  if (dropped.length > 0) await store.hashDelete(PENDING_HASH, dropped)
  const lastHeight = doc !== null && Number.isSafeInteger(doc.last_height) && doc.last_height >= 0 ? doc.last_height : null
  return { lastHeight, packets, dropped }
}

export async function saveChanges (store: DocumentStore, changes: Changes): Promise<void> {
  if (changes.upserts.size > 0) await store.hashSet(PENDING_HASH, Object.fromEntries(changes.upserts))
  if (changes.deletes.size > 0) await store.hashDelete(PENDING_HASH, [...changes.deletes])
}

export async function saveHeight (store: DocumentStore, height: number, nowMs: number): Promise<void> {
  const doc: WatcherDoc = { last_height: height, updated_at_ms: nowMs }
  await store.setDoc(WATCHER_DOC, doc)
}

function isPendingPacket (value: unknown): value is PendingPacket {
  if (typeof value !== 'object' || value === null) return false
  const p = value as Partial<PendingPacket>
  return typeof p.port === 'string' && typeof p.channel === 'string' && Number.isSafeInteger(p.sequence) &&
    (p.sent_height === null || Number.isSafeInteger(p.sent_height)) && typeof p.sent_at_ms === 'number' &&
    (p.source === 'event' || p.source === 'commitment')
}
