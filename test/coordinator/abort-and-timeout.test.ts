// Abort in each phase (rolls back what was done, resumes the old version), and the drain timeout: without
// force it aborts and resumes; with force_after_timeout each stuck_settlement_action does what docs/design.md says.
import t from 'tap'
import { admitIntent, CHECKSUM_2, gate, harness, type Harness } from './helpers/harness.js'
import { STORE_KINDS } from './helpers/stores.js'
import type { UpgradeState } from '../../src/coordinator/run.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const full = { target_version: '2.0', swap_to: 'green' as const, contract: { code_id: 2, checksum: CHECKSUM_2 } }

/** Holds the upgrade inside `phase` until the returned release is called. */
async function holdIn (h: Harness, phase: UpgradeState): Promise<() => void> {
  const contract = h.contract as NonNullable<Harness['contract']>
  switch (phase) {
    case 'pre_checks': {
      let release!: () => void
      h.green.hold = new Promise((resolve) => { release = resolve })
      return () => { h.green.hold = null; release() }
    }
    case 'draining': {
      await admitIntent(h.store, 99)
      return () => { h.store.complete('intent-99', 'settled', 'response').catch(() => {}) }
    }
    case 'checkpointing': {
      const g = gate()
      contract.settlementsGate = g
      return () => { contract.settlementsGate = null; g.open() }
    }
    case 'migrating': {
      const g = gate()
      contract.migrateGate = g
      return () => { g.open() }
    }
    case 'post_checks': {
      // Green answers its pre-check at once; the post-check waits for the release.
      const g = gate()
      h.green.holdAfter = { hits: 1, until: g.wait }
      return g.open
    }
    default:
      throw new Error(`cannot hold ${phase}`)
  }
}

for (const kind of STORE_KINDS) {
  for (const phase of ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks'] as UpgradeState[]) {
    t.test(`${kind.name}: abort during ${phase} -> rolled back, blue active, old contract, admission resumed`, async (t) => {
      const store = await kind.make(t)
      const h = await harness(t, { store })
      const release = await holdIn(h, phase)
      await h.coordinator.requestUpgrade(full)
      await h.until(phase)
      await h.coordinator.abort()
      release()
      const done = await h.until([...FINAL_STATES])
      t.equal(done.state, 'rolled_back', done.error ?? '')
      t.match(done.error ?? '', phase === 'migrating' || phase === 'pre_checks' ? /aborted by an operator/ : /aborted by an operator during/)
      t.equal((await store.control()).active ?? 'blue', 'blue')
      t.equal(h.contract?.codeId, 1)
      t.equal((await store.control()).upgrade, null)
      t.ok(done.steps.every((s) => s.status === 'reverted'), 'every step that ran was reverted')
      if (phase !== 'pre_checks') t.ok(h.events.some((e) => e.event === 'ended' && e.outcome === 'rolled_back'))
    })
  }

  t.test(`${kind.name}: drain timeout without force -> aborted, nothing changed, admission resumes`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store })
    await admitIntent(store, 1)
    await h.coordinator.requestUpgrade({ ...full, drain_timeout_secs: 0 })
    const done = await h.until([...FINAL_STATES])
    t.equal(done.state, 'rolled_back')
    t.match(done.error, /drain timed out: 1 inflight intent\(s\) and 0 pending IBC packet\(s\) left after drain_timeout_secs=0/)
    t.same(done.steps, [])
    t.equal(done.checkpoint_id, null)
    t.equal((await store.control()).upgrade, null)
    t.equal(await store.inflightCount(), 1, 'the inflight intent is untouched')
  })

  t.test(`${kind.name}: pending IBC packets hold the drain too`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store })
    h.ibc?.packets.push({ channel: 'channel-0', sequence: 5 })
    await h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green', drain_timeout_secs: 0 })
    const done = await h.until([...FINAL_STATES])
    t.match(done.error, /0 inflight intent\(s\) and 1 pending IBC packet/)
  })

  t.test(`${kind.name}: force_after_timeout + extend_timeout -> timeouts extended on chain and in the store, upgrade completes`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store, config: { upgrade: { extend_timeout_secs: 3600 } } })
    const before = await admitIntent(store, 1)
    await h.coordinator.requestUpgrade({ ...full, drain_timeout_secs: 0, force_after_timeout: true })
    const done = await h.until([...FINAL_STATES])
    t.equal(done.state, 'completed', done.error ?? '')
    t.same(h.contract?.extended, [{ ids: ['s-1'], secs: 3600 }])
    t.equal((await store.inflightById('intent-1'))?.deadline, before.deadline + 3600)
    t.same(done.drain.stuck_action, 'extend_timeout')
    t.same(h.contract?.migrations[0]?.msg, { new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve' } }, 'the MigrateMsg does not extend them a second time')
    t.equal(h.files.read(done.checkpoint_id as string).inflight.length, 1, 'the stuck intent is in the checkpoint')
  })

  t.test(`${kind.name}: force_after_timeout + preserve -> kept as they are, owner unchanged`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store })
    const before = await admitIntent(store, 1)
    await h.coordinator.requestUpgrade({ ...full, drain_timeout_secs: 0, force_after_timeout: true, stuck_settlement_action: 'preserve' })
    t.equal((await h.until([...FINAL_STATES])).state, 'completed')
    t.same(await store.inflightById('intent-1'), before, 'untouched, still owned by blue')
    t.same(h.contract?.extended, [])
  })

  t.test(`${kind.name}: force_after_timeout + refund_and_cancel -> ended as cancelled, the contract told to refund`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store })
    await admitIntent(store, 1)
    await h.coordinator.requestUpgrade({ ...full, drain_timeout_secs: 0, force_after_timeout: true, stuck_settlement_action: 'refund_and_cancel' })
    t.equal((await h.until([...FINAL_STATES])).state, 'completed')
    t.equal(await store.inflightCount(), 0)
    t.match((await store.ended(10))[0], { id: 'intent-1', status: 'cancelled' })
    t.match(h.contract?.migrations[0]?.msg, { config: { stuck_settlement_action: 'refund_and_cancel' } })
  })
}
