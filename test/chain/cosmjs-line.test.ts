// One cosmjs line: the standard pattern a new user writes (SigningCosmWasmClient with a GasPrice from
// @cosmjs/stargate, fee 'auto') works against the local chain with this repository's dependencies, and every
// @cosmjs package resolves to one copy (a nested copy is what made GasPrice fail its instanceof check before).
import t from 'tap'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SigningCosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { GasPrice } from '@cosmjs/stargate'
import { startChain } from './chain-process.js'

t.test('connectWithSigner with GasPrice.fromString, then migrate with fee auto', async (t) => {
  const chain = await startChain(t, { blockMs: 50 })
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(chain.info.admin_mnemonic, { prefix: 'wasm' })
  const [{ address } = { address: '' }] = await wallet.getAccounts()
  const client = await SigningCosmWasmClient.connectWithSigner(chain.rpc, wallet, { gasPrice: GasPrice.fromString('0.025ustake'), broadcastPollIntervalMs: 50 })
  t.teardown(() => client.disconnect())
  const result = await client.migrate(address, chain.info.settlement_contract, chain.info.code_ids['2.0'] as number, { new_version: '2.0' }, 'auto')
  t.ok(result.transactionHash.length > 0, 'migrated')
  t.equal((await client.getContract(chain.info.settlement_contract)).codeId, chain.info.code_ids['2.0'])
})

t.test('every @cosmjs package the clients use resolves to one copy', async (t) => {
  const require = createRequire(import.meta.url)
  const fromCosmwasm = createRequire(require.resolve('@cosmjs/cosmwasm'))
  const root = (entry: string): string => entry.slice(0, entry.lastIndexOf('/build/'))
  const versions = new Set<string>()
  for (const pkg of ['@cosmjs/stargate', '@cosmjs/proto-signing', '@cosmjs/tendermint-rpc', '@cosmjs/amino', '@cosmjs/encoding', '@cosmjs/crypto', '@cosmjs/math']) {
    t.equal(root(fromCosmwasm.resolve(pkg)), root(require.resolve(pkg)), `${pkg}: the copy @cosmjs/cosmwasm uses is the top-level one`)
    versions.add((JSON.parse(readFileSync(join(root(require.resolve(pkg)), 'package.json'), 'utf8')) as { version: string }).version)
  }
  t.equal(versions.size, 1, `one cosmjs version: ${[...versions].join(', ')}`)
})
