/** The store contract against the embedded single-instance store. */
import t from 'tap'
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js'
import { record, storeConformance } from './conformance.js'

storeConformance(t, {
  create: async (t) => {
    const store = new EmbeddedStore()
    t.teardown(async () => await store.close())
    return store
  }
})

t.test('an ended intent is forgotten after the configured retention', async (t) => {
  const store = new EmbeddedStore(undefined, { endedRetentionSecs: 1 })
  t.teardown(async () => await store.close())
  const rec = record()
  await store.admit({ record: rec, idempotencyTtlSecs: 60 })
  await store.bind(rec.key, 'retained', { status: 202, headers: {}, body: '{}' }, 60)
  await store.complete('retained', 'settled', 'response')
  t.match(await store.endedById('retained'), { upstream: 'blue', status: 'settled' })
  await new Promise((resolve) => setTimeout(resolve, 1100)) // the retention has to run out: there is no event for it
  t.equal(await store.endedById('retained'), null)
})
