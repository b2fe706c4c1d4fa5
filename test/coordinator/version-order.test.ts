// The version an upgrade starts from, when the journal has none yet, is the newest the active upstream serves,
// ordered as versions ("1.10" after "1.9"), not as numbers (1.10 < 1.9).
import t from 'tap'
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js'
import { harness, healthServer } from './helpers/harness.js'
import { FINAL_STATES } from '../../src/coordinator/run.js'

t.test('an upgrade from an upstream serving 1.9 and 1.10 starts from 1.10', async (t) => {
  const store = new EmbeddedStore()
  t.teardown(async () => await store.close())
  await store.ready()
  const blue = await healthServer(t)
  const green = await healthServer(t)
  const h = await harness(t, {
    store,
    blue,
    green,
    contract: null,
    ibc: null,
    knownVersions: ['1.9', '1.10', '2.0'],
    config: {
      versions: { accepted: ['1.9', '1.10', '2.0'], default: '1.10' },
      upstreams: { blue: { url: blue.url, versions: ['1.9', '1.10'] }, green: { url: green.url, versions: ['2.0'] } }
    }
  })
  t.same(h.config.upstreams.blue?.versions, ['1.9', '1.10'])
  const run = await h.coordinator.requestUpgrade({ target_version: '2.0', swap_to: 'green' })
  t.equal(run.from_version, '1.10')
  const done = await h.until([...FINAL_STATES])
  t.equal(done.state, 'completed', done.error ?? '')
  const row = h.db.prepare('SELECT version_from FROM upgrade_history WHERE upgrade_id = ?').get(run.id)
  t.same(row, { version_from: '1.10' }, 'the journal says so too')
})
