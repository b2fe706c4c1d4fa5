// `intent-gate contract upload FILE.wasm` against the local chain (real processes): a module is stored with the
// configured signer and its code id and checksum printed (the chain's, equal to the file's SHA-256); a file that is
// not WebAssembly is refused before anything is sent (the signer's sequence does not move); bad usage exits 2.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CosmWasmClient } from '@cosmjs/cosmwasm-stargate'
import { sha256 } from '@cosmjs/crypto'
import { toHex } from '@cosmjs/encoding'
import { runCli } from '../helpers/gateway.js'
import { startChain } from '../chain/chain-process.js'
import { wasmModule } from '../chain/wasm-module.js'

t.test('contract upload', async (t) => {
  const chain = await startChain(t, { blockMs: 50 })
  const dir = await mkdtemp(join(tmpdir(), 'intent-gate-upload-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const config = join(dir, 'intent-gate.toml')
  await writeFile(config, `[chain]\nrpc_url = "${chain.rpc}"\nsettlement_contract = "${chain.info.settlement_contract}"\nsigner_mnemonic_env = "TEST_UPLOAD_MNEMONIC"\n[upstreams.blue]\nurl = "http://127.0.0.1:1"\n`)
  const env = { TEST_UPLOAD_MNEMONIC: chain.info.admin_mnemonic }
  const reader = await CosmWasmClient.connect(chain.rpc)
  t.teardown(() => reader.disconnect())
  const sequence = async (): Promise<number> => (await reader.getSequence(chain.info.admin_address)).sequence

  t.test('a module: code id and checksum, as the chain has them', async (t) => {
    const module = wasmModule({ contract: 'crates.io:intent-escrow', version: '3.0' }, 'upload-cli')
    const file = join(dir, 'escrow-3.0.wasm')
    await writeFile(file, module)
    const run = await runCli(['contract', 'upload', file, '--config', config, '--json'], env)
    t.equal(run.code, 0, run.stderr)
    const printed = JSON.parse(run.stdout) as { code_id: number, checksum: string, tx_hash: string }
    t.equal(printed.checksum, toHex(sha256(module)), 'the file\'s SHA-256')
    const details = await reader.getCodeDetails(printed.code_id)
    t.equal(details.checksum, printed.checksum, 'what the chain stored under that code id')
    t.equal(details.creator, chain.info.admin_address, 'signed by the configured signer')
    const text = await runCli(['contract', 'upload', file, '--config', config], env)
    t.equal(text.code, 0, text.stderr)
    t.match(text.stdout, new RegExp(`^code id\\s+${printed.code_id + 1}$`, 'm'), 'the same module again is a new code id')
    t.match(text.stdout, new RegExp(`^checksum\\s+${printed.checksum}$`, 'm'))
  })

  t.test('not WebAssembly: refused before anything is sent', async (t) => {
    const file = join(dir, 'notes.wasm')
    await writeFile(file, 'this is a text file, not a module')
    const before = await sequence()
    const run = await runCli(['contract', 'upload', file, '--config', config], env)
    t.equal(run.code, 1)
    t.match(run.stderr, /notes\.wasm is not a WebAssembly module .*nothing was sent/)
    t.equal(await sequence(), before, 'the signer\'s sequence did not move')
  })

  t.test('bad usage', async (t) => {
    const missing = await runCli(['contract', 'upload', join(dir, 'absent.wasm'), '--config', config], env)
    t.equal(missing.code, 2)
    t.match(missing.stderr, /FILE .*absent\.wasm: cannot be read \(ENOENT\)/)
    const noArg = await runCli(['contract', 'upload', '--config', config], env)
    t.equal(noArg.code, 2)
    const noSigner = await runCli(['contract', 'upload', join(dir, 'escrow-3.0.wasm'), '--config', config], {})
    t.equal(noSigner.code, 1)
    t.match(noSigner.stderr, /TEST_UPLOAD_MNEMONIC/)
  })
})
