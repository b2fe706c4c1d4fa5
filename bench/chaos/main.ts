/**
 * `npm run chaos [-- --duration S] [--rate N] [--cluster] [--json]`: one bounded chaos run on this machine (see
 * ./run.ts for the timeline), then its figures as a table (or one JSON line with --json). Exit 0 only when no
 * intent was lost, duplicated, refused for good or left without an answer; 1 otherwise; 2 on bad flags.
 * Progress goes to stderr. Needs the build (`npm run chaos` builds first) and redis-server on the PATH.
 */
import { parseArgs } from 'node:util'
import { figuresTable } from './figures.js'
import { runChaos } from './run.js'

const USAGE = 'usage: npm run chaos -- [--duration SECONDS (default 120)] [--rate INTENTS_PER_SEC (default 200)] [--cluster] [--json]'

function positive (flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`option '${flag}' must be a positive integer, got '${raw}'\n${USAGE}\n`)
    process.exit(2)
  }
  return n
}

let values: { duration?: string, rate?: string, cluster?: boolean, json?: boolean, help?: boolean }
try {
  values = parseArgs({
    options: { duration: { type: 'string' }, rate: { type: 'string' }, cluster: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } }
  }).values
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`)
  process.exit(2)
}
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

const figures = await runChaos({
  durationMs: positive('--duration', values.duration, 120) * 1000,
  ratePerSec: positive('--rate', values.rate, 200),
  cluster: values.cluster === true,
  log: (line) => process.stderr.write(`${line}\n`)
})
process.stdout.write(values.json === true ? `${JSON.stringify(figures)}\n` : `${figuresTable(figures)}\n`)
process.exit(figures.ok ? 0 : 1)
