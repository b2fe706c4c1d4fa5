/**
 * The chain-backed settler (`service --chain-rpc URL`): every accepted intent becomes a settlement on the
 * local chain's settlement contract (`create_settlement`, whose funds leave over IBC), and is completed
 * (`complete_settlement`) once `settleMs` has passed; the intent reads `settled` when the completion is in a
 * block, with that transaction's hash in its fills. A settlement the contract ended otherwise (a migration
 * with `refund_and_cancel`, an IBC timeout) reads `refunded` or `cancelled`.
 *
 * One signer sends everything in order: each tick sends at most one transaction holding every message that
 * is due, so sequences never race. If the chain is unreachable, work waits for the next tick. The contract
 * address and signer come from the chain's `/sandbox/info` (the genesis account `bob`), or from
 * INTENT_GATE_SANDBOX_SETTLEMENT_CONTRACT and INTENT_GATE_SANDBOX_SETTLER_MNEMONIC.
 */
import { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { toUtf8 } from '@cosmjs/encoding'
import { DirectSecp256k1HdWallet, type EncodeObject } from '@cosmjs/proto-signing'
import { calculateFee, GasPrice } from '@cosmjs/stargate'
import { UsageError } from '../../src/errors.js'
import type { StatusV2 } from '../../src/versions/schemas/v2_0.js'
import { fillsOf, type AcceptedIntent, type ChainSettlerOptions, type Progress, type Settler } from './settler.js'

const TICK_MS = 200
const INCLUSION_TIMEOUT_MS = 20_000
const MAX_MESSAGES_PER_TX = 40
const SETTLER_ACCOUNT = 'bob'

type Stage =
  | { kind: 'queued' }
  | { kind: 'created', atMs: number }
  | { kind: 'completed', atMs: number, txHash: string }
  | { kind: 'ended', atMs: number, status: StatusV2 }

interface Tracked { intent: AcceptedIntent, stage: Stage }

interface SandboxInfo { settlement_contract?: string, gas_price?: string, accounts?: Array<{ name: string, mnemonic: string }> }

export async function createChainSettler (options: ChainSettlerOptions): Promise<Settler> {
  const rpcUrl = options.rpcUrl.replace(/\/$/, '')
  let info: SandboxInfo = {}
  const contractFromEnv = process.env.INTENT_GATE_SANDBOX_SETTLEMENT_CONTRACT
  const mnemonicFromEnv = process.env.INTENT_GATE_SANDBOX_SETTLER_MNEMONIC
  if (contractFromEnv === undefined || mnemonicFromEnv === undefined) {
    try {
      const response = await fetch(`${rpcUrl}/sandbox/info`)
      if (!response.ok) throw new Error(`GET /sandbox/info answered ${response.status}`)
      info = await response.json() as SandboxInfo
    } catch (error) {
      throw new UsageError(`--chain-rpc: cannot read the local chain's /sandbox/info at ${rpcUrl} (${(error as Error).message}); ` +
        'start `intent-gate-sandbox chain` first, or set INTENT_GATE_SANDBOX_SETTLEMENT_CONTRACT and INTENT_GATE_SANDBOX_SETTLER_MNEMONIC')
    }
  }
  const contract = contractFromEnv ?? info.settlement_contract
  const mnemonic = mnemonicFromEnv ?? info.accounts?.find(account => account.name === SETTLER_ACCOUNT)?.mnemonic
  if (contract === undefined || mnemonic === undefined) throw new UsageError(`--chain-rpc: ${rpcUrl}/sandbox/info names no settlement contract or account '${SETTLER_ACCOUNT}'`)
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: 'wasm' })
  const [account] = await wallet.getAccounts()
  let client: SigningCosmWasmClient
  try {
    client = await SigningCosmWasmClient.connectWithSigner(rpcUrl, wallet)
  } catch (error) {
    throw new UsageError(`--chain-rpc: cannot connect to ${rpcUrl}: ${(error as Error).message}`)
  }
  // Opt-in: on wasmd's real contract a settlement sends its ICS-20 packet only when it holds an escrow.
  const escrow = process.env.INTENT_GATE_SANDBOX_SETTLER_ESCROW === '1'
  return new ChainSettler(client, account!.address, contract, GasPrice.fromString(info.gas_price ?? '0.025ustake'), options.settleMs, escrow)
}

export class ChainSettler implements Settler {
  readonly #tracked = new Map<string, Tracked>()
  readonly #timer: NodeJS.Timeout
  #busy = false
  #closed = false

  constructor (
    private readonly client: SigningCosmWasmClient,
    private readonly sender: string,
    private readonly contract: string,
    private readonly gasPrice: GasPrice,
    private readonly settleMs: number,
    /** Send each settlement's amount with `create_settlement` (the contract holds it, and pays it out over IBC). */
    private readonly escrow = false
  ) {
    this.#timer = setInterval(() => { this.#tick().catch(() => {}) }, TICK_MS)
    this.#timer.unref()
  }

