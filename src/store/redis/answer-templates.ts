/**
 * Answers kept by template (key layout 8). An idempotency record keeps the answer a replay sends back for the
 * whole retention, and most answers of a service differ only by the intent id in them: `202`, the same headers,
 * `{"id":"<id>","status":"pending","version":"1.0"}`. From layout 8 such an answer is kept as a reference to a
 * template shared by every intent that got the same answer, and the id: `#<ref><id>` after the state and the
 * fingerprint, instead of the whole answer (about 80 bytes less per intent, inflight and ended: the value drops
 * from jemalloc's 160-byte class to 80).
 *
 * A template is `<offset>:<the encoded answer without the id>` (the id goes back at the offset) under
 * `a:<ref>`, ref being 16 characters of its SHA-256 (content-addressed: a template never changes, so a reader
 * may keep it). It is written with an expiry longer than the idempotency TTL and written again before that
 * margin is spent, and bind.lua refers to it only while it outlives the record it writes; otherwise the answer
 * is kept whole, as up to layout 7. Only an answer this instance has seen twice (among the last SEEN_MAX
 * templates) becomes a template: an answer that carries something of its own (a timestamp, an echo of the
 * order, the id twice) is never the same twice and stays whole, so templates cannot outnumber the answers they
 * stand for.
 */
import { hash } from 'node:crypto'
import { StoreUnavailableError } from '../../errors.js'

/** The first character of a referenced answer (an answer kept whole starts with its status, or `{`). */
const MARK = '#'
/** A reference's length: 96 bits, like a record's handle. */
const REF_CHARS = 16
/** Templates this instance remembers having seen or written (least recently used dropped first). */
const SEEN_MAX = 1024
/** Templates a reader keeps (they never change). */
const CACHE_MAX = 256
/** A template is written again once this share of the idempotency TTL has passed since this instance wrote it. */
const REFRESH_SHARE = 1 / 24

export interface AnswerTemplate {
  ref: string
  /** `<offset>:<answer without the id>`. */
  text: string
}

/**
 * The answer's template: the answer without the id's first place in the body (else in the status and headers,
 * where a short id may also match); null when the id is not in it (kept whole). Whichever place is taken, the
 * template gives the very answer back for this id, and another answer shares it only when it is the same text
 * with its own id at the same place. An id in it twice leaves one literal in the template: never the same twice.
 */
export function templateOf (answer: string, id: string): AnswerTemplate | null {
  if (id === '' || answer.startsWith(MARK)) return null
  const body = answer.indexOf('\n\n')
  let at = body === -1 ? -1 : answer.indexOf(id, body + 2)
  if (at === -1) at = answer.indexOf(id)
  if (at === -1) return null
  const text = `${at}:${answer.slice(0, at)}${answer.slice(at + id.length)}`
  return { ref: refOf(text), text }
}

function refOf (text: string): string {
  return hash('sha256', text, 'base64url').slice(0, REF_CHARS)
}

/** `#<ref><id>`, what an idempotency record keeps in place of the answer. */
export function referenceTo (ref: string, id: string): string {
  return `${MARK}${ref}${id}`
}

/** The answer a template and an id stand for. */
export function expandTemplate (text: string, id: string): string {
  const colon = text.indexOf(':')
  const at = Number(text.slice(0, colon))
  const rest = text.slice(colon + 1)
  return `${rest.slice(0, at)}${id}${rest.slice(at)}`
}

/** What a bind sends with an answer: the template's ref, and its text when it is to be written (else ''). */
export interface BindTemplate { ref: string, text: string }

export interface AnswerTemplatesOptions {
  /** Whether binds may refer to templates (this instance writes layout 8 or above). */
  writes: boolean
  /** GET of a template's key; null when it is missing. */
  fetch: (ref: string) => Promise<string | null>
}

export class AnswerTemplates {
  /** ref → when this instance last wrote it (ms; null: seen once, never written), in least-recent-use order. */
  private readonly seen = new Map<string, number | null>()
  private readonly cache = new Map<string, string>()

  constructor (private readonly o: AnswerTemplatesOptions) {}

  /**
   * The template a bind of `answer` for `id` may refer to, or null (kept whole): not writing layout 8, no
   * template, or seen for the first time. Its text is sent when this instance has not written it within the
   * refresh interval; bind.lua refers to a template only while it outlives the record, whatever is sent.
   */
  forBind (answer: string, id: string, ttlSecs: number, nowMs: number): BindTemplate | null {
    if (!this.o.writes) return null
    const template = templateOf(answer, id)
    if (template === null) return null
    const { ref } = template
    const known = this.seen.has(ref)
    const writtenAt = this.seen.get(ref) ?? null
    this.remember(ref, writtenAt)
    if (!known) return null
    const fresh = writtenAt !== null && nowMs - writtenAt < ttlSecs * 1000 * REFRESH_SHARE
    this.keep(ref, template.text)
    return { ref, text: fresh ? '' : template.text }
  }

  /** A bind that carried the template's text was applied: it is in Redis, with a fresh expiry. */
  written (template: BindTemplate, atMs: number): void {
    if (template.text !== '') this.remember(template.ref, atMs)
  }

  /**
   * Redis lost its data: the templates this instance wrote went with it. Each is written again with the next bind
   * that refers to it (bind.lua would keep answers whole until the refresh interval passed otherwise).
   */
  forgetWritten (): void {
    for (const ref of this.seen.keys()) this.seen.set(ref, null)
  }

  /** The answer an idempotency record keeps, whole: a reference is expanded from its template. */
  async resolve (stored: string): Promise<string> {
    if (!stored.startsWith(MARK)) return stored
    const ref = stored.slice(1, 1 + REF_CHARS)
    const id = stored.slice(1 + REF_CHARS)
    let text = this.cache.get(ref) ?? null
    if (text === null) {
      text = await this.o.fetch(ref)
      // Content-addressed: a text that does not hash to its ref is not the template (edited by hand).
      if (text === null || refOf(text) !== ref) {
        throw new StoreUnavailableError(`store unavailable (replay): the stored answer refers to template a:${ref}, which is missing or altered; the idempotency record cannot be replayed`)
      }
      this.keep(ref, text)
    }
    return expandTemplate(text, id)
  }

  private remember (ref: string, writtenAt: number | null): void {
    this.seen.delete(ref)
    this.seen.set(ref, writtenAt)
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.keys().next().value as string)
  }

  private keep (ref: string, text: string): void {
    if (this.cache.has(ref)) return
    this.cache.set(ref, text)
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string)
  }
}
