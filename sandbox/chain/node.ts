/**
 * The node: a mempool checked with CheckTx, a block on every tick holding everything in the mempool (and
 * the relayer's due acknowledgements), the tx index, event notifications for subscribers, and the state
 * file written after every block. One validator, instant finality.
 */
import { EventEmitter } from 'node:events'
import { fromBase64, toBase64 } from '@cosmjs/encoding'
import { checkTx, runTx, type BlockInfo, type TxOutcome } from './app.js'
import { hashHex } from './cometjson.js'
import type { KeyPair } from './keys.js'
import { runQuery } from './queries.js'
import { Relayer } from './relayer.js'
import { forkState, type StateFile, type AbciEvent, type AppState, type BlockRecord, type ChainState, type TxResultJson } from './state.js'
import { txHash } from './tx.js'

export interface NodeOptions {
  blockMs: number
  stateFile: StateFile | undefined
  relayerKey: KeyPair
}

export interface CheckTxResponse {
  hash: string
  result: TxResultJson
}

export class MempoolError extends Error {}

interface IndexedTx { height: number, index: number }

/** Events: 'block' (BlockRecord) after each committed block. */
export class ChainNode extends EventEmitter {
  readonly state: ChainState
  readonly #options: NodeOptions
  readonly #relayer: Relayer
  #checkState: AppState
  #mempool: Array<{ hash: string, bytes: Uint8Array }> = []
  readonly #txIndex = new Map<string, IndexedTx>()
  #timer: NodeJS.Timeout | undefined
  #producing = false
  #haltBlocks = false
  /** Test control (POST /sandbox/faults): remaining delivered migrations to fail, by contract address; not saved. */
  readonly faults: Record<string, number> = {}

