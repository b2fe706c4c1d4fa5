/**
 * The local chain through unmodified cosmjs clients: connectComet picks the 0.38 client, accounts and the
 * contract are queryable, a create_settlement executed with SigningCosmWasmClient carries its send_packet
 * event in the tx result and in block_results, NewBlock and Tx events arrive over WebSocket, the packet
 * commitment is visible through the IBC query extension, and an unknown query path is refused as a node does.
 * Also the rest of the RPC surface and the sandbox control endpoints.
 */
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import WebSocket from 'ws'
import { toBech32, toUtf8 } from '@cosmjs/encoding'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { connectComet, Comet38Client } from '@cosmjs/tendermint-rpc'
import { QueryClient } from '@cosmjs/stargate'
import { FEE, blockFeed, createSettlementMsg, ibcQueries, signingClient, startChain, websocketClient } from './chain-harness.js'

t.test('cosmjs clients work unchanged against the local chain', async (t) => {
  const chain = await startChain(t, ['--block-ms', '100'])
  const { info } = chain
  t.match(info, { chain_id: 'intent-local-1', code_ids: { '1.0': 1, '2.0': 2 }, gas_price: '0.025ustake', ibc_channels: ['channel-0'] })

  const comet = await connectComet(info.rpc)
  chain.track(() => comet.disconnect())
  t.ok(comet instanceof Comet38Client, 'connectComet chooses the CometBFT 0.38 client')
  const status = await comet.status()
  t.equal(status.nodeInfo.network, info.chain_id)

  const { client, address } = await signingClient(chain, info.admin_mnemonic)
  t.equal(address, info.admin_address)
  const account = await client.getAccount(address)
  t.match(account, { address, accountNumber: 0, sequence: 0 })
  t.equal(await client.getAccount(toBech32('wasm', new Uint8Array(20).fill(7))), null, 'an unknown account is null, as cosmjs reads NotFound')

  const contract = await client.getContract(info.settlement_contract)
  t.match(contract, { codeId: 1, admin: info.admin_address, label: 'intent-settlement' })
  t.equal((await client.getCodeDetails(2)).checksum, info.checksums['2.0'])
  const cw2 = await client.queryContractRaw(info.settlement_contract, new TextEncoder().encode('contract_info'))
  t.same(JSON.parse(new TextDecoder().decode(cw2!)), { contract: 'crates.io:intent-settlement', version: '1.0' })

  const ws = await websocketClient(chain)
  const txEvents: number[] = []
  const txSubscription = ws.subscribeTx(`wasm._contract_address='${info.settlement_contract}'`).subscribe({ next: (event) => { txEvents.push(event.height) }, error: (error: unknown) => { t.fail(String(error)) } })
  chain.track(() => txSubscription.unsubscribe())
  const blocks = await blockFeed(chain, ws)

  const result = await client.execute(address, info.settlement_contract, createSettlementMsg('rpc-1', address), FEE)
  const sendPacket = result.events.find(event => event.type === 'send_packet')
  t.ok(sendPacket, 'the tx result carries send_packet')
  const attributes = Object.fromEntries(sendPacket!.attributes.map(attribute => [attribute.key, attribute.value]))
  t.match(attributes, { packet_src_port: 'transfer', packet_src_channel: 'channel-0', packet_dst_channel: 'channel-1', packet_channel_ordering: 'ORDER_UNORDERED', connection_id: 'connection-0' })
  t.match(JSON.parse(attributes.packet_data as string), { amount: '1000', denom: 'ustake', memo: 'settlement:rpc-1' })

  const blockResults = await comet.blockResults(result.height)
  const packetEvents = blockResults.results.flatMap(tx => tx.events).filter(event => event.type === 'send_packet')
  t.equal(packetEvents.length, 1, 'block_results shows the same send_packet')
  t.equal(packetEvents[0]!.attributes.find(a => a.key === 'packet_sequence')?.value, attributes.packet_sequence)

  const found = await client.getTx(result.transactionHash)
  t.equal(found?.height, result.height, 'getTx finds it (tx_search by hash)')
  t.equal((await client.searchTx('wasm.settlement_id=\'rpc-1\'')).length, 1, 'searchTx by an event attribute')

  const inflight = await client.queryContractSmart(info.settlement_contract, { inflight_settlements: {} }) as {
    settlements: Array<{ id: string, phase: string }>
  }
  t.match(inflight.settlements, [{ id: 'rpc-1', phase: 'user_funds_locked' }])

  const ibc = await ibcQueries(chain)
  const commitments = await ibc.ibc.channel.packetCommitments('transfer', 'channel-0')
  t.equal(commitments.commitments.length, 1)
  t.equal(commitments.commitments[0]!.sequence, BigInt(attributes.packet_sequence as string))

  // by the time two more blocks have arrived over the WebSocket, the Tx event has too
  const seen = blocks.heights.length
  await blocks.until(height => height >= result.height + 2)
  const heights = blocks.heights.slice(seen - 1)
  t.same(heights, heights.map((_, index) => heights[0]! + index), 'NewBlock events arrive in order, none missing')
  t.same(txEvents, [result.height], 'the Tx subscription saw the create_settlement tx')

  const queryClient = new QueryClient(comet)
  await t.rejects(queryClient.queryAbci('/cosmos.nothing.v1.Query/Nothing', new Uint8Array()), /Query failed with \(6\): unknown query path/)
  await t.rejects(client.queryContractSmart(info.settlement_contract, { no_such_query: {} }), /unknown variant `no_such_query`.*query wasm contract failed/)
})

