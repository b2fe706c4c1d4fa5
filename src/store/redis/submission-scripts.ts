/**
 * The two scripts every submission runs, admission and bind, sent by group commit (./group-commit.ts): the
 * admissions (binds) one instance asks for in one event-loop turn are one EVALSHA, keys shared by all of them
 * named once. What a caller gets back is what a call of its own would have given.
 */
import type { StoreKeys } from '../keys.js'
import type { BindTemplate } from './answer-templates.js'
import { GroupCommit } from './group-commit.js'
import type { ScriptedRedis } from './scripts.js'

/** At most this many admissions (binds) in one script call (a script holds Redis for its run: ~10 µs each). */
export const GROUP_MAX_ITEMS = 128

export interface AdmitItem {
  scope: string
  record: string
  upstream: string
  ttlSecs: number
  nowMs: number
  marker: string
  fingerprint: string
  /** The owner whose keys are capped, and the cap (0: none). */
  owner: string
  maxOwnerKeys: number
  /** The scope's handle (keys.ts, inflightHandle): the record's field from layout 4, its owner-set member from 3. */
  handle: string
}

export interface BindItem {
  scope: string
  /** The scope's handle (keys.ts, inflightHandle). */
  handle: string
  id: string
  response: string
  ttlSecs: number
  phase: string
  /** The record again, or '' (see bind.lua). */
  record: string
  upstream: string
  fingerprint: string
  admittedAtMs: number | ''
  /** The answer's template (layout 8, ./answer-templates.ts), or null: the answer is kept whole. */
  template: BindTemplate | null
}

/** admit.lua's reply for one admission: the kind, then what it carries. */
export type AdmitReply = Array<string | null>

export class SubmissionScripts {
  private readonly admits: GroupCommit<AdmitItem, AdmitReply>
  private readonly binds: GroupCommit<BindItem, number>

  /**
   * `layout`: the key layout this instance writes (both scripts read every form; see admit.lua).
   * `listpackValue`: Redis' hash-max-listpack-value as last read (./listpack-limit.ts).
   */
  constructor (client: ScriptedRedis, keys: StoreKeys, layout: number, listpackValue: () => number) {
    const admitKeys = [
      keys.inflight, keys.inflightOwner, keys.drain, keys.drainStarted,
      keys.upgrade, keys.inflightPhase, keys.inflightSince, keys.inflightCount, keys.replays
    ]
    const bindKeys = [
      keys.inflight, keys.inflightOwner, keys.inflightPhase, keys.inflightBound,
      keys.inflightIds, keys.inflightSince, keys.inflightCount, keys.replays
    ]
    this.admits = new GroupCommit(async (items) => {
      const args: Array<string | number> = [admitKeys.length + 3 * items.length, ...admitKeys]
      for (const item of items) args.push(keys.idem(item.scope), keys.ownerKeys(item.owner), keys.ownerCounts(item.owner))
      args.push(layout)
      for (const item of items) {
        args.push(
          item.scope, item.handle, item.record, item.upstream, item.ttlSecs,
          item.nowMs, item.marker, item.fingerprint, item.maxOwnerKeys
        )
      }
      return await client.igAdmit(...args)
    }, GROUP_MAX_ITEMS)
    this.binds = new GroupCommit(async (items) => {
      const args: Array<string | number> = [bindKeys.length + 2 * items.length, ...bindKeys]
      for (const item of items) args.push(keys.idem(item.scope), keys.answer(item.template?.ref ?? '-'))
      args.push(layout, Date.now(), listpackValue())
      for (const item of items) {
        args.push(
          item.scope, item.handle, item.id, item.response, item.ttlSecs,
          item.phase, item.record, item.upstream, item.fingerprint, item.admittedAtMs,
          item.template?.ref ?? '', item.template?.text ?? ''
        )
      }
      return await client.igBind(...args)
    }, GROUP_MAX_ITEMS)
  }

  async admit (item: AdmitItem): Promise<AdmitReply> {
    return await this.admits.call(item)
  }

  async bind (item: BindItem): Promise<number> {
    return await this.binds.call(item)
  }
}
