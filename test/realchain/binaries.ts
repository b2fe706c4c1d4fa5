/**
 * The real chain's programs, built (or found in the cache) by tools/chain/build.sh, and the settlement contract's
 * two WebAssembly builds by tools/chain/build-contracts.sh. Both scripts print KEY=path lines; a warm cache
 * answers in well under a second.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const TOOLS = fileURLToPath(new URL('../../tools/chain/', import.meta.url))

async function keyValues (script: string): Promise<Record<string, string>> {
  try {
    const { stdout } = await run('bash', [TOOLS + script], { maxBuffer: 64 * 1024 * 1024, timeout: 3_600_000 })
    return Object.fromEntries(stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`tools/chain/${script} failed: ${e.stderr?.slice(-4000) ?? e.message}`)
  }
}

export interface ChainBinaries { wasmd: string, rly: string }

let binaries: Promise<ChainBinaries> | null = null
export async function chainBinaries (): Promise<ChainBinaries> {
  binaries ??= keyValues('build.sh').then((kv) => ({ wasmd: kv.WASMD_BIN ?? '', rly: kv.RLY_BIN ?? '' }))
  return await binaries
}

export interface ContractFiles { '1.0': string, '2.0': string }

let contracts: Promise<ContractFiles> | null = null
export async function settlementWasm (): Promise<ContractFiles> {
  contracts ??= keyValues('build-contracts.sh').then((kv) => ({ '1.0': kv.SETTLEMENT_1_0_WASM ?? '', '2.0': kv.SETTLEMENT_2_0_WASM ?? '' }))
  return await contracts
}
