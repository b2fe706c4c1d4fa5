// Rollbacks: a failed post-check (green unhealthy), a contract migration refused by the chain, a rollback that
// cannot finish (state failed, the system stays drained, an abort retries it), and auto_rollback off.
import t from 'tap'
import { admitIntent, CHECKSUM_2, harness } from './helpers/harness.js'
import { STORE_KINDS } from './helpers/stores.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

const full = { target_version: '2.0', swap_to: 'green' as const, contract: { code_id: 2, checksum: CHECKSUM_2 } }

for (const kind of STORE_KINDS) {
  t.test(`${kind.name}: green unhealthy after the swap -> rolled back to blue, old contract, store as checkpointed`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store, config: { upgrade: { drain_timeout_secs: 0, force_after_timeout: true } } })
    const preserved = await admitIntent(store, 7)
    // Green passes its pre-check, then turns unhealthy.
    h.green.failAfter = 1
    await h.coordinator.requestUpgrade({ ...full, stuck_settlement_action: 'preserve' })
    const done = await h.until([...FINAL_STATES])
    t.equal(done.state, 'rolled_back', done.error ?? '')
    t.match(done.error, /post-checks failed: api_endpoints \(active upstream green/)
    t.same(done.steps.map((s) => [s.name, s.status]), [['schema_migrations', 'reverted'], ['contract_migration', 'reverted'], ['blue_green_swap', 'reverted']])
    const control = await store.control()
    t.equal(control.active, 'blue')
    t.equal(control.upgrade, null, 'clients are served again')
    t.equal(h.contract?.codeId, 1, 'the contract is back on its old code')
    t.equal(h.contract?.version, '1.0.0', 'with its old version')
    t.same(h.contract?.migrations.map((m) => m.codeId), [2, 1])
    t.same((await store.inflight()).map((r) => r.key), [preserved.key], 'the store holds what the checkpoint had')
    t.equal(h.runner.current(), 2, 'the schema is back where it was (003 rolled back with its down)')
    t.equal(h.events.filter((e) => e.event === 'ended' && e.outcome === 'rolled_back').length, 1, 'upgrade_rollbacks_total is fed')
    const phases = done.phases.map((p) => `${p.phase}:${p.outcome ?? ''}`)
    t.same(phases.slice(-3), ['post_checks:failed', 'rolling_back:ok', 'rolled_back:ok'])
  })

  t.test(`${kind.name}: the chain refuses the contract migration -> nothing after it runs, the rest is reverted`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store })
    if (h.contract !== null) h.contract.refuse = 'to-new'
    await h.coordinator.requestUpgrade(full)
    const done = await h.until([...FINAL_STATES])
    t.equal(done.state, 'rolled_back')
    t.match(done.error, /step contract_migration failed: .*migrate refused/)
    t.same(done.steps.map((s) => [s.name, s.status]), [['schema_migrations', 'reverted'], ['contract_migration', 'reverted']], 'the swap never ran')
    t.equal((await store.control()).active ?? 'blue', 'blue')
    t.equal(h.contract?.codeId, 1)
    t.same(h.contract?.migrations, [], 'and no migration back was needed')
    t.equal((await store.control()).upgrade, null)
  })

  t.test(`${kind.name}: a rollback that cannot finish -> failed, still drained, loud; abort retries it`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store, config: { rollback: { max_rollback_attempts: 2 } } })
    h.green.failAfter = 1
    if (h.contract !== null) h.contract.refuse = 'to-old'
    await h.coordinator.requestUpgrade(full)
    const failed = await h.until([...FINAL_STATES])
    t.equal(failed.state, 'failed')
    t.equal(failed.rollback_attempts, 2)
    t.match(failed.error, /ROLLBACK COULD NOT FINISH after 2 attempt\(s\); the system stays drained/)
    const flag = (await store.control()).upgrade
    t.same([flag?.id, flag?.phase], [failed.id, 'failed'], 'the upgrade flag stays: nothing is admitted on a half-rolled-back system')
    const admit = await store.admit({ record: { key: 'k', upstream: 'blue', version: '1.0', upstream_version: '1.0', created_at_ms: 0, deadline: 0, intent: {} }, idempotencyTtlSecs: 60 })
    t.equal(admit.kind, 'refused')
    await t.rejects(h.coordinator.requestUpgrade(full), { code: 'IG_ERR_UPGRADE_CONFLICT', message: /failed and left the system drained/ })

    // The operator fixes the cause and aborts: the rollback runs again and finishes.
    if (h.contract !== null) h.contract.refuse = null
    await h.coordinator.abort()
    const done = await h.until('rolled_back')
    t.equal(h.contract?.codeId, 1)
    t.equal((await store.control()).active, 'blue')
    t.equal((await store.control()).upgrade, null)
    t.ok(done.steps.every((s) => s.status === 'reverted'))
  })

  t.test(`${kind.name}: auto_rollback off -> a failed post-check leaves it failed and drained until an abort`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store, config: { rollback: { auto_rollback: false } } })
    h.green.failAfter = 1
    await h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green' })
    const failed = await h.until([...FINAL_STATES])
    t.equal(failed.state, 'failed')
    t.match(failed.error, /auto_rollback is off/)
    t.equal((await store.control()).active, 'green', 'nothing was reverted')
    await h.coordinator.abort()
    await h.until('rolled_back')
    t.equal((await store.control()).active, 'blue')
  })
}
