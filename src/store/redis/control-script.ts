/** One poll of the operator keys (scripts/control.lua), its reply by name. */
import type { StoreKeys } from '../keys.js'
import type { ScriptedRedis } from './scripts.js'

/** The raw values, each null when unset. */
export interface ControlReply {
  drain: string | null
  drainStarted: string | null
  upgrade: string | null
  active: string | null
  /** Missing or changed: Redis lost its data. */
  epoch: string | null
}

export async function pollControl (client: ScriptedRedis, k: StoreKeys, c: { nowMs: number }): Promise<ControlReply> {
  const [drain, drainStarted, upgrade, active, epoch] =
    await client.igControl(k.drain, k.drainStarted, k.upgrade, k.active, k.epoch, c.nowMs)
  return { drain, drainStarted, upgrade, active, epoch }
}
