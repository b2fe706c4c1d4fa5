/**
 * The stores the coordinator's tests run over. Until src/store's implementations are in the tree, only the
 * stand-in MemoryStore; each real one is added here as it lands (embedded, and Redis on a real redis-server).
 */
import type { Store } from '../../../src/store/types.js'
import type { Teardown } from './harness.js'
import { MemoryStore } from './memory-store.js'

export interface StoreKind {
  name: string
  make: (t: Teardown) => Promise<Store>
}

export const STORE_KINDS: StoreKind[] = [
  { name: 'memory stand-in', make: async () => new MemoryStore() }
]
