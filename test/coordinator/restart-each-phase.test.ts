// Crash safety phase by phase: a coordinator stopped in the middle of a phase (what it was doing completes, but
// is never journaled: the worst moment to die) is replaced by a new one on the same SQLite file and store, which
// ends the upgrade completed or rolled back, never leaves the drain on, and never runs a step twice.
import t from 'tap'
import { CHECKSUM_2, FakeContract, FakeIbc, gate, harness, healthServer, type Harness } from './helpers/harness.js'
import { STORE_KINDS } from './helpers/stores.js'
import type { UpgradeState } from '../../src/coordinator/run.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const full = { target_version: '2.0', swap_to: 'green' as const, contract: { code_id: 2, checksum: CHECKSUM_2 } }

interface Hold { release: () => void, reached: Promise<void> }

/** Holds the first coordinator inside `phase`, at an await that completes after it was told to stop. */
function holdIn (h: Harness, contract: FakeContract, phase: UpgradeState): Hold {
  const g = gate()
  switch (phase) {
    case 'pre_checks':
      h.green.hold = g.wait.then(() => { h.green.hold = null })
      return { release: g.open, reached: waitHits(h, 1) }
    case 'checkpointing':
      contract.settlementsGate = g
      return { release: () => { contract.settlementsGate = null; g.open() }, reached: g.reached }
    case 'migrating':
      contract.migrateGate = g
      return { release: () => { contract.migrateGate = null; g.open() }, reached: g.reached }
    case 'post_checks':
      h.green.holdAfter = { hits: 1, until: g.wait }
      return { release: () => { h.green.holdAfter = null; g.open() }, reached: waitHits(h, 2) }
    case 'rolling_back':
      h.green.failAfter = 1 // the post-check fails: rollback; its contract revert is held
      contract.revertGate = g
      return { release: () => { contract.revertGate = null; g.open() }, reached: g.reached }
    default:
      throw new Error(`cannot hold ${phase}`)
  }
}

async function waitHits (h: Harness, n: number): Promise<void> {
  while (h.green.hits < n) await new Promise((resolve) => setTimeout(resolve, 5))
}

const expected: Record<string, { state: 'completed' | 'rolled_back', forward: number[] }> = {
  // Nothing applied yet: the new coordinator runs the whole upgrade.
  pre_checks: { state: 'completed', forward: [2] },
  checkpointing: { state: 'completed', forward: [2] },
  // The contract step was left `applying`: never run again, rolled back (its migration undone).
  migrating: { state: 'rolled_back', forward: [2, 1] },
  // Every step applied: the post-checks run again and pass.
  post_checks: { state: 'completed', forward: [2] },
  // The held revert landed but was not journaled: the new coordinator finds the contract already back, and
  // finishes the rollback without migrating again.
  rolling_back: { state: 'rolled_back', forward: [2, 1] }
}

for (const kind of STORE_KINDS) {
  for (const phase of Object.keys(expected) as UpgradeState[]) {
    t.test(`${kind.name}: stopped in ${phase}, replaced: ends ${expected[phase]?.state ?? ''}`, async (t) => {
      const store = await kind.make(t)
      const contract = new FakeContract()
      const ibc = new FakeIbc()
      const blue = await healthServer(t)
      const green = await healthServer(t)
      const a = await harness(t, { store, contract, ibc, blue, green, instanceId: 'a' })
      const hold = holdIn(a, contract, phase)
      const run = await a.coordinator.requestUpgrade(full)
      await hold.reached
      const stopped = a.coordinator.close()
      hold.release()
      await stopped
      if (phase === 'rolling_back') a.green.healthy = true // the cause is gone; the replacement must still finish the rollback
      if (phase === 'pre_checks') t.equal((await store.control()).upgrade, null, 'pre-checks never stop admission')
      else t.not((await store.control()).upgrade, null, 'the flag stays while nobody leads: nothing is admitted')

      const b = await harness(t, { store, contract, ibc, blue, green, dir: a.dir, instanceId: 'a' })
      const done = await b.until([...FINAL_STATES])
      t.equal(done.id, run.id)
      t.equal(done.state, expected[phase]?.state, done.error ?? '')
      t.same(contract.migrations.map((m) => m.codeId), expected[phase]?.forward, 'the contract migrated as expected, never twice forward')
      t.equal((await store.control()).upgrade, null, 'admission resumed')
      t.equal((await store.control()).active, done.state === 'completed' ? 'green' : 'blue')
    })
  }
}
