/** Builds ABCI events in CometBFT 0.38 form: attribute keys and values are plain strings, every one indexed. */
import type { AbciEvent } from './state.js'

export function abciEvent (type: string, attributes: Array<[string, string]>, msgIndex?: number): AbciEvent {
  const all = msgIndex === undefined ? attributes : [...attributes, ['msg_index', String(msgIndex)] as [string, string]]
  return { type, attributes: all.map(([key, value]) => ({ key, value, index: true })) }
}
