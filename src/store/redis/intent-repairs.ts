/**
 * The writes that record what already happened upstream (bind, release, unknown, complete) and the clean-up of
 * an admission whose answer was lost: each as a value, so one that Redis could not take is kept and replayed in
 * order when it returns (./repair-queue.ts), and how each is sent.
 */
import { endedBucketSecs, inflightHandle } from '../keys.js'
import type { StoreLogger } from '../options.js'
import type { EndedIntent } from '../types.js'
import type { AnswerTemplates } from './answer-templates.js'
import type { JournalEntry } from './admission-journal.js'
import { fingerprintArg, NO_FINGERPRINT_RAW } from './fingerprint-arg.js'
import type { IntentScripts } from './intent-scripts.js'
import type { SubmissionScripts } from './submission-scripts.js'

/** A write to replay once Redis is back. `record`: what this instance admitted, to register it again at bind. */
export type Repair =
  | { kind: 'abandon', key: string, marker: string }
  | { kind: 'bind', key: string, id: string, response: string, ttl: number, phase: string, record: JournalEntry | undefined }
  | { kind: 'release', key: string, response: string, ttl: number }
  | { kind: 'unknown', key: string, ttl: number, at: number }
  | { kind: 'complete', id: string, status: string, via: EndedIntent['via'], at: number }

export interface RepairTargets {
  submissions: SubmissionScripts
  scripts: IntentScripts
  log: StoreLogger | undefined
  /** How long an ended intent is kept for status reads (s). */
  endedRetentionSecs: number
  /** Which answers a bind keeps by template (layout 8), and the templates a replay expands. */
  templates: AnswerTemplates
}

/** Sends one write; resolves to its script's reply. */
export async function applyRepair (repair: Repair, t: RepairTargets): Promise<number> {
  switch (repair.kind) {
    case 'abandon':
      return await t.scripts.release({
        scope: repair.key, response: '', ttlSecs: 0, marker: repair.marker, fingerprint: NO_FINGERPRINT_RAW
      })
    case 'bind': {
      // The fingerprint it admitted with, when journaled: bind.lua then reads and writes the key in one command.
      const fingerprint = fingerprintArg(repair.record?.fingerprint)
      const template = t.templates.forBind(repair.response, repair.id, repair.ttl, Date.now())
      const bind = async (record: JournalEntry | undefined): Promise<number> => await t.submissions.bind({
        scope: repair.key,
        handle: inflightHandle(repair.key),
        id: repair.id,
        response: repair.response,
        ttlSecs: repair.ttl,
        phase: repair.phase,
        record: record?.json ?? '',
        upstream: record?.upstream ?? '',
        fingerprint,
        admittedAtMs: record?.createdAtMs ?? '',
        template
      })
      // The record travels again only in the rare case it went missing (see bind.lua).
      const bound = await bind(undefined)
      if (template !== null) t.templates.written(template, Date.now())
      if (bound !== 0 || repair.record === undefined) return bound
      t.log?.warn({ key: repair.key, id: repair.id }, 'store: an admitted record was missing at bind (lost in a failover, or abandoned during an outage); registered again')
      return await bind(repair.record)
    }
    case 'release':
      return await t.scripts.release({
        scope: repair.key, response: repair.response, ttlSecs: repair.ttl, marker: '', fingerprint: NO_FINGERPRINT_RAW
      })
    case 'unknown':
      return await t.scripts.markUnknown({
        scope: repair.key, nowMs: repair.at, ttlSecs: repair.ttl, fingerprint: NO_FINGERPRINT_RAW
      })
    case 'complete': {
      const width = endedBucketSecs(t.endedRetentionSecs)
      return await t.scripts.complete({
        id: repair.id,
        status: repair.status,
        via: repair.via,
        nowMs: repair.at,
        bucket: Math.floor(Date.now() / 1000 / width),
        bucketTtlSecs: t.endedRetentionSecs + 2 * width
      })
    }
  }
}
