// Crash safety and leader election: a restarted coordinator continues the upgrade from its journal; with two
// instances on one Redis only the leader acts, a leader that loses its lease stops acting, and the other takes
// over (rolling back a step that was interrupted, never running it twice).
import t from 'tap'
import { LEADER_LEASE } from '../../src/coordinator/coordinator.js'
import { admitIntent, CHECKSUM_2, FakeContract, FakeIbc, gate, harness, healthServer } from './helpers/harness.js'
import { dropRedisLease, SHARED_STORE_KINDS, STORE_KINDS } from './helpers/stores.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const full = { target_version: '2.0', swap_to: 'green' as const, contract: { code_id: 2, checksum: CHECKSUM_2 } }

for (const kind of STORE_KINDS) {
  t.test(`${kind.name}: a coordinator stopped while draining is restarted and finishes the upgrade`, async (t) => {
    const store = await kind.make(t)
    const contract = new FakeContract()
    const a = await harness(t, { store, contract, instanceId: 'a' })
    await admitIntent(store, 1)
    const run = await a.coordinator.requestUpgrade(full)
    await a.until('draining')
    await a.coordinator.close()
    t.equal((await store.control()).upgrade?.phase, 'draining', 'the flag stays while no coordinator runs: nothing is admitted')

    // The same instance restarts on its SQLite file and the same store.
    const b = await harness(t, { store, contract, dir: a.dir, instanceId: 'a', blue: a.blue, green: a.green, ibc: a.ibc })
    await store.complete('intent-1', 'settled', 'response')
    const done = await b.until([...FINAL_STATES])
    t.equal(done.id, run.id, 'the same upgrade')
    t.equal(done.state, 'completed', done.error ?? '')
    t.same(contract.migrations.map((m) => m.codeId), [2], 'the contract migrated once')
    t.equal((await store.control()).active, 'green')
  })
}

for (const kind of SHARED_STORE_KINDS) {
  t.test(`${kind.name}: two instances: only the leader acts; when it loses its lease mid-step the other takes over and rolls back`, async (t) => {
    const storeA = await kind.make(t)
    const storeB = await (kind.sibling as NonNullable<typeof kind.sibling>)(t, storeA)
    const contract = new FakeContract()
    const ibc = new FakeIbc()
    const blue = await healthServer(t)
    const green = await healthServer(t)
    const a = await harness(t, { store: storeA, contract, ibc, blue, green, instanceId: 'a' })
    // B starts second, so A leads. B's own SQLite is empty: it learns the run from the store.
    const migrateGate = gate()
    contract.migrateGate = migrateGate
    const run = await a.coordinator.requestUpgrade(full)
    const b = await harness(t, { store: storeB, contract, ibc, blue, green, dir: a.dir, instanceId: 'b' })
    await migrateGate.reached
    t.equal((await a.coordinator.status()).leader.is_leader, true, 'A leads')
    t.equal((await b.coordinator.status()).leader.is_leader, false, 'B does not')

    // A stalls inside the contract step and its lease is gone (expired while it was stuck).
    await dropRedisLease(storeA, LEADER_LEASE)
    migrateGate.open() // A's transaction lands; A then finds its lease lost and stops acting
    const done = await b.until([...FINAL_STATES])
    t.equal(done.id, run.id)
    t.equal(done.state, 'rolled_back', done.error ?? '')
    t.match(done.error, /step contract_migration was interrupted \(applying\).*not run again/)
    t.same(contract.migrations.map((m) => m.codeId), [2, 1], 'migrated once by A, back once by B; never twice forward')
    t.equal((await storeB.control()).active ?? 'blue', 'blue')
    t.equal((await storeB.control()).upgrade, null)
    const leaders = [(await a.coordinator.status()).leader.is_leader, (await b.coordinator.status()).leader.is_leader]
    t.equal(leaders.filter(Boolean).length, 1, `exactly one instance leads (${String(leaders)})`)
    t.ok(done.fencing_token > 1, 'the rollback was written under a newer fencing token than the lost lease')
  })
}

for (const kind of SHARED_STORE_KINDS) {
  t.test(`${kind.name}: two instances: the leader dies while draining, the other takes over and finishes`, async (t) => {
    const storeA = await kind.make(t)
    const storeB = await (kind.sibling as NonNullable<typeof kind.sibling>)(t, storeA)
    const contract = new FakeContract()
    const ibc = new FakeIbc()
    const blue = await healthServer(t)
    const green = await healthServer(t)
    const a = await harness(t, { store: storeA, contract, ibc, blue, green, instanceId: 'a' })
    await admitIntent(storeA, 1)
    const run = await a.coordinator.requestUpgrade(full)
    await a.until('draining')
    const b = await harness(t, { store: storeB, contract, ibc, blue, green, dir: a.dir, instanceId: 'b' })
    t.equal((await b.coordinator.status()).run?.id, run.id, 'any instance reports the running upgrade')
    await a.coordinator.close()
    await storeB.complete('intent-1', 'settled', 'response')
    const done = await b.until([...FINAL_STATES])
    t.equal(done.state, 'completed', done.error ?? '')
    t.same(contract.migrations.map((m) => m.codeId), [2])
    t.equal((await storeB.control()).active, 'green')
    t.equal((await b.coordinator.status()).leader.is_leader, true)
  })
}

t.test('embedded store restarted (it forgets everything): the journal puts the upgrade flag back before anything is admitted', async (t) => {
  const first = await STORE_KINDS[0]!.make(t)
  const contract = new FakeContract()
  const a = await harness(t, { store: first, contract, instanceId: 'a' })
  await admitIntent(first, 1)
  const run = await a.coordinator.requestUpgrade(full)
  await a.until('draining')
  await a.coordinator.close()

  const fresh = await STORE_KINDS[0]!.make(t)
  const b = await harness(t, { store: fresh, contract, dir: a.dir, instanceId: 'a', blue: a.blue, green: a.green, start: false })
  t.equal((await fresh.control()).upgrade, null, 'the new store knows nothing')
  t.equal((await b.coordinator.reassertFlag())?.id, run.id)
  t.match((await fresh.control()).upgrade, { id: run.id, phase: 'draining' }, 'the flag is back: admission refused')
  b.coordinator.start()
  const done = await b.until([...FINAL_STATES])
  t.equal(done.state, 'completed', done.error ?? '')
  t.equal((await fresh.control()).upgrade, null)
})
