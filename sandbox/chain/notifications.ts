/**
 * What a committed block publishes to subscribers, as CometBFT 0.38 sends it over /websocket: a NewBlock,
 * a NewBlockHeader and one Tx event per transaction, each with its `data` ({type, value}) and the flat
 * `events` map ("tm.event", "tx.hash", "<event type>.<attribute key>" → values) that queries match.
 */
import { fromBase64 } from '@cosmjs/encoding'
import { blockIdJson, blockJson, finalizeBlockJson, headerJson } from './cometjson.js'
import type { AbciEvent, BlockRecord } from './state.js'
import { txHash } from './tx.js'

export interface Notification {
  events: Record<string, string[]>
  data: { type: string, value: Record<string, unknown> }
}

export function flattenEvents (events: AbciEvent[], into: Record<string, string[]> = {}): Record<string, string[]> {
  for (const event of events) {
    for (const attribute of event.attributes) {
      (into[`${event.type}.${attribute.key}`] ??= []).push(attribute.value)
    }
  }
  return into
}

/** The indexed attributes of one transaction (tx_search): tx.hash, tx.height and every event attribute. */
export function txAttributes (block: BlockRecord, index: number): Record<string, string[]> {
  const tx = block.txs[index] as string
  const attributes: Record<string, string[]> = { 'tx.hash': [txHash(fromBase64(tx))], 'tx.height': [String(block.height)] }
  return flattenEvents(block.results[index]?.events ?? [], attributes)
}

export function blockNotifications (chainId: string, block: BlockRecord, previous: BlockRecord | undefined): Notification[] {
  const blockEvents = flattenEvents(block.finalizeEvents, { 'block.height': [String(block.height)] })
  const notifications: Notification[] = [
    {
      events: { ...blockEvents, 'tm.event': ['NewBlock'] },
      data: { type: 'tendermint/event/NewBlock', value: { block: blockJson(chainId, block, previous), block_id: blockIdJson(block.hash), result_finalize_block: finalizeBlockJson(block) } }
    },
    {
      events: { ...blockEvents, 'tm.event': ['NewBlockHeader'] },
      data: { type: 'tendermint/event/NewBlockHeader', value: { header: headerJson(chainId, block, previous) } }
    }
  ]
  block.txs.forEach((tx, index) => {
    notifications.push({
      events: { ...txAttributes(block, index), 'tm.event': ['Tx'] },
      data: { type: 'tendermint/event/Tx', value: { TxResult: { height: String(block.height), index, tx, result: block.results[index] } } }
    })
  })
  return notifications
}
