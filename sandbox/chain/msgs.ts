/**
 * The message router: each supported message type to its module, with the SDK's `message` event
 * (action, sender, module, msg_index) in front of the module's own events, and the Msg*Response that
 * goes into the transaction's TxMsgData.
 */
import type { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx'
import { MsgSendResponse } from 'cosmjs-types/cosmos/bank/v1beta1/tx'
import type { MsgAcknowledgement, MsgTimeout } from 'cosmjs-types/ibc/core/channel/v1/tx'
import { MsgAcknowledgementResponse, MsgTimeoutResponse, ResponseResultType } from 'cosmjs-types/ibc/core/channel/v1/tx'
import type { MsgExecuteContract, MsgMigrateContract, MsgStoreCode, MsgUpdateAdmin } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import { MsgExecuteContractResponse, MsgMigrateContractResponse, MsgStoreCodeResponse, MsgUpdateAdminResponse } from 'cosmjs-types/cosmwasm/wasm/v1/tx'
import type { Any } from 'cosmjs-types/google/protobuf/any'
import { transfer } from './bank.js'
import { storeCode } from './codes.js'
import { SDK, wrap } from './errors.js'
import { abciEvent } from './events.js'
import { GAS } from './gas.js'
import { settlePacket, type PacketOutcome } from './ibc.js'
import type { AbciEvent, AppState } from './state.js'
import type { DecodedMsg } from './tx.js'
import { executeContract, migrateContract, packetOutcomeCallback, updateAdmin, type BlockContext } from './wasm.js'

export interface RoutedMsg {
  events: AbciEvent[]
  response: Any
}

export function routeMsg (app: AppState, msg: DecodedMsg, block: BlockContext, msgIndex: number): RoutedMsg {
  const header = (module: string): AbciEvent => abciEvent('message', [['action', msg.typeUrl], ['sender', msg.signer], ['module', module]], msgIndex)
  switch (msg.typeUrl) {
    case '/cosmwasm.wasm.v1.MsgExecuteContract': {
      const { events } = executeContract(app, msg.value as unknown as MsgExecuteContract, block, msgIndex)
      return { events: [header('wasm'), ...events], response: any(msg.typeUrl + 'Response', MsgExecuteContractResponse.encode({ data: new Uint8Array() }).finish()) }
    }
    case '/cosmwasm.wasm.v1.MsgMigrateContract': {
      const { events } = migrateContract(app, msg.value as unknown as MsgMigrateContract, block, msgIndex)
      return { events: [header('wasm'), ...events], response: any(msg.typeUrl + 'Response', MsgMigrateContractResponse.encode({ data: new Uint8Array() }).finish()) }
    }
    case '/cosmwasm.wasm.v1.MsgStoreCode': {
      const stored = storeCode(app, msg.value as unknown as MsgStoreCode, block, msgIndex)
      return { events: [header('wasm'), ...stored.events], response: any(msg.typeUrl + 'Response', MsgStoreCodeResponse.encode({ codeId: BigInt(stored.codeId), checksum: stored.checksum }).finish()) }
    }
    case '/cosmwasm.wasm.v1.MsgUpdateAdmin': {
      const { events } = updateAdmin(app, msg.value as unknown as MsgUpdateAdmin, block, msgIndex)
      return { events: [header('wasm'), ...events], response: any(msg.typeUrl + 'Response', MsgUpdateAdminResponse.encode({}).finish()) }
    }
    case '/cosmos.bank.v1beta1.MsgSend': {
      const send = msg.value as unknown as MsgSend
      block.gas.consume(GAS.bankSend, 'bank send')
      if (send.toAddress === '') throw wrap(SDK.invalidAddress, 'invalid to address: empty address string is not allowed')
      if (app.accounts[send.toAddress] === undefined) app.accounts[send.toAddress] = { number: app.nextAccountNumber++, sequence: 0 }
      const events = transfer(app, send.fromAddress, send.toAddress, send.amount, msgIndex)
      return { events: [header('bank'), ...events, abciEvent('message', [['sender', send.fromAddress]], msgIndex)], response: any(msg.typeUrl + 'Response', MsgSendResponse.encode({}).finish()) }
    }
    case '/ibc.core.channel.v1.MsgAcknowledgement':
    case '/ibc.core.channel.v1.MsgTimeout': {
      const outcome: PacketOutcome = msg.typeUrl.endsWith('MsgAcknowledgement') ? 'acknowledged' : 'timed_out'
      const packet = (msg.value as unknown as MsgAcknowledgement | MsgTimeout).packet
      if (packet === undefined) throw wrap(SDK.invalidRequest, 'packet cannot be nil')
      block.gas.consume(GAS.ibcPacketOutcome, 'ibc packet')
      const settled = settlePacket(app, packet, outcome, msgIndex)
      const events = [header('ibc_channel'), ...settled.events]
      if (settled.record?.contract !== undefined && settled.record.settlementId !== undefined) {
        events.push(...packetOutcomeCallback(app, settled.record.contract, settled.record.settlementId, outcome, block, msgIndex))
      }
      const result = settled.record === undefined
        ? ResponseResultType.RESPONSE_RESULT_TYPE_NOOP
        : ResponseResultType.RESPONSE_RESULT_TYPE_SUCCESS
      const response = outcome === 'acknowledged' ? MsgAcknowledgementResponse.encode({ result }).finish() : MsgTimeoutResponse.encode({ result }).finish()
      return { events, response: any(msg.typeUrl + 'Response', response) }
    }
    default:
      throw wrap(SDK.unknownRequest, `unrecognized message type: ${msg.typeUrl}`)
  }
}

function any (typeUrl: string, value: Uint8Array): Any {
  return { typeUrl, value }
}
