/**
 * The load generator's command line: `load --target URL [--rate N] [--duration S] [--version 1.0|2.0]
 * [--progress-ms N] [--poll-ms N] [--finish-timeout S]`. Bad usage is reported naming the flag (exit status 2).
 */
import { parseArgs } from 'node:util'
import { UsageError } from '../../src/errors.js'

export interface LoadOptions {
  /** The gateway (or a service): intents go to `<target>/intents`. */
  target: string
  /** New intents per second. */
  rate: number
  /** Seconds of sending; null sends until SIGTERM/SIGINT. */
  durationSecs: number | null
  version: '1.0' | '2.0'
  /** How often a progress line is printed. */
  progressMs: number
  /** How often an accepted intent's status is read until it ends. */
  pollMs: number
  /** After sending stops, how long open intents may take to get their answer and end. */
  finishTimeoutSecs: number
}

function wholeNumber (flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag}: expected a whole number of at least ${min}, got '${raw}'`)
  return n
}

export function parseLoadArgs (argv: readonly string[]): LoadOptions {
  let values
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        version: { type: 'string' },
        'progress-ms': { type: 'string' },
        'poll-ms': { type: 'string' },
        'finish-timeout': { type: 'string' }
      }
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.target === undefined) throw new UsageError('--target URL is required (the gateway, e.g. http://127.0.0.1:8080)')
  let target: URL
  try {
    target = new URL(values.target)
  } catch {
    throw new UsageError(`--target: expected an http(s) URL, got '${values.target}'`)
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new UsageError(`--target: expected an http(s) URL, got '${values.target}'`)
  const version = values.version ?? '1.0'
  if (version !== '1.0' && version !== '2.0') throw new UsageError(`--version: expected 1.0 or 2.0, got '${version}'`)
  return {
    target: target.href.replace(/\/$/, ''),
    rate: wholeNumber('--rate', values.rate, 20, 1),
    durationSecs: values.duration === undefined ? null : wholeNumber('--duration', values.duration, 0, 1),
    version,
    progressMs: wholeNumber('--progress-ms', values['progress-ms'], 1000, 50),
    pollMs: wholeNumber('--poll-ms', values['poll-ms'], 250, 10),
    finishTimeoutSecs: wholeNumber('--finish-timeout', values['finish-timeout'], 60, 1)
  }
}
