/**
 * The inflight records as a whole and the endings: listing, pages in admission order, counts, lookups by id,
 * edits in place (a status seen, a stored-intent migration, a checkpoint restore), and how an ended intent ended.
 * The submission path's writes (admit, bind, release, unknown, complete) are ./intent-writes.ts.
 */
import type { Color } from '../../config/schema.js'
import { InvalidCursorError } from '../../errors.js'
import { inflightHandle, ENDED_BUCKETS, endedBucketSecs, type StoreKeys } from '../keys.js'
import { checkRecord, decodeEnded, decodeEndedRoute, decodeRecord, emptyCounts, encodeRecord, endedAtSecsOf } from '../records.js'
import type { EndedIntent, EndedRoute, InflightPage, InflightRecord } from '../types.js'
import type { IntentScripts } from './intent-scripts.js'
import { unwrapMulti, type RedisCalls } from './redis-calls.js'

/** How many records past a page's end are read so same-millisecond ties never stall it. */
const PAGE_TIE_SLACK = 64

export interface InflightRecordsOptions {
  scripts: IntentScripts
  /** Writes records under short handles with compact headers (layout 4: keys.ts, inflightHandle; records.ts). */
  handles: boolean
  /** Keeps each record's owner in `inflight:owner` too (layouts up to 5; layout 6 reads it from the header). */
  ownerEntries: boolean
  /** How long an ended intent is kept for status reads (s). */
  endedRetentionSecs: number
}

export class InflightRecords {
  constructor (private readonly calls: RedisCalls, private readonly keys: StoreKeys, private readonly o: InflightRecordsOptions) {}

  async setPhase (id: string, phase: string): Promise<void> {
    await this.calls.call('setPhase', async () => await this.o.scripts.setPhase({ id, phase }))
  }

  async inflight (): Promise<InflightRecord[]> {
    const k = this.keys
    const [records, bound, phases] = await this.calls.call('inflight', async () => {
      const results = await this.calls.client.multi().hgetall(k.inflight).hgetall(k.inflightBound).hgetall(k.inflightPhase).exec()
      return unwrapMulti(results) as [Record<string, string>, Record<string, string>, Record<string, string>]
    })
    return Object.entries(records).map(([key, json]) => decodeRecord(json, bound[key] ?? null, phases[key] ?? null))
  }

  async inflightPage (limit: number, cursor: string | null): Promise<InflightPage> {
    const k = this.keys
    const client = this.calls.client
    const after = parseCursor(cursor)
    // Ties on the same millisecond are ordered by key; fetch a few more than asked so a page never stalls on them.
    const entries = await this.calls.call('inflightPage', async () => await client.zrangebyscore(k.inflightSince,
      after === null ? '-inf' : after.ms, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1 + PAGE_TIE_SLACK))
    const picked: Array<{ key: string, ms: number }> = []
    for (let i = 0; i + 1 < entries.length && picked.length <= limit; i += 2) {
      const key = entries[i] as string
      const ms = Number(entries[i + 1])
      if (after !== null && ms === after.ms && key <= after.key) continue
      picked.push({ key, ms })
    }
    const more = picked.length > limit
    const page = picked.slice(0, limit)
    if (page.length === 0) return { records: [], next_cursor: null }
    const keys = page.map((p) => p.key)
    const [records, bound, phases] = await this.calls.call('inflightPage', async () => unwrapMulti(await client.multi()
      .hmget(k.inflight, ...keys).hmget(k.inflightBound, ...keys).hmget(k.inflightPhase, ...keys).exec()
    ) as [Array<string | null>, Array<string | null>, Array<string | null>])
    const out: InflightRecord[] = []
    keys.forEach((_key, i) => {
      const json = records[i]
      if (json !== null && json !== undefined) out.push(decodeRecord(json, bound[i] ?? null, phases[i] ?? null))
    })
    const last = page[page.length - 1] as { key: string, ms: number }
    return { records: out, next_cursor: more ? encodeCursor(last.ms, last.key) : null }
  }

  async inflightCount (): Promise<number> {
    return await this.calls.call('inflightCount', async () => await this.calls.client.hlen(this.keys.inflight))
  }

