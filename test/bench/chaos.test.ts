// The short chaos run (issue 12): the same run as `npm run chaos`, 30 s at 200 intents/s on Sentinel, with every
// fault of the timeline (bench/chaos/run.ts). Nothing may be lost, accepted twice, refused for good or left
// without an answer. Needs the build (dist/) like every test that spawns the gateway.
import t from 'tap'
import { runChaos } from '../../bench/chaos/run.js'
import { figuresTable } from '../../bench/chaos/figures.js'

t.setTimeout(400_000)

t.test('30 s of chaos on Sentinel: every intent accepted exactly once', async (t) => {
  const figures = await runChaos({ durationMs: 30_000, ratePerSec: 200, cluster: false, log: (line) => t.comment(line) })
  t.comment(`\n${figuresTable(figures)}`)
  t.comment(JSON.stringify(figures))
  t.ok(figures.sent >= 200 * 30 * 0.95, 'the clients offered about 200 intents/s')
  t.equal(figures.lost, 0, 'nothing lost')
  t.same(figures.accepted_twice, { by_both_services: 0 }, 'nothing accepted by both services')
  t.same(figures.non_retryable_errors, {}, 'no non-retryable error')
  t.equal(figures.unfinished, 0, 'every intent got its answer')
  t.equal(figures.accepted_exactly_once, figures.sent, 'every intent accepted exactly once')
  t.ok(figures.faults.some((f) => f.includes('taken over')), 'the upgrade was taken over after its leader was SIGKILLed')
  t.ok(figures.ok)
})
