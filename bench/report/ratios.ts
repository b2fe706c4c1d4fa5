/**
 * The ratios issue 2 and issue 5 aim at, computed from the rows of one run. A ratio whose rows did not both run
 * (or failed) is reported as missing, never guessed.
 */
import type { CaseResult } from '../cases/context.js'
import type { TranslationCost } from '../cases/translation-cost.js'
import { cpuPerRequestUs } from './print.js'
import { countable } from './rounds.js'
import { formatValue, type Unit } from './units.js'
import type { CaseId } from '../options.js'

export interface Ratio {
  name: string
  value: number | null
  /** Display form of the aim, e.g. ">= 1.30x"; null for a reference figure without an aim. */
  aim: string | null
  met: boolean | null
  unit: Unit
}

/** Figures from the cases beside the rows, for the aims stated on them. */
export interface Extras {
  /** Redis's command time per submission (INFO commandstats) of the submit row. */
  redisUsecPerSubmission?: number
  /** The same with Redis on a core of its own (the redis-scripts case: admission and bind alone). */
  redisUsecAlone?: number
  memory?: { inflightBytes: number, endedBytes: number }
  /** One verify by the gateway's verifier, in process (the verify-cost case): what verification may add. */
  verifyUs?: number
  /** p99 of submissions while a client polls status, and without. */
  statusP99?: { polled: number, quiet: number }
}

/** A row's load result, when it counts: it ran, and every answer was good (refusals would flatter it). */
function row (rows: CaseResult[], id: CaseId): CaseResult['result'] {
  const r = rows.find((x) => x.id === id && x.error === undefined)
  return r !== undefined && countable(r) ? r.result : undefined
}

/**
 * CPU per request of a row: the median over its rounds when there are several (each round is one process; a round
 * with a bad status or an error has none), else its one run's when that counts.
 */
export function cpuOf (rows: CaseResult[], id: CaseId): number | undefined {
  const r = rows.find((x) => x.id === id && x.error === undefined)
  if (r === undefined) return undefined
  const perRound = (r.rounds ?? []).map((x) => x.cpuUsPerRequest).filter((x): x is number => x !== null).sort((a, b) => a - b)
  if (perRound.length === 0 && !countable(r)) return undefined
  const us = perRound.length > 0 ? perRound[Math.floor((perRound.length - 1) / 2)] as number : cpuPerRequestUs(r)
  return Number.isFinite(us) ? us : undefined
}

/** `min`: at least; `max`: below; `atMost`: at most. */
function ratio (
  name: string,
  value: number | null | undefined,
  aim: { min?: number, max?: number, atMost?: number } | null,
  unit: Unit
): Ratio {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : value
  const shown = (n: number): string => formatValue(n, unit, 0)
  const aimText = aim === null ? null : aim.min !== undefined ? `>= ${shown(aim.min)}` : aim.atMost !== undefined ? `<= ${shown(aim.atMost)}` : `< ${shown(aim.max ?? 0)}`
  const met = aim === null || v === null
    ? null
    : aim.min !== undefined ? v >= aim.min : aim.atMost !== undefined ? v <= aim.atMost : v < (aim.max ?? 0)
  return { name, value: v, aim: aimText, met, unit }
}