  async inflightByUpstream (): Promise<Record<Color, number>> {
    const stored = await this.calls.call('inflightByUpstream', async () => await this.calls.client.hgetall(this.keys.inflightCount))
    const counts = emptyCounts()
    for (const [owner, n] of Object.entries(stored)) if (owner in counts) counts[owner as Color] = Math.max(0, Number(n))
    return counts
  }

  async oldestInflightMs (): Promise<number | null> {
    const oldest = await this.calls.call('oldestInflightMs', async () => await this.calls.client.zrange(this.keys.inflightSince, 0, 0, 'WITHSCORES'))
    return oldest.length < 2 ? null : Number(oldest[1])
  }

  async inflightById (id: string): Promise<InflightRecord | null> {
    const found = await this.calls.call('inflightById', async () => await this.o.scripts.lookup({ id }))
    if (found.length < 2) return null
    return decodeRecord(found[0] as string, id, found[1] === '' ? null : found[1] ?? null)
  }

  async updateInflight (record: InflightRecord): Promise<boolean> {
    checkRecord(record)
    const updated = await this.calls.call('updateInflight', async () => await this.o.scripts.update({
      scope: record.key,
      record: encodeRecord(record, this.o.handles),
      upstream: record.upstream,
      phase: storedPhase(record),
      id: record.id ?? ''
    }))
    return updated === 1
  }

  async replaceInflight (records: InflightRecord[]): Promise<void> {
    records.forEach(checkRecord)
    const k = this.keys
    await this.calls.call('replaceInflight', async () => {
      const tx = this.calls.client.multi()
        .del(k.inflight, k.inflightOwner, k.inflightPhase, k.inflightBound, k.inflightIds, k.inflightSince, k.inflightCount)
      for (const record of records) {
        const field = this.o.handles ? inflightHandle(record.key) : record.key
        tx.hset(k.inflight, field, encodeRecord(record, this.o.handles))
          .zadd(k.inflightSince, record.created_at_ms, field).hincrby(k.inflightCount, record.upstream, 1)
        if (this.o.ownerEntries) tx.hset(k.inflightOwner, field, record.upstream)
        if (record.phase !== 'submitting') tx.hset(k.inflightPhase, field, storedPhase(record))
        if (record.id !== null) tx.hset(k.inflightBound, field, record.id).hset(k.inflightIds, record.id, field)
      }
      unwrapMulti(await tx.exec())
    })
  }

  async endedById (id: string): Promise<EndedRoute | null> {
    const retentionSecs = this.o.endedRetentionSecs
    const width = endedBucketSecs(retentionSecs)
    const newest = Math.floor(Date.now() / 1000 / width)
    const buckets = Array.from({ length: ENDED_BUCKETS + 2 }, (_, i) => newest - i)
    const raw = await this.calls.call('endedById', async () => await this.o.scripts.endedLookup({ id, buckets }))
    if (raw === null) return null
    // The bucket outlives the retention by up to its width: the entry's own time decides. That time is whole
    // seconds rounded down, so the intent ended before at + 1: kept until the retention has surely run out.
    const at = endedAtSecsOf(raw)
    if (at !== null && (at + 1 + retentionSecs) * 1000 <= Date.now()) return null
    return decodeEndedRoute(raw)
  }

  async ended (limit: number): Promise<EndedIntent[]> {
    if (limit <= 0) return []
    const items = await this.calls.call('ended', async () => await this.calls.client.lrange(this.keys.ended, 0, limit - 1))
    return items.map(decodeEnded)
  }
}

/** A page cursor: the last record's admission time and key, `<ms>.<key>` in base64url (opaque to clients). */
function encodeCursor (ms: number, key: string): string {
  return Buffer.from(`${ms}.${key}`, 'utf8').toString('base64url')
}

function parseCursor (cursor: string | null): { ms: number, key: string } | null {
  if (cursor === null || cursor === '') return null
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const dot = text.indexOf('.')
  const ms = Number(text.slice(0, dot))
  if (dot < 1 || !Number.isFinite(ms)) throw new InvalidCursorError(cursor)
  return { ms, key: text.slice(dot + 1) }
}

/** The phase as kept in Redis: `unknown:<since ms>` carries when the outcome became unknown. */
function storedPhase (record: InflightRecord): string {
  return record.phase === 'unknown' && record.unknown_since_ms !== undefined ? `unknown:${record.unknown_since_ms}` : record.phase
}
