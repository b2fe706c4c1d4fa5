/**
 * The settlement contract client over cosmjs: reads (inflight settlements, the cw2 version, code id and admin,
 * a code's checksum) and the two writes the coordinator needs: `migrate` (MsgMigrateContract with the design's
 * MigrateMsg) and `extendTimeout` (one MsgExecuteContract per settlement, batched into few transactions).
 *
 * Every refusal that can be decided locally happens BEFORE anything is signed: a malformed MigrateMsg, a code id
 * that does not exist or whose checksum is not the expected one, a signer that is not the contract's admin.
 * Fees come from a simulation and `chain.gas_price`; a refusal during simulation sends nothing either. Every
 * transaction carries `timeout_height` (the chain's height + `chain.tx_timeout_blocks`, or one the caller chose and
 * journaled first), so one that was not in a block by then never will be.
 */
import { CosmWasmClient, SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { sha256 } from '@cosmjs/crypto'
import { toHex, toUtf8, fromUtf8 } from '@cosmjs/encoding'
import type { EncodeObject } from '@cosmjs/proto-signing'
import { calculateFee, GasPrice, type StdFee } from '@cosmjs/stargate'
import { MsgExecuteContract, MsgMigrateContract, MsgStoreCode } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import { withDefaults, type Config } from '../config/schema.js'
import { IntentGateError } from '../errors.js'
import type { Logger } from '../log.js'
import { ChainQueryError, ChainTxRefusedError, ChecksumMismatchError, CodeNotFoundError, InvalidMigrateMsgError, NotContractAdminError, SignerUnavailableError } from './errors.js'
import { parseMigrateMsg, type MigrateMsg } from './migrate-msg.js'
import { toChainError, transportReason, withDeadline } from './rpc-errors.js'
import { bech32PrefixOf, signerFromEnv, type Signer } from './signer.js'

/** One inflight settlement as the contract reports it; fields beyond these pass through untouched. */
export interface Settlement {
  id: string
  phase: string
  /** Unix seconds after which the settlement times out. */
  timeout: number
  [field: string]: unknown
}

/** The cw2 `contract_info` item. */
export interface ContractVersion { contract: string, version: string }

export interface ContractState {
  address: string
  codeId: number
  admin: string | undefined
  creator: string
  label: string
}

/** What a transaction left on chain. `attributes` are the contract's own (its `wasm` event), by key. */
export interface TxOutcome {
  transactionHash: string
  height: number
  /** The tx's timeout_height: it could not have been included in a later block. */
  timeoutHeight: number
  gasUsed: string
  attributes: Record<string, string>
  events: ReadonlyArray<{ type: string, attributes: ReadonlyArray<{ key: string, value: string }> }>
}

export interface MigrationOutcome extends TxOutcome {
  codeId: number
  msg: MigrateMsg
}

export interface ExtendOutcome {
  /** Settlement ids whose timeout was extended, in the order given. */
  extended: string[]
  transactions: TxOutcome[]
}

export interface ContractClientOptions {
  chain: Omit<Config['chain'], 'tx_timeout_blocks' | 'contracts'> & Partial<Pick<Config['chain'], 'tx_timeout_blocks' | 'contracts'>>
  /** The contract this client talks to (default `chain.settlement_contract`). */
  address?: string
  logger: Logger
  /** Where the mnemonic's variable is read (process.env unless a test passes its own). */
  env?: Record<string, string | undefined>
  /** Deadline of each query (the RPC has none of its own). Default 10 s. */
  requestTimeoutMs?: number
  /** Settlements per extend_timeout transaction. Default 25. */
  extendBatchSize?: number
  /** How often a broadcast transaction is looked for until it is in a block. Default 1 s (cosmjs: 3 s). */
  broadcastPollIntervalMs?: number
}

export interface ContractClient {
  readonly address: string
  signerAddress (): Promise<string>
  inflightSettlements (): Promise<Settlement[]>
  contractVersion (): Promise<ContractVersion>
  contractState (): Promise<ContractState>
  /** The lower-case hex SHA-256 of the code stored under `codeId` (verified against the code's bytes). */
  codeChecksum (codeId: number): Promise<string>
  /** The refusals `migrate` would make, without sending anything. */
  verifyMigration (codeId: number, expectedChecksumHex: string): Promise<{ signer: string, checksum: string, state: ContractState }>
  migrate (codeId: number, expectedChecksumHex: string, migrateMsg: unknown, options?: TxOptions): Promise<MigrationOutcome>
  /**
   * A dry run: the MsgMigrateContract messages, in order, simulated as one transaction (each sees the state the
   * previous left), so "migrate forward, then back" shows whether the chain would accept the way back. Throws
   * ChainTxRefusedError (stage `simulate`) naming the chain's reason; sends nothing.
   */
  simulateMigrations (steps: ReadonlyArray<{ codeId: number, msg: unknown }>): Promise<number>
  /** MsgStoreCode of `wasm` (not checked here); returns the new code id and the chain's checksum. */
  storeCode (wasm: Uint8Array): Promise<TxOutcome & { codeId: number, checksum: string }>
  /** The chain's latest block height. */
  height (): Promise<number>
  extendTimeout (ids: readonly string[], additionalSeconds: number): Promise<ExtendOutcome>
  close (): void
}

/** Options of a write: `timeoutHeight` when the caller journaled it before sending. */
export interface TxOptions { timeoutHeight?: number }

const GAS_ADJUSTMENT = 1.4
const HEX_CHECKSUM = /^[0-9a-f]{64}$/

export function createContractClient (options: ContractClientOptions): ContractClient {
  const { logger } = options
  const chain = withDefaults('chain', options.chain)
  const url = chain.rpc_url
  const address = options.address ?? chain.settlement_contract
  const txTimeoutBlocks = chain.tx_timeout_blocks
  const timeoutMs = options.requestTimeoutMs ?? 10_000
  const batchSize = options.extendBatchSize ?? 25
  const gasPrice = GasPrice.fromString(chain.gas_price)
  const log = logger.child({ component: 'contract-client', contract: address })

  let reader: Promise<CosmWasmClient> | null = null
  let writer: Promise<{ client: SigningCosmWasmClient, signer: Signer }> | null = null
  let signer: Promise<Signer> | null = null

  const query = async <T>(what: string, run: (client: CosmWasmClient) => Promise<T>): Promise<T> => {
    try {
      if (reader === null) {
        reader = CosmWasmClient.connect(url)
        // A failed connection is not kept: the next call tries again.
        reader.catch(() => { reader = null })
      }
      const client = await withDeadline(reader, timeoutMs, url, 'connect')
      return await withDeadline(run(client), timeoutMs, url, what)
    } catch (err) {
      throw toChainError(err, url, what)
    }
  }

  const getSigner = async (): Promise<Signer> => {
    if (signer === null) {
      const prefixSource = [address, chain.settlement_contract, ...Object.values(chain.contracts)].find((a) => a !== '')
      if (prefixSource === undefined) {
        signer = Promise.reject(new SignerUnavailableError(chain.signer_mnemonic_env, 'no contract address is configured (chain.settlement_contract) to take the address prefix from'))
      } else {
        signer = signerFromEnv(chain.signer_mnemonic_env, bech32PrefixOf(prefixSource), options.env)
      }
      signer.catch(() => { signer = null })
    }
    return await signer
  }

  const getWriter = async (): Promise<{ client: SigningCosmWasmClient, signer: Signer }> => {
    if (writer === null) {
      writer = (async () => {
        const s = await getSigner()
        try {
          const client = await withDeadline(SigningCosmWasmClient.connectWithSigner(url, s.wallet, { gasPrice, broadcastPollIntervalMs: options.broadcastPollIntervalMs ?? 1000 }), timeoutMs, url, 'connect')
          return { client, signer: s }
        } catch (err) {
          throw toChainError(err, url, 'connect')
        }
      })()
      writer.catch(() => { writer = null })
    }
    return await writer
  }

  const contractState = async (): Promise<ContractState> => {
    const contract = await query('contract info query', async (c) => await c.getContract(address))
    return { address, codeId: contract.codeId, admin: contract.admin, creator: contract.creator, label: contract.label }
  }

  const codeChecksum = async (codeId: number): Promise<string> => {
    if (!Number.isSafeInteger(codeId) || codeId <= 0) throw new CodeNotFoundError(codeId)
    let details
    try {
      details = await query(`code ${codeId} query`, async (c) => await c.getCodeDetails(codeId))
    } catch (err) {
      if (err instanceof ChainQueryError && /not found|no such code|codeInfo missing/i.test(err.message)) throw new CodeNotFoundError(codeId, { cause: err })
      throw err
    }
    const claimed = details.checksum.toLowerCase()
    // The chain's stored hash must also be the hash of the bytes it serves, or it proves nothing.
    if (details.data.length > 0 && toHex(sha256(details.data)) !== claimed) {
      throw new ChainQueryError(`code ${codeId}: the chain reports checksum ${claimed} but its bytes hash to ${toHex(sha256(details.data))}`)
    }
    return claimed
  }

  const verifyMigration = async (
    codeId: number,
    expectedChecksumHex: string
  ): Promise<{ signer: string, checksum: string, state: ContractState }> => {
    const expected = expectedChecksumHex.trim().toLowerCase()
    if (!HEX_CHECKSUM.test(expected)) throw new InvalidMigrateMsgError('checksum', 'must be 64 hex digits (the SHA-256 of the wasm code)')
    const actual = await codeChecksum(codeId)
    if (actual !== expected) throw new ChecksumMismatchError(codeId, expected, actual)
    const { address: signerAddress } = await getSigner()
    const state = await contractState()
    if (state.admin === undefined || state.admin === '' || state.admin !== signerAddress) {
      throw new NotContractAdminError(address, signerAddress, state.admin === '' ? undefined : state.admin)
    }
    return { signer: signerAddress, checksum: actual, state }
  }

  /** Simulates; a refusal here is ChainTxRefusedError with stage `simulate` (nothing is sent). Returns the gas used. */
  const simulate = async (what: string, messages: EncodeObject[]): Promise<number> => {
    const { client, signer: s } = await getWriter()
    try {
      return await withDeadline(client.simulate(s.address, messages, undefined), timeoutMs, url, `${what} simulation`)
    } catch (err) {
      if (err instanceof IntentGateError || transportReason(err) !== null) throw toChainError(err, url, `${what} simulation`)
      throw new ChainTxRefusedError('simulate', chainWords(err), undefined, { cause: err })
    }
  }

  /**
   * Simulates (a refusal here sends nothing), then signs and broadcasts with a timeout height; a non-zero code is a
   * refusal. The simulation is ours rather than cosmjs's `'auto'` so a refusal there is told apart from CheckTx's.
   */
  const send = async (what: string, messages: EncodeObject[], txOptions: TxOptions = {}): Promise<TxOutcome> => {
    const { client, signer: s } = await getWriter()
    const gas = await simulate(what, messages)
    const fee: StdFee = calculateFee(Math.ceil(gas * GAS_ADJUSTMENT), gasPrice)
    const timeoutHeight = txOptions.timeoutHeight ?? (await height()) + txTimeoutBlocks
    let result
    try {
      result = await client.signAndBroadcast(s.address, messages, fee, '', BigInt(timeoutHeight))
    } catch (err) {
      const checkTx = err as { code?: unknown, log?: unknown }
      if (typeof checkTx.code === 'number') throw new ChainTxRefusedError('check_tx', typeof checkTx.log === 'string' ? checkTx.log : chainWords(err), undefined, { cause: err })
      throw toChainError(err, url, `${what} broadcast`)
    }
    if (result.code !== 0) throw new ChainTxRefusedError('deliver_tx', result.rawLog ?? `code ${result.code}`, result.transactionHash)
    const events = result.events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value })) }))
    return {
      transactionHash: result.transactionHash,
      height: result.height,
      timeoutHeight,
      gasUsed: result.gasUsed.toString(),
      attributes: contractAttributes(events, address),
      events
    }
  }

  const height = async (): Promise<number> => await query('height query', async (c) => await c.getHeight())

  const migrateMessage = (sender: string, codeId: number, msg: unknown): EncodeObject => ({
    typeUrl: '/cosmwasm.wasm.v1.MsgMigrateContract',
    value: MsgMigrateContract.fromPartial({ sender, contract: address, codeId: BigInt(codeId), msg: toUtf8(JSON.stringify(msg)) })
  })

  return {
    address,
    signerAddress: async () => (await getSigner()).address,
    height,

    inflightSettlements: async () => {
      const answer = await query('inflight_settlements query', async (c) => await c.queryContractSmart(address, { inflight_settlements: {} }))
      const list = (answer as { settlements?: unknown }).settlements
      if (!Array.isArray(list)) throw new ChainQueryError(`inflight_settlements answered without a settlements list: ${JSON.stringify(answer).slice(0, 200)}`)
      return list as Settlement[]
    },

    contractVersion: async () => {
      const raw = await query('cw2 contract_info query', async (c) => await c.queryContractRaw(address, toUtf8('contract_info')))
      if (raw === null) throw new ChainQueryError(`contract ${address} has no cw2 contract_info`)
      try {
        const info = JSON.parse(fromUtf8(raw)) as Partial<ContractVersion>
        if (typeof info.contract === 'string' && typeof info.version === 'string') return { contract: info.contract, version: info.version }
      } catch {}
      throw new ChainQueryError(`contract ${address} has an unreadable cw2 contract_info`)
    },

    contractState,
    codeChecksum,
    verifyMigration,

    migrate: async (codeId, expectedChecksumHex, migrateMsg, txOptions) => {
      const msg = parseMigrateMsg(migrateMsg)
      const { signer: sender } = await verifyMigration(codeId, expectedChecksumHex)
      log.info({ codeId, new_version: msg.new_version, config: msg.config ?? null, signer: sender, timeout_height: txOptions?.timeoutHeight }, 'migrating the contract')
      const outcome = await send('migrate', [migrateMessage(sender, codeId, msg)], txOptions)
      log.info({ codeId, tx: outcome.transactionHash, height: outcome.height, attributes: outcome.attributes }, 'contract migrated')
      return { ...outcome, codeId, msg }
    },

    simulateMigrations: async (steps) => {
      const sender = (await getSigner()).address
      const messages = steps.map((step) => migrateMessage(sender, step.codeId, parseMigrateMsg(step.msg)))
      return await simulate('migrate dry run', messages)
    },

    storeCode: async (wasm) => {
      const sender = (await getSigner()).address
      const outcome = await send('store code', [{ typeUrl: '/cosmwasm.wasm.v1.MsgStoreCode', value: MsgStoreCode.fromPartial({ sender, wasmByteCode: wasm }) }])
      const stored = outcome.events.find((e) => e.type === 'store_code')
      const codeId = Number(stored?.attributes.find((a) => a.key === 'code_id')?.value)
      if (!Number.isSafeInteger(codeId) || codeId <= 0) throw new ChainQueryError(`tx ${outcome.transactionHash} stored code but its store_code event names no code id`)
      const checksum = await codeChecksum(codeId)
      log.info({ codeId, checksum, tx: outcome.transactionHash, bytes: wasm.length }, 'code stored')
      return { ...outcome, codeId, checksum }
    },

    extendTimeout: async (ids, additionalSeconds) => {
      if (!Number.isSafeInteger(additionalSeconds) || additionalSeconds < 0) {
        throw new InvalidMigrateMsgError('additional_seconds', 'must be a non-negative integer')
      }
      const unique = [...new Set(ids)]
      const transactions: TxOutcome[] = []
      const extended: string[] = []
      if (unique.length === 0) return { extended, transactions }
      const sender = (await getSigner()).address
      for (let i = 0; i < unique.length; i += batchSize) {
        const batch = unique.slice(i, i + batchSize)
        const messages = batch.map((id) => ({
          typeUrl: '/cosmwasm.wasm.v1.MsgExecuteContract',
          value: MsgExecuteContract.fromPartial({
            sender,
            contract: address,
            msg: toUtf8(JSON.stringify({ extend_timeout: { id, additional_seconds: additionalSeconds } })),
            funds: []
          })
        }))
        const outcome = await send('extend_timeout', messages)
        transactions.push(outcome)
        extended.push(...batch)
        log.info({ settlements: batch, additional_seconds: additionalSeconds, tx: outcome.transactionHash }, 'extended settlement timeouts')
      }
      return { extended, transactions }
    },

    close: () => {
      const r = reader
      const w = writer
      reader = null
      writer = null
      r?.then((c) => c.disconnect(), () => {})
      w?.then(({ client }) => client.disconnect(), () => {})
    }
  }
}

/** One client per `[chain.contracts]` entry, by name (the settlement contract's is made by the caller). */
export function namedContractClients (chain: ContractClientOptions['chain'], logger: Logger, env?: Record<string, string | undefined>): Record<string, ContractClient> {
  const clientFor = (name: string, address: string): ContractClient =>
    createContractClient({ chain, logger: logger.child({ contract_name: name }), address, ...(env === undefined ? {} : { env }) })
  return Object.fromEntries(Object.entries(chain.contracts ?? {}).map(([name, address]) => [name, clientFor(name, address)]))
}

/** The contract's own attributes (`wasm` events from this contract) merged by key; later ones win. */
export function contractAttributes (events: TxOutcome['events'], contract: string): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const event of events) {
    if (event.type !== 'wasm') continue
    if (!event.attributes.some((a) => a.key === '_contract_address' && a.value === contract)) continue
    for (const { key, value } of event.attributes) {
      if (key === '_contract_address' || key === 'msg_index') continue
      attributes[key] = value
    }
  }
  return attributes
}

/** The chain's own words in a cosmjs error ("Query failed with (6): ..."), without the library's wrapping. */
function chainWords (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.replace(/^Query failed with \(\d+\):\s*/, '')
}