  constructor (state: ChainState, options: NodeOptions) {
    super()
    this.setMaxListeners(0)
    this.state = state
    this.#options = options
    this.#relayer = new Relayer(options.relayerKey, state.chainId)
    this.#checkState = forkState(state.app)
    for (const block of state.blocks) {
      block.txs.forEach((tx, index) => this.#txIndex.set(txHash(fromBase64(tx)), { height: block.height, index }))
    }
  }

  get chainId (): string { return this.state.chainId }
  get latest (): BlockRecord { return this.state.blocks[this.state.blocks.length - 1] as BlockRecord }
  get earliest (): BlockRecord { return this.state.blocks[0] as BlockRecord }

  start (): void {
    if (this.state.blocks.length === 0) this.#commitBlock(Date.now())
    this.#schedule()
  }

  stop (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Test control: stop or restart block production (the chain halts; RPC keeps answering). */
  setHalted (halted: boolean): void {
    this.#haltBlocks = halted
  }

  get halted (): boolean { return this.#haltBlocks }

  blockAt (height: number): BlockRecord | undefined {
    const first = this.earliest.height
    return this.state.blocks[height - first]
  }

  findTx (hash: string): { block: BlockRecord, index: number } | undefined {
    const position = this.#txIndex.get(hash.toUpperCase())
    if (position === undefined) return undefined
    const block = this.blockAt(position.height)
    return block === undefined ? undefined : { block, index: position.index }
  }

  /** The txs waiting for the next block (what `num_unconfirmed_txs` reports). */
  mempoolSize (): { count: number, bytes: number } {
    return { count: this.#mempool.length, bytes: this.#mempool.reduce((n, entry) => n + entry.bytes.length, 0) }
  }

  /** CheckTx and, when it passes, into the mempool. */
  submitTx (bytes: Uint8Array): CheckTxResponse {
    const hash = txHash(bytes)
    if (this.#mempool.some(entry => entry.hash === hash) || this.#txIndex.has(hash)) throw new MempoolError('tx already exists in cache')
    const outcome = checkTx(this.#checkState, bytes, this.#nextBlockInfo(Date.now()))
    if (outcome.result.code === 0) {
      this.#checkState = outcome.state
      this.#mempool.push({ hash, bytes })
    }
    return { hash, result: outcome.result }
  }

  simulate (bytes: Uint8Array): TxOutcome {
    return runTx(this.#checkState, bytes, this.#nextBlockInfo(Date.now()), 0, 'simulate')
  }

  query (path: string, data: Uint8Array): Uint8Array {
    return runQuery(path, data, { app: this.state.app, height: this.latest.height, simulate: bytes => this.simulate(bytes) })
  }

  /** Resolves with the block that includes `hash`, or undefined after `timeoutMs`. */
  waitForTx (hash: string, timeoutMs: number): Promise<{ block: BlockRecord, index: number } | undefined> {
    const found = this.findTx(hash)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise(resolve => {
      const onBlock = (): void => {
        const included = this.findTx(hash)
        if (included !== undefined) { done(); resolve(included) }
      }
      const timer = setTimeout(() => { done(); resolve(undefined) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); this.off('block', onBlock) }
      this.on('block', onBlock)
    })
  }

  #nextBlockInfo (nowMs: number): BlockInfo {
    return {
      chainId: this.chainId,
      height: (this.state.blocks.at(-1)?.height ?? 0) + 1,
      timeMs: Math.max(nowMs, (this.state.blocks.at(-1)?.timeMs ?? 0) + 1)
    }
  }

  #schedule (): void {
    this.#timer = setTimeout(() => {
      try {
        if (!this.#haltBlocks) this.#produceBlock()
      } catch (error) {
        // a block that cannot be made (e.g. the state file cannot be written) is reported; the next tick retries
        process.stderr.write(`intent-gate-sandbox chain: block ${this.latest.height + 1} failed: ${(error as Error).message}\n`)
      } finally {
        if (this.#timer !== undefined) this.#schedule()
      }
    }, this.#options.blockMs)
  }

  #produceBlock (): void {
    if (this.#producing) return
    this.#producing = true
    try {
      const now = Date.now()
      const relayTx = this.#relayer.buildDueTx(this.#checkState, this.state.relayer, now)
      if (relayTx !== undefined) this.submitTx(relayTx)
      this.#commitBlock(now)
    } finally {
      this.#producing = false
    }
  }

  #commitBlock (nowMs: number): void {
    const info = this.#nextBlockInfo(nowMs)
    const txs = this.#mempool.splice(0)
    const results: TxResultJson[] = []
    let app = this.state.app
    txs.forEach((entry, index) => {
      const outcome = runTx(app, entry.bytes, { ...info, faults: this.faults }, index, 'deliver')
      app = outcome.state
      results.push(outcome.result)
    })
    const previous = this.state.blocks.at(-1)
    const finalizeEvents: AbciEvent[] = []
    // not a Merkle root: a chain of what changed, enough for clients that compare app hashes between heights
    const appHash = hashHex(JSON.stringify([previous?.appHash ?? '', info.height, results.map(result => [result.code, result.data, result.events.length])]))
    const lastResultsHash = hashHex(JSON.stringify(results.map(result => [result.code, result.data, result.gas_wanted, result.gas_used])))
    const encodedTxs = txs.map(entry => toBase64(entry.bytes))
    const block: BlockRecord = {
      height: info.height,
      timeMs: info.timeMs,
      hash: hashHex(JSON.stringify([this.chainId, info.height, info.timeMs, previous?.hash ?? '', encodedTxs])),
      appHash,
      lastResultsHash,
      txs: encodedTxs,
      results,
      finalizeEvents
    }
    this.state.app = app
    this.state.blocks.push(block)
    txs.forEach((entry, index) => this.#txIndex.set(entry.hash, { height: block.height, index }))
    this.#checkState = forkState(app)
    this.#relayer.blockDone()
    this.#options.stateFile?.save(this.state, block)
    this.emit('block', block)
  }
}
