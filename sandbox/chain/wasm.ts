/**
 * The wasm module of the local chain: MsgExecuteContract, MsgMigrateContract and MsgUpdateAdmin against the
 * settlement contract model, with wasmd's checks in wasmd's order and its error codes ("can not migrate:
 * unauthorized", "unknown code: invalid request", contract errors wrapped as execute/migrate failures),
 * its events (execute, migrate, wasm with `_contract_address`), and the wasm queries. A contract runs the model
 * its storage belongs to (settlement or escrow); a migration runs the target code's cw2 check first (codes.ts).
 */
import { fromUtf8, toUtf8 } from '@cosmjs/encoding'
import type { MsgExecuteContract, MsgMigrateContract, MsgUpdateAdmin } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import { transfer } from './bank.js'
import { ensureFromOlderVersion, requireModel } from './codes.js'
import * as contract from './contract.js'
import { executeEscrow, forkEscrow, isEscrowStorage, migrateEscrow, queryEscrow, rawGetEscrow, type EscrowResponse, type EscrowStorage } from './escrow.js'
import { AbciError, ContractError, SDK, WASM, wrap } from './errors.js'
import { abciEvent } from './events.js'
import { GAS, type GasMeter } from './gas.js'
import { sendTransferPacket } from './ibc.js'
import type { AbciEvent, AppState, ContractRecord } from './state.js'

export interface BlockContext {
  height: number
  timeMs: number
  txIndex: number
  gas: GasMeter
  /** delivery only: injected failures (POST /sandbox/faults), remaining migrate failures by contract address */
  faults?: Record<string, number>
}

export interface MsgOutcome {
  events: AbciEvent[]
}

export function findContract (app: AppState, address: string): ContractRecord {
  const record = app.contracts[address]
  if (record === undefined) throw wrap(WASM.noSuchContract, `no such contract: ${address}`)
  return record
}

function env (sender: string, block: BlockContext): contract.ContractEnv {
  return { sender, now: Math.floor(block.timeMs / 1000) }
}

function parseJsonMsg (bytes: Uint8Array, type: string): unknown {
  try {
    return JSON.parse(fromUtf8(bytes))
  } catch (error) {
    throw new ContractError(`Error parsing into type intent_settlement::msg::${type}: ${(error as Error).message}`)
  }
}

function contractFailure (error: unknown, registered: typeof WASM.executeFailed): never {
  if (error instanceof ContractError) throw wrap(registered, error.message)
  throw error
}

export function executeContract (app: AppState, msg: MsgExecuteContract, block: BlockContext, msgIndex: number): MsgOutcome {
  const record = findContract(app, msg.contract)
  block.gas.consume(GAS.wasmExecute + GAS.wasmPerMsgByte * BigInt(msg.msg.length), 'wasm contract')
  const events: AbciEvent[] = []
  if (msg.funds.length > 0) events.push(...transfer(app, msg.sender, msg.contract, msg.funds, msgIndex))
  if (isEscrowStorage(record.storage)) return executeOnEscrow(app, msg, record, record.storage, block, msgIndex, events)
  const storage = contract.forkStorage(record.storage)
  let response: contract.ContractResponse
  try {
    response = contract.execute(storage, env(msg.sender, block), parseJsonMsg(msg.msg, 'ExecuteMsg'))
  } catch (error) {
    contractFailure(error, WASM.executeFailed)
  }
  block.gas.consume(GAS.contractWrite, 'wasm storage write')
  events.push(abciEvent('execute', [['_contract_address', msg.contract]], msgIndex))
  if (response.attributes.length > 0) events.push(abciEvent('wasm', [['_contract_address', msg.contract], ...response.attributes], msgIndex))
  for (const request of response.transfers) {
    block.gas.consume(GAS.ibcSendPacket, 'ibc send packet')
    const sent = sendTransferPacket(app, request.channel, {
      sender: msg.contract,
      receiver: request.receiver,
      denom: request.denom,
      amount: request.amount,
      memo: request.memo,
      timeoutSecs: request.timeoutSecs,
      settlementId: request.settlementId
    }, block, msgIndex)
    contract.recordPacket(storage, request.settlementId, request.channel, sent.packet.sequence)
    events.push(...sent.events)
  }
  record.storage = storage
  return { events }
}

export function migrateContract (app: AppState, msg: MsgMigrateContract, block: BlockContext, msgIndex: number): MsgOutcome {
  const record = app.contracts[msg.contract]
  if (record === undefined) throw wrap(SDK.invalidRequest, 'unknown contract')
  block.gas.consume(GAS.wasmMigrate + GAS.wasmPerMsgByte * BigInt(msg.msg.length), 'wasm contract')
  if (record.admin === '' || record.admin !== msg.sender) throw wrap(SDK.unauthorized, 'can not migrate')
  const codeId = Number(msg.codeId)
  const code = app.codes[String(codeId)]
  if (code === undefined) throw wrap(SDK.invalidRequest, 'unknown code')
  const events: AbciEvent[] = []
  let storage: contract.ContractStorage | EscrowStorage
  let attributes: Array<[string, string]>
  try {
    ensureFromOlderVersion(record.storage.cw2, requireModel(code, codeId))
    const remaining = block.faults?.[msg.contract] ?? 0
    if (remaining > 0 && block.faults !== undefined) {
      block.faults[msg.contract] = remaining - 1
      throw new ContractError('injected fault (POST /sandbox/faults): the migration failed in the block')
    }
    if (isEscrowStorage(record.storage)) {
      const escrow = forkEscrow(record.storage)
      const response = migrateEscrow(escrow, env(msg.sender, block), parseJsonMsg(msg.msg, 'MigrateMsg'))
      events.push(...escrowSends(app, msg.contract, response, msgIndex))
      storage = escrow
      attributes = response.attributes
    } else {
      const settlement = contract.forkStorage(record.storage)
      attributes = contract.migrate(settlement, env(msg.sender, block), parseJsonMsg(msg.msg, 'MigrateMsg')).attributes
      storage = settlement
    }
  } catch (error) {
    contractFailure(error, WASM.migrationFailed)
  }
  block.gas.consume(GAS.contractWrite, 'wasm storage write')
  record.storage = storage
  record.codeId = codeId
  record.history = [...record.history, { operation: 'migrate', codeId, height: block.height, txIndex: block.txIndex, msg: fromUtf8(msg.msg) }]
  events.unshift(abciEvent('migrate', [['code_id', String(codeId)], ['_contract_address', msg.contract]], msgIndex))
  if (attributes.length > 0) events.push(abciEvent('wasm', [['_contract_address', msg.contract], ...attributes], msgIndex))
  return { events }
}

