/**
 * The clock settler: each stage in turn over settleMs, fills once settled, and settleMs 0 settled at once.
 */
import t from 'tap'
import { ClockSettler, SANDBOX_SOLVER, type AcceptedIntent } from '../../sandbox/service/settler.js'

const intent: AcceptedIntent = {
  id: 'int_x', owner: 'cosmos1abc', nonce: '1', version: '2.0', acceptedAtMs: 1_000_000, deadline: 2_000, outputAmounts: ['5', '7'], intent: {}
}

t.test('stages follow each other evenly over settleMs, then settled with one fill per output', async (t) => {
  const settler = new ClockSettler(400)
  const at = (ms: number) => settler.progress(intent, intent.acceptedAtMs + ms)
  t.same([0, 99, 100, 199, 200, 299, 300, 399].map((ms) => at(ms).status),
    ['accepted', 'accepted', 'matched', 'matched', 'escrowed', 'escrowed', 'ibc_in_flight', 'ibc_in_flight'])
  t.same(at(0).fills, [])
  const settled = at(400)
  t.equal(settled.status, 'settled')
  t.match(settled.fills, [{ solver: SANDBOX_SOLVER, amount: '5', tx_hash: /^[0-9A-F]{64}$/ }, { amount: '7' }])
  t.equal(settled.updated_at, Math.floor(1_000_400 / 1000))
  t.same(at(10_000), settled, 'settled stays settled, unchanged')
})

t.test('settleMs 0 is settled as of the first read', async (t) => {
  t.equal(new ClockSettler(0).progress(intent, intent.acceptedAtMs).status, 'settled')
})
