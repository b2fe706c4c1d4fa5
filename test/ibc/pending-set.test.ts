// The pending-set bookkeeping: events add and end packets, reconciliation makes a channel's entries equal the
// chain's commitments, ages and stale flags, and (property) whatever events were missed, a reconciliation with
// the true commitments gives back exactly the packets still pending.
import t from 'tap'
import fc from 'fast-check'
import { PendingSet } from '../../src/ibc/pending-set.js'
import type { PacketEvent } from '../../src/ibc/packet-events.js'

const send = (sequence: number, channel = 'channel-0'): PacketEvent => ({ kind: 'send', port: 'transfer', channel, sequence })
const ack = (sequence: number, channel = 'channel-0'): PacketEvent => ({ kind: 'acknowledge', port: 'transfer', channel, sequence })
const timeout = (sequence: number, channel = 'channel-0'): PacketEvent => ({ kind: 'timeout', port: 'transfer', channel, sequence })

t.test('sends add packets, acknowledgements and timeouts end them; the changes name what to persist', async (t) => {
  const set = new PendingSet()
  const first = set.applyBlock([send(1), send(2), send(3)], 10, 1_000)
  t.same([...first.upserts.keys()].sort(), ['transfer/channel-0/1', 'transfer/channel-0/2', 'transfer/channel-0/3'])
  t.equal(first.deletes.size, 0)
  const second = set.applyBlock([ack(1), timeout(3), send(4), ack(4)], 11, 2_000)
  t.same([...second.upserts.keys()], [])
  t.same([...second.deletes].sort(), ['transfer/channel-0/1', 'transfer/channel-0/3', 'transfer/channel-0/4'])
  t.equal(set.size, 1)
  t.same(set.packets(), [{ port: 'transfer', channel: 'channel-0', sequence: 2, sent_height: 10, sent_at_ms: 1_000, source: 'event' }])
})

t.test('reconciliation adds committed packets it lacks and removes entries without a commitment', async (t) => {
  const set = new PendingSet()
  set.applyBlock([send(1), send(2), send(5, 'channel-9')], 10, 1_000)
  const result = set.reconcile('transfer', 'channel-0', [2, 3], 50_000)
  t.same(result.added, [3])
  t.same(result.removed, [1])
  t.ok(set.has('transfer', 'channel-9', 5), 'other channels are left alone')
  t.same(set.packets().find((p) => p.sequence === 3), { port: 'transfer', channel: 'channel-0', sequence: 3, sent_height: null, sent_at_ms: 50_000, source: 'commitment' })
  // Its send event, read later, gives it its real height and time.
  const changes = set.applyBlock([send(3)], 12, 3_000)
  t.same(changes.upserts.get('transfer/channel-0/3'), { port: 'transfer', channel: 'channel-0', sequence: 3, sent_height: 12, sent_at_ms: 3_000, source: 'event' })
  t.same(set.reconcile('transfer', 'channel-0', [2, 3], 60_000).added, [], 'a second reconciliation changes nothing')
})

t.test('age and stale flag: stale once pending longer than stale_packet_secs', async (t) => {
  const set = new PendingSet()
  set.applyBlock([send(1)], 10, 0)
  set.applyBlock([send(2)], 11, 5_000)
  const view = set.view(600_001, 600)
  t.same(view, [
    { channel: 'channel-0', port: 'transfer', sequence: 1, sent_height: 10, age_secs: 600, stale: true },
    { channel: 'channel-0', port: 'transfer', sequence: 2, sent_height: 11, age_secs: 595, stale: false }
  ])
  t.equal(set.view(600_000, 600)[0]?.stale, false, 'exactly stale_packet_secs old is not yet older than it')
})

t.test('whatever events were missed, reconciling with the true commitments gives exactly the pending packets', async (t) => {
  // A history: each packet is sent at some height and maybe finished later; some events never reach the watcher.
  const packet = fc.record({ sentAt: fc.integer({ min: 1, max: 20 }), finishAfter: fc.option(fc.integer({ min: 0, max: 10 })), finish: fc.constantFrom<'acknowledge' | 'timeout'>('acknowledge', 'timeout'), lostSend: fc.boolean(), lostFinish: fc.boolean() })
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(packet, { maxLength: 30 }), fc.integer({ min: 1, max: 35 }), (history, atHeight) => {
    const byHeight = new Map<number, PacketEvent[]>()
    const at = (h: number): PacketEvent[] => byHeight.get(h) ?? (byHeight.set(h, []).get(h) as PacketEvent[])
    const truth = new Set<number>()
    history.forEach((p, i) => {
      const sequence = i + 1
      const finishedAt = p.finishAfter === null ? null : p.sentAt + p.finishAfter
      if (p.sentAt <= atHeight && (finishedAt === null || finishedAt > atHeight)) truth.add(sequence)
      if (!p.lostSend) at(p.sentAt).push(send(sequence))
      if (finishedAt !== null && !p.lostFinish) at(finishedAt).push({ ...send(sequence), kind: p.finish })
    })
    const set = new PendingSet()
    for (let h = 1; h <= atHeight; h++) set.applyBlock(byHeight.get(h) ?? [], h, h * 1000)
    set.reconcile('transfer', 'channel-0', truth, 0)
    const pending = new Set(set.packets().map((p) => p.sequence))
    return pending.size === truth.size && [...truth].every((s) => pending.has(s))
  })))
})