function executeOnEscrow (
  app: AppState,
  msg: MsgExecuteContract,
  record: ContractRecord,
  current: EscrowStorage,
  block: BlockContext,
  msgIndex: number,
  events: AbciEvent[]
): MsgOutcome {
  const storage = forkEscrow(current)
  let response: EscrowResponse
  try {
    response = executeEscrow(storage, env(msg.sender, block), parseJsonMsg(msg.msg, 'ExecuteMsg'), msg.funds.map(c => ({ denom: c.denom, amount: c.amount })))
  } catch (error) {
    contractFailure(error, WASM.executeFailed)
  }
  block.gas.consume(GAS.contractWrite, 'wasm storage write')
  events.push(abciEvent('execute', [['_contract_address', msg.contract]], msgIndex))
  events.push(abciEvent('wasm', [['_contract_address', msg.contract], ...response.attributes], msgIndex))
  events.push(...escrowSends(app, msg.contract, response, msgIndex))
  record.storage = storage
  return { events }
}

/** The coins the escrow contract sends out (a BankMsg::Send from the contract's balance). */
function escrowSends (app: AppState, address: string, response: EscrowResponse, msgIndex: number): AbciEvent[] {
  return response.sends.flatMap(send => transfer(app, address, send.to, send.coins, msgIndex))
}

export function updateAdmin (app: AppState, msg: MsgUpdateAdmin, block: BlockContext, msgIndex: number): MsgOutcome {
  const record = app.contracts[msg.contract]
  if (record === undefined) throw wrap(SDK.invalidRequest, 'unknown contract')
  block.gas.consume(GAS.wasmUpdateAdmin, 'wasm update admin')
  if (record.admin === '' || record.admin !== msg.sender) throw wrap(SDK.unauthorized, 'can not modify contract')
  if (msg.newAdmin === '') throw wrap(SDK.invalidAddress, 'new admin: empty address string is not allowed')
  record.admin = msg.newAdmin
  return { events: [abciEvent('update_contract_admin', [['_contract_address', msg.contract], ['new_admin_address', msg.newAdmin]], msgIndex)] }
}

/** The contract's IBC callback for one of its packets. */
export function packetOutcomeCallback (app: AppState, address: string, settlementId: string, outcome: 'acknowledged' | 'timed_out', block: BlockContext, msgIndex: number): AbciEvent[] {
  const record = app.contracts[address]
  if (record === undefined || isEscrowStorage(record.storage)) return []
  const storage = contract.forkStorage(record.storage)
  const response = contract.onPacketOutcome(storage, env(address, block), settlementId, outcome)
  record.storage = storage
  return response.attributes.length > 0 ? [abciEvent('wasm', [['_contract_address', address], ...response.attributes], msgIndex)] : []
}

/** A smart query, or the error wasmd's gRPC handler gives for it (code 6 over ABCI, as a real node answers). */
export function smartQuery (app: AppState, address: string, queryData: Uint8Array): Uint8Array {
  const record = app.contracts[address]
  if (record === undefined) throw notFound(`no such contract: ${address}`)
  try {
    const msg = parseJsonMsg(queryData, 'QueryMsg')
    return toUtf8(JSON.stringify(isEscrowStorage(record.storage) ? queryEscrow(record.storage, msg) : contract.query(record.storage, msg)))
  } catch (error) {
    if (error instanceof ContractError) {
      throw new AbciError('sdk', SDK.unknownRequest.code, `rpc error: code = Unknown desc = ${error.message}: ${WASM.queryFailed.description}: ${SDK.unknownRequest.description}`)
    }
    throw error
  }
}

export function rawQuery (app: AppState, address: string, key: Uint8Array): Uint8Array | undefined {
  const record = app.contracts[address]
  if (record === undefined) throw notFound(`no such contract: ${address}`)
  return isEscrowStorage(record.storage) ? rawGetEscrow(record.storage, key) : contract.rawGet(record.storage, key)
}

/** A gRPC NotFound as the SDK turns it into an ABCI query error. */
export function notFound (detail: string): AbciError {
  return new AbciError('sdk', SDK.keyNotFound.code, `rpc error: code = NotFound desc = ${detail}: ${SDK.keyNotFound.description}`)
}

/** A gRPC InvalidArgument as the SDK turns it into an ABCI query error. */
export function invalidArgument (detail: string): AbciError {
  return new AbciError('sdk', SDK.invalidRequest.code, `rpc error: code = InvalidArgument desc = ${detail}: ${SDK.invalidRequest.description}`)
}
