// The upgrade state machine end to end within one process: a full upgrade (drain waits for inflight intents,
// checkpoint, schema, contract, swap, post-checks, resume), the refusals (409), and the journal it leaves.
import t from 'tap'
import { admitIntent, CHECKSUM_2, harness } from './helpers/harness.js'
import { STORE_KINDS } from './helpers/stores.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

for (const kind of STORE_KINDS) {
  t.test(`${kind.name}: a full upgrade 1.0 on blue -> 2.0 on green, contract migrated, drain waits for inflight`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store })
    const before = [await admitIntent(store, 1), await admitIntent(store, 2)]

    const run = await h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green', contract: { code_id: 2, checksum: CHECKSUM_2 } })
    t.match(run.id, /^upg-/)
    await h.until('draining')
    const flag = (await store.control()).upgrade
    t.equal(flag?.id, run.id, 'the upgrade flag carries the id')
    t.equal(flag?.phase, 'draining')
    t.ok((flag?.resume_estimate_ms ?? 0) > Date.now(), 'and an estimate of when admission resumes')
    const refused = await store.admit({ record: { ...before[0], key: 'new:1' }, idempotencyTtlSecs: 60 } as never)
    t.equal(refused.kind, 'refused', 'no new intent is admitted while upgrading')

    // The drain waits: nothing is checkpointed while intents are inflight.
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.equal((await h.coordinator.status()).run?.state, 'draining', 'still draining with 2 inflight')
    await store.complete('intent-1', 'settled', 'response')
    await store.complete('intent-2', 'settled', 'response')

    const done = await h.until([...FINAL_STATES])
    t.equal(done.state, 'completed', done.error ?? '')
    t.same(done.phases.map((p) => p.phase), ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming', 'completed'])
    t.ok(done.phases.every((p) => p.outcome === 'ok' && p.ended_at_ms !== null && p.ended_at_ms >= p.started_at_ms), 'each phase with start, end and outcome')
    t.same(done.steps.map((s) => [s.name, s.status]), [['schema_migrations', 'applied'], ['contract_migration', 'applied'], ['blue_green_swap', 'applied']])
    // 004 (the audit log) comes after 003 in order, so it is recorded with it.
    t.same(done.steps[0]?.detail?.applied, ['003_stored_intent_migrations.sql', '004_audit_log.sql'], 'the requires_drain migration waited for the drain')
    t.equal(h.runner.current(), 4)
    t.equal((await store.control()).active, 'green')
    t.equal((await store.control()).upgrade, null, 'the flag is gone: admission resumes')
    t.equal(h.contract?.codeId, 2)
    t.same(h.contract?.migrations[0]?.msg, { new_version: '2.0', config: { preserve_inflight: true, stuck_settlement_action: 'preserve' } })
    t.equal(h.files.validate(done.checkpoint_id as string).valid, true, 'the checkpoint validates')
    t.same(h.files.read(done.checkpoint_id as string).contract?.inflight_settlements, h.contract?.settlements, 'with the contract\'s settlements')

    const row = h.db.prepare('SELECT version_from, version_to, status, state, checkpoint_id FROM upgrade_history WHERE upgrade_id = ?').get(run.id)
    t.same(row, { version_from: '1.0', version_to: '2.0', status: 'completed', state: 'completed', checkpoint_id: done.checkpoint_id })
    t.equal((h.db.prepare('SELECT COUNT(*) AS n FROM upgrade_phases WHERE upgrade_id = ?').get(run.id) as { n: number }).n, 7)
    t.equal((h.db.prepare('SELECT COUNT(*) AS n FROM inflight_checkpoints WHERE checkpoint_ref = ?').get(done.checkpoint_id) as { n: number }).n, 1)
    t.same(h.events.map((e) => e.event), ['started', 'drained', 'ended'])
    t.equal((await h.coordinator.journal.meta()).protocol_version, '2.0')
  })

  t.test(`${kind.name}: 409 while an upgrade runs and before min_upgrade_interval_secs; 400 naming the field`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store, config: { upgrade: { min_upgrade_interval_secs: 3600 } } })
    await admitIntent(store, 1)
    await h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green' })
    await t.rejects(h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green' }), { code: 'IG_ERR_UPGRADE_CONFLICT', message: /is running/ })
    await store.complete('intent-1', 'settled', 'response')
    t.equal((await h.until([...FINAL_STATES])).state, 'completed')
    await t.rejects(h.coordinator.requestUpgrade({ target_version: '1.0', swap_to: 'blue' }), { code: 'IG_ERR_UPGRADE_CONFLICT', message: /min_upgrade_interval_secs=3600/ })
    await t.rejects(h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'purple' as never }), { code: 'IG_ERR_UPGRADE_REQUEST', message: /swap_to/ })
    await t.rejects(h.coordinator.requestUpgrade({ target_version: '2.0', contract: { code_id: 2, checksum: 'abc' } }), { message: /contract\.checksum/ })
    await t.rejects(h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'blue' }), { message: /upstream blue .* does not accept version 2\.0/ })
    await t.rejects(h.coordinator.abort(), { code: 'IG_ERR_UPGRADE_CONFLICT', message: /no upgrade is running/ })
  })

  t.test(`${kind.name}: a failed pre-check changes nothing and admission never stops`, async (t) => {
    const store = await kind.make(t)
    const h = await harness(t, { store })
    h.green.healthy = false
    await h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green' })
    const done = await h.until([...FINAL_STATES])
    t.equal(done.state, 'rolled_back')
    t.match(done.error, /swap target green is not healthy/)
    t.same(done.steps, [])
    t.equal((await store.control()).upgrade, null)
    t.equal(h.contract?.migrations.length, 0)
  })
}