  start (intent: AcceptedIntent): void {
    if (!this.#tracked.has(intent.id)) this.#tracked.set(intent.id, { intent, stage: { kind: 'queued' } })
  }

  progress (intent: AcceptedIntent, _nowMs: number): Progress {
    const stage = this.#tracked.get(intent.id)?.stage ?? { kind: 'queued' }
    switch (stage.kind) {
      case 'queued': return { status: 'accepted', fills: [], updated_at: Math.floor(intent.acceptedAtMs / 1000) }
      case 'created': return { status: 'ibc_in_flight', fills: [], updated_at: Math.floor(stage.atMs / 1000) }
      case 'completed': return { status: 'settled', fills: fillsOf(intent).map(fill => ({ ...fill, tx_hash: stage.txHash })), updated_at: Math.floor(stage.atMs / 1000) }
      default: return { status: stage.status, fills: [], updated_at: Math.floor(stage.atMs / 1000) }
    }
  }

  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    this.client.disconnect()
  }

  async #tick (): Promise<void> {
    if (this.#busy || this.#closed) return
    this.#busy = true
    try {
      const now = Date.now()
      const due = [...this.#tracked.values()].filter(entry =>
        entry.stage.kind === 'queued' || (entry.stage.kind === 'created' && now >= entry.intent.acceptedAtMs + this.settleMs))
      if (due.length > 0) await this.#send(due.slice(0, MAX_MESSAGES_PER_TX))
    } finally {
      this.#busy = false
    }
  }

  /** One transaction for `batch`; a message the contract refuses is taken out and the rest retried next tick. */
  async #send (batch: Tracked[]): Promise<void> {
    const messages: EncodeObject[] = batch.map(entry => {
      const msg = this.#messageFor(entry)
      const create = msg.create_settlement as { amount: string, denom: string } | undefined
      const funds = this.escrow && create !== undefined ? [{ denom: create.denom, amount: create.amount }] : []
      return { typeUrl: '/cosmwasm.wasm.v1.MsgExecuteContract', value: { sender: this.sender, contract: this.contract, msg: toUtf8(JSON.stringify(msg)), funds } }
    })
    // A completion that pays out over IBC costs about twice the gas of one that does not.
    const fee = calculateFee(150_000 + (this.escrow ? 300_000 : 150_000) * messages.length, this.gasPrice)
    let hash: string
    try {
      hash = await this.client.signAndBroadcastSync(this.sender, messages, fee)
    } catch {
      return // refused or unreachable: the next tick tries again with a fresh sequence
    }
    const tx = await this.#waitForTx(hash)
    if (tx === undefined) return
    const now = Date.now()
    if (tx.code === 0) {
      for (const entry of batch) {
        entry.stage = entry.stage.kind === 'queued' ? { kind: 'created', atMs: now } : { kind: 'completed', atMs: now, txHash: hash }
      }
      return
    }
    const failedIndex = /message index: (\d+)/.exec(tx.rawLog)?.[1]
    const failed = failedIndex === undefined ? undefined : batch[Number(failedIndex)]
    if (failed !== undefined) await this.#settleRefused(failed, now)
  }

  #messageFor (entry: Tracked): Record<string, unknown> {
    const { intent } = entry
    if (entry.stage.kind !== 'queued') return { complete_settlement: { id: intent.id } }
    const amount = intent.outputAmounts.reduce((sum, value) => sum + (/^\d+$/.test(value) ? BigInt(value) : 0n), 0n)
    const nowSecs = Math.floor(Date.now() / 1000)
    return {
      create_settlement: {
        id: intent.id,
        user: intent.owner,
        amount: (amount > 0n ? amount : 1n).toString(),
        denom: outputDenom(intent),
        // the contract refuses a timeout not after the block time; a deadline already past still gets a minute
        timeout: Math.max(intent.deadline, nowSecs + 60)
      }
    }
  }

  /**
   * The contract refused one message: find out from the settlement itself. Created already (a retry after a
   * lost inclusion) moves on; ended otherwise (refunded, cancelled) reads as such; anything else is failed.
   */
  async #settleRefused (entry: Tracked, now: number): Promise<void> {
    let phase: string | undefined
    try {
      phase = (await this.client.queryContractSmart(this.contract, { settlement: { id: entry.intent.id } }) as { phase?: string }).phase
    } catch {
      phase = undefined
    }
    const ended: Record<string, StatusV2> = { refunded: 'refunded', cancelled: 'cancelled', completed: 'settled' }
    const endedAs = phase === undefined ? undefined : ended[phase]
    if (endedAs !== undefined) entry.stage = { kind: 'ended', atMs: now, status: endedAs }
    else if (phase !== undefined && entry.stage.kind === 'queued') entry.stage = { kind: 'created', atMs: now }
    else entry.stage = { kind: 'ended', atMs: now, status: 'failed' }
  }

  async #waitForTx (hash: string): Promise<{ code: number, rawLog: string } | undefined> {
    const deadline = Date.now() + INCLUSION_TIMEOUT_MS
    while (Date.now() < deadline && !this.#closed) {
      try {
        const tx = await this.client.getTx(hash)
        if (tx !== null) return { code: tx.code, rawLog: tx.rawLog }
      } catch {
        // the chain may be restarting: keep polling until the deadline
      }
      await new Promise(resolve => setTimeout(resolve, TICK_MS / 2))
    }
    return undefined
  }
}

function outputDenom (intent: AcceptedIntent): string {
  const body = intent.intent
  const output = (Array.isArray(body.outputs) ? body.outputs[0] : body.output) as { denom?: unknown } | undefined
  return typeof output?.denom === 'string' && output.denom !== '' ? output.denom : 'ustake'
}
