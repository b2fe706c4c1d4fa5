// The chain's clock as the watcher learns it: block times kept for recent heights, the block interval measured
// as a median (one slow block does not move it), and the quiet limit derived from it.
import t from 'tap'
import { BlockClock } from '../../src/ibc/block-clock.js'

t.test('assumed block time until blocks are seen, then the median interval', async (t) => {
  const clock = new BlockClock(6000)
  t.equal(clock.quietLimitMs(5), 30_000)
  const times = [0, 100, 200, 300, 2300, 2400, 2500]
  times.forEach((time, i) => clock.record(10 + i, time))
  t.equal(clock.blockMs, 100, 'one 2 s gap does not move the median')
  t.equal(clock.quietLimitMs(5), 1000, 'at least 1 s')
  t.equal(clock.timeOf(13), 300)
  t.equal(clock.timeOf(99), undefined)
})

t.test('non-consecutive heights and clocks going backwards give no sample', async (t) => {
  const clock = new BlockClock(2000)
  clock.record(1, 1000)
  clock.record(3, 1500)
  clock.record(4, 1400)
  t.equal(clock.blockMs, 2000)
})
