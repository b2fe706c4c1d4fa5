/** The store contract against the embedded single-instance store. */
import t from 'tap'
import { EmbeddedStore } from '../../src/store/embedded/embedded-store.js'
import { storeConformance } from './conformance.js'

storeConformance(t, {
  create: async (t) => {
    const store = new EmbeddedStore()
    t.teardown(async () => await store.close())
    return store
  }
})