export function computeRatios (rows: CaseResult[], translation?: TranslationCost, extras: Extras = {}): Ratio[] {
  const proxy = row(rows, 'http-proxy')
  const undici = row(rows, 'undici-proxy')
  const pass = row(rows, 'pass-through')
  const submit = row(rows, 'submit')
  const translated = row(rows, 'submit-translated')
  const backend = row(rows, 'backend')
  const backendSubmit = row(rows, 'backend-submit')
  const verified = row(rows, 'submit-verified')
  const div = (a?: number, b?: number): number | null => a === undefined || b === undefined || b === 0 ? null : a / b
  return [
    ratio('pass-through req/s / bare http-proxy req/s', div(pass?.rps, proxy?.rps), { min: 1.3 }, 'x'),
    ratio('  the same by CPU per request (bare http-proxy us / pass-through us)', div(cpuOf(rows, 'http-proxy'), cpuOf(rows, 'pass-through')), { min: 1.3 }, 'x'),
    ratio('submit (Redis) req/s / pass-through req/s', div(submit?.rps, pass?.rps), { min: 0.5 }, 'x'),
    ratio('  the same by CPU per request (pass-through us / submit us)', div(cpuOf(rows, 'pass-through'), cpuOf(rows, 'submit')), { min: 0.5 }, 'x'),
    // The fair baseline (issue 30): the same body through the pass-through route; no aim of its own yet.
    ratio('  reference: the same against the POST pass-through (same body), by CPU', div(cpuOf(rows, 'pass-through-post'), cpuOf(rows, 'submit')), null, 'x'),
    ratio('  reference: what a submission costs beyond moving its bytes (submit us - POST pass-through us)', (cpuOf(rows, 'submit') ?? Number.NaN) - (cpuOf(rows, 'pass-through-post') ?? Number.NaN), null, 'us'),
    ratio('  reference: verified submission by CPU (pass-through us / verified us; --check guards it)', div(cpuOf(rows, 'pass-through'), cpuOf(rows, 'submit-verified')), null, 'x'),
    ratio('  submit p99 / pass-through p99', div(submit?.p99Ms, pass?.p99Ms), { atMost: 2 }, 'x'),
    ratio('Redis time per submission (INFO commandstats, admission and bind)', extras.redisUsecPerSubmission, { atMost: 25 }, 'us'),
    ratio('  the same with Redis on a core of its own (admission and bind alone)', extras.redisUsecAlone, { atMost: 25 }, 'us'),
    ratio('translation: added to the submission p50', submit !== undefined && translated !== undefined ? translated.p50Ms / submit.p50Ms - 1 : null, { max: 0.1 }, '%'),
    ratio('  the same by CPU (translation in process / gateway us per submission)',
      translation === undefined ? null : div(translation.translateUsPerSubmission, cpuOf(rows, 'submit')), { max: 0.1 }, '%'),
    ratio('  the same by the gateway\'s CPU per request (translated / untranslated - 1)', (div(cpuOf(rows, 'submit-translated'), cpuOf(rows, 'submit')) ?? Number.NaN) - 1, { max: 0.1 }, '%'),
    // The aim is "no more than the verify itself": the in-process verify of the same run, when it ran.
    ratio('verification: gateway CPU added per submission (verified us - submit us)', verified === undefined ? null : (cpuOf(rows, 'submit-verified') ?? Number.NaN) - (cpuOf(rows, 'submit') ?? Number.NaN),
      extras.verifyUs === undefined ? null : { atMost: extras.verifyUs }, 'us'),
    ratio('status polled under load: submit p99 polled / not polled', div(extras.statusP99?.polled, extras.statusP99?.quiet), { atMost: 1.5 }, 'x'),
    ratio('Redis memory per intent while inflight', extras.memory?.inflightBytes, { atMost: 800 }, 'bytes'),
    ratio('Redis memory per intent after it ended (idempotency retention)', extras.memory?.endedBytes, { atMost: 300 }, 'bytes'),
    ratio('reference: bare undici pool / bare http-proxy req/s', div(undici?.rps, proxy?.rps), null, 'x'),
    ratio('reference: pass-through / bare undici pool req/s', div(pass?.rps, undici?.rps), null, 'x'),
    ratio('reference: translated / untranslated submit req/s', div(translated?.rps, submit?.rps), null, 'x'),
    ratio('headroom: backend direct / pass-through req/s', div(backend?.rps, pass?.rps), null, 'x'),
    ratio('headroom: backend direct POST / submit req/s', div(backendSubmit?.rps, submit?.rps), null, 'x')
  ]
}
