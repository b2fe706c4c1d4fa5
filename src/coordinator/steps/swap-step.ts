/** Step: the blue-green swap. New intents go to `to`; inflight intents keep their owner. */
import type { Color } from '../../config/schema.js'
import type { ControlStore } from '../../store/types.js'
import type { UpgradeStep } from './step.js'

export function swapStep (store: Pick<ControlStore, 'setActive'>, from: Color, to: Color): UpgradeStep {
  return {
    name: 'blue_green_swap',
    prepare: async () => ({ from, to }),
    apply: async () => {
      await store.setActive(to)
      return undefined
    },
    revert: async () => { await store.setActive(from) }
  }
}
