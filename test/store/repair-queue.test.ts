/** The Redis store's queue of writes waiting for Redis: order, bounds, and what stops a replay. */
import t from 'tap'
import { RepairQueue } from '../../src/store/redis/repair-queue.js'

function queue (apply: (n: number) => Promise<unknown>, connected = () => true, max = 10): { q: RepairQueue<number>, logged: string[] } {
  const logged: string[] = []
  const log = {
    info: () => {},
    warn: (_: object, msg: string) => { logged.push(msg) },
    error: (_: object, msg: string) => { logged.push(msg) }
  }
  return { q: new RepairQueue<number>({ apply, connected, succeeded: () => {}, log, max, retryMs: 20 }), logged }
}

t.test('writes are replayed in the order they were kept', async (t) => {
  const applied: number[] = []
  let up = false
  const { q } = queue(async (n) => { applied.push(n) }, () => up)
  for (const n of [1, 2, 3]) q.add(n)
  t.same(applied, [], 'nothing is tried while the connection is down')
  t.equal(q.pending, 3)
  up = true
  await q.run()
  t.same(applied, [1, 2, 3])
  t.equal(q.pending, 0)
})

t.test('a lost connection stops the replay at that write, which the next run (a reconnect) tries again first', async (t) => {
  const applied: number[] = []
  let failNext = true
  const { q } = queue(async (n) => {
    if (n === 2 && failNext) { failNext = false; throw new Error('Connection is closed.') }
    applied.push(n)
  }, () => false)
  for (const n of [1, 2, 3]) q.add(n)
  await q.run()
  t.same(applied, [1], 'stopped at the write that failed')
  t.equal(q.pending, 2, 'that write and the next are kept')
  await q.run()
  t.same(applied, [1, 2, 3], 'resumed with the write that failed')
})

t.test('a write Redis refuses (not a connectivity error) is dropped and logged; the rest go on', async (t) => {
  const applied: number[] = []
  const { q, logged } = queue(async (n) => {
    if (n === 2) throw Object.assign(new Error('ERR wrong number of arguments'), { name: 'ReplyError' })
    applied.push(n)
  }, () => false)
  for (const n of [1, 2, 3]) q.add(n)
  await q.run()
  t.same(applied, [1, 3])
  t.match(logged, ['store: a replayed write failed; dropped'])
})

t.test('beyond its bound the oldest write is dropped, and logged', async (t) => {
  const { q, logged } = queue(async () => {}, () => false, 2)
  for (const n of [1, 2, 3]) q.add(n)
  t.equal(q.pending, 2)
  t.match(logged, ['store: too many writes waiting for Redis; dropped the oldest'])
  q.close()
  t.match(logged[1], /closing with writes that never reached Redis/)
})
