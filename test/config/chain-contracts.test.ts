// [chain] tx_timeout_blocks and [chain.contracts]: defaults, the example file, and bad values named by key.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'
import { ConfigError } from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'ig-config-chain-'))
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const MINIMAL = '[upstreams.blue]\nurl = "http://127.0.0.1:7001"\n'
const problemsOf = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n')
    throw err
  }
  throw new Error('expected a ConfigError')
}

t.test('defaults: 20 blocks, no further contracts', async (t) => {
  const c = loadConfig({ file: file('min.toml', MINIMAL), env: {} })
  t.equal(c.chain.tx_timeout_blocks, 20)
  t.same(c.chain.contracts, {})
})

t.test('[chain.contracts] by name, tx_timeout_blocks from the file or the environment', async (t) => {
  const c = loadConfig({ file: file('escrow.toml', `${MINIMAL}[chain]\ntx_timeout_blocks = 50\n[chain.contracts]\nescrow = "wasm1escrow"\n`), env: {} })
  t.equal(c.chain.tx_timeout_blocks, 50)
  t.same(c.chain.contracts, { escrow: 'wasm1escrow' })
  t.equal(loadConfig({ file: file('min2.toml', MINIMAL), env: { INTENT_GATE_CHAIN_TX_TIMEOUT_BLOCKS: '7' } }).chain.tx_timeout_blocks, 7)
})

t.test('the example file carries both keys', async (t) => {
  const c = loadConfig({ file: 'config/intent-gate.toml', env: {} })
  t.equal(c.chain.tx_timeout_blocks, 20)
  t.same(c.chain.contracts, {})
})

t.test('bad values are named by key', async (t) => {
  t.match(problemsOf(() => loadConfig({ file: file('zero.toml', `${MINIMAL}[chain]\ntx_timeout_blocks = 0\n`), env: {} })), /chain\.tx_timeout_blocks/)
  t.match(problemsOf(() => loadConfig({ file: file('reserved.toml', `${MINIMAL}[chain.contracts]\nsettlement = "wasm1x"\n`), env: {} })), /chain\.contracts/)
  t.match(problemsOf(() => loadConfig({ file: file('empty.toml', `${MINIMAL}[chain.contracts]\nescrow = ""\n`), env: {} })), /chain\.contracts\.escrow/)
})