t.test('the rest of the CometBFT RPC surface: broadcast_tx_commit, tx, tx_search paging, block, blockchain, simulate', async (t) => {
  const chain = await startChain(t, ['--block-ms', '100'])
  const { info } = chain
  const comet = await Comet38Client.connect(info.rpc)
  chain.track(() => comet.disconnect())
  const { client, address } = await signingClient(chain, info.admin_mnemonic)
  const executeMsg = (id: string): { typeUrl: string, value: Record<string, unknown> } => ({
    typeUrl: '/cosmwasm.wasm.v1.MsgExecuteContract',
    value: { sender: address, contract: info.settlement_contract, msg: toUtf8(JSON.stringify(createSettlementMsg(id, address))), funds: [] }
  })

  const simulated = await client.simulate(address, [executeMsg('s-1')], '')
  const committed = await comet.broadcastTxCommit({ tx: TxRaw.encode(await client.sign(address, [executeMsg('s-1')], FEE, '')).finish() })
  t.equal(committed.checkTx.code, 0)
  t.equal(committed.txResult?.code, 0, 'broadcast_tx_commit returns the delivered result')
  const gasUsed = Number(committed.txResult!.gasUsed)
  t.ok(gasUsed >= simulated && gasUsed <= simulated * 1.1, `simulate (${simulated}) predicts delivery (${gasUsed})`)
  await t.rejects(client.simulate(address, [executeMsg('s-1')], ''), /Query failed with \(6\): .*Settlement s-1 already exists: execute wasm contract failed/, 'simulate reports a message that would fail')

  const byHash = await comet.tx({ hash: committed.hash })
  t.equal(byHash.height, committed.height)
  await t.rejects(comet.tx({ hash: new Uint8Array(32) }), /tx \(0{64}\) not found/)

  await client.execute(address, info.settlement_contract, createSettlementMsg('s-2', address), FEE)
  const all = await comet.txSearchAll({ query: `wasm._contract_address='${info.settlement_contract}'`, per_page: 1 })
  t.equal(all.totalCount, 2, 'tx_search pages through every match')
  const newest = await comet.txSearch({ query: 'tx.height>=1', order_by: 'desc', per_page: 1 })
  t.equal(newest.txs[0]!.height, Math.max(...all.txs.map(tx => tx.height)), 'order_by desc gives the newest first')

  const block = await comet.block(committed.height)
  t.equal(block.block.txs.length, 1)
  t.equal(block.block.lastCommit?.height, committed.height - 1)
  const metas = await comet.blockchain(1, committed.height)
  t.same(metas.blockMetas.map(meta => meta.header.height), Array.from({ length: Math.min(20, committed.height) }, (_, i) => committed.height - i), 'newest first, at most 20')
  await t.rejects(comet.block(committed.height + 10_000), /must be less than or equal to the current blockchain height/)
  t.equal((await comet.abciInfo()).data, 'intent-gate-sandbox')
  const uriStatus = await (await fetch(`${info.rpc}/status`)).json() as { result: { node_info: { version: string } } }
  t.match(uriStatus.result.node_info.version, /^0\.38\./, 'GET URI requests work too')
})

t.test('control endpoints: cutting WebSockets without a close frame, halting blocks', async (t) => {
  const chain = await startChain(t, ['--block-ms', '50'])
  const socket = new WebSocket(chain.info.websocket)
  await once(socket, 'open')
  const closed = once(socket, 'close') as Promise<[number, Buffer]>
  t.match(await chain.control('/sandbox/websocket/drop'), { dropped: 1 })
  const [code] = await closed
  t.equal(code, 1006, 'the client sees an abnormal closure: no close frame was sent')

  const comet = await Comet38Client.connect(chain.info.rpc)
  chain.track(() => comet.disconnect())
  const { height } = await chain.control('/sandbox/blocks/halt') as { height: number }
  await delay(300) // six block intervals: nothing may happen
  t.equal((await comet.status()).syncInfo.latestBlockHeight, height, 'no blocks while halted')
  await chain.control('/sandbox/blocks/resume')
  const ws = await websocketClient(chain)
  const blocks = await blockFeed(chain, ws)
  t.ok(blocks.heights[0]! > height, 'blocks resume')
  const unknown = await fetch(`${chain.info.rpc}/sandbox/nothing`, { method: 'POST' })
  t.equal(unknown.status, 404)
  t.equal(unknown.headers.get('content-type'), 'application/problem+json')
})
