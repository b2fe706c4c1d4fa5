/**
 * The local chain survives kill -9: restarted on the same --state file it continues from the same height,
 * with the same accounts (sequences), contract state, pending packets, relayer settings and tx index
 * (tx and tx_search still find transactions from before the kill), even when the kill tore the block log's
 * last line. Bad start options are refused.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { FEE, createSettlementMsg, ibcQueries, signingClient, startChain } from './chain-harness.js'

t.test('kill -9 and restart keeps the chain', async (t) => {
  const stateFile = join(t.testdir(), 'chain.json')
  const first = await startChain(t, ['--block-ms', '100', '--state', stateFile])
  const contract = first.info.settlement_contract
  await first.control('/sandbox/relayer/pause')
  const { client, address } = await signingClient(first, first.info.admin_mnemonic)
  const created = await client.execute(address, contract, createSettlementMsg('k-1', address), FEE)
  const heightBefore = await client.getHeight()
  const sequenceBefore = (await client.getAccount(address))!.sequence
  client.disconnect()
  await first.kill()
  // a kill in the middle of appending a block leaves a torn last line
  appendFileSync(`${stateFile}.blocks`, '{"height":999999,"timeMs":1,"hash":"AB')

  const second = await startChain(t, ['--block-ms', '100', '--state', stateFile])
  t.equal(second.info.settlement_contract, contract)
  t.ok(second.info.height >= heightBefore, `starts at the height it had (${second.info.height} >= ${heightBefore})`)
  const { client: again } = await signingClient(second, second.info.admin_mnemonic)
  t.match(await again.getAccount(address), { sequence: sequenceBefore }, 'accounts keep their sequence')
  const old = await again.getTx(created.transactionHash)
  t.equal(old?.height, created.height, 'a tx from before the kill is still found')
  t.ok(old?.events.some(event => event.type === 'send_packet'))
  t.match(await again.queryContractSmart(contract, { inflight_settlements: {} }), { settlements: [{ id: 'k-1', ibc_packet: { status: 'pending' } }] })
  t.match(await second.control('/sandbox/relayer'), { paused: true, pending: [{ settlement_id: 'k-1' }] }, 'relayer settings and pending packets survive')
  const ibc = await ibcQueries(second)
  t.equal((await ibc.ibc.channel.packetCommitments('transfer', 'channel-0')).commitments.length, 1)

  const next = await again.execute(address, contract, { complete_settlement: { id: 'k-1' } }, FEE)
  t.ok(next.height > heightBefore, 'new blocks continue above the old heights')
  t.equal((await again.getBlock(created.height)).header.height, created.height, 'old blocks are still served')
})

t.test('bad options exit 2 naming the flag', async (t) => {
  const cli = fileURLToPath(new URL('../../dist/sandbox/cli.js', import.meta.url))
  for (const [args, pattern] of [
    [['--listen', 'nowhere'], /--listen/],
    [['--listen', '127.0.0.1:0', '--block-ms', '0'], /--block-ms/],
    [['--listen', '127.0.0.1:0', '--bogus', '1'], /unknown option '--bogus'/]
  ] as const) {
    const child = spawn(process.execPath, [cli, 'chain', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const [code] = await once(child, 'exit') as [number | null]
    t.equal(code, 2, args.join(' '))
    t.match(stderr, pattern)
  }
})
