/**
 * The real chain's programs, built (or found in the cache) by tools/chain/build.sh, and the settlement contract's
 * two WebAssembly builds by tools/chain/build-contracts.sh. Both scripts print KEY=path lines; a warm cache
 * answers in well under a second. `build: false` only looks in the cache (the demo does not start a build of
 * minutes on its own): what is missing is a NotBuiltError naming the command that builds it.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** Exit status of the scripts' `--check` when something is not built. */
const NOT_BUILT = 3
export const BUILD_COMMAND = 'npm run chain:build'

export class NotBuiltError extends Error {}

/** tools/chain of this checkout, from the sources (tests) or from dist/ (the built sandbox). */
function toolsDir (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const tools = path.join(dir, 'tools', 'chain')
    if (existsSync(path.join(tools, 'build.sh'))) return tools
    const parent = path.dirname(dir)
    if (parent === dir) throw new NotBuiltError(`tools/chain/build.sh not found above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

async function keyValues (script: string, build: boolean): Promise<Record<string, string>> {
  try {
    const { stdout } = await run('bash', [path.join(toolsDir(), script), ...(build ? [] : ['--check'])], { maxBuffer: 64 * 1024 * 1024, timeout: 3_600_000 })
    return Object.fromEntries(stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  } catch (err) {
    const e = err as { stderr?: string, code?: number, message: string }
    if (e.code === NOT_BUILT) throw new NotBuiltError(`${(e.stderr ?? '').trim().replace(/^\[[^\]]+\] /, '')}: run \`${BUILD_COMMAND}\` first (minutes on a cold machine; cached after)`)
    throw new Error(`tools/chain/${script} failed: ${e.stderr?.slice(-4000) ?? e.message}`)
  }
}

export interface ChainBinaries { wasmd: string, rly: string }

const binaries = new Map<boolean, Promise<ChainBinaries>>()
export async function chainBinaries (build = true): Promise<ChainBinaries> {
  let found = binaries.get(build)
  if (found === undefined) {
    found = keyValues('build.sh', build).then((kv) => ({ wasmd: kv.WASMD_BIN ?? '', rly: kv.RLY_BIN ?? '' }))
    binaries.set(build, found)
  }
  return await found
}

export interface ContractFiles { '1.0': string, '2.0': string }

const contracts = new Map<boolean, Promise<ContractFiles>>()
export async function settlementWasm (build = true): Promise<ContractFiles> {
  let found = contracts.get(build)
  if (found === undefined) {
    found = keyValues('build-contracts.sh', build).then((kv) => ({ '1.0': kv.SETTLEMENT_1_0_WASM ?? '', '2.0': kv.SETTLEMENT_2_0_WASM ?? '' }))
    contracts.set(build, found)
  }
  return await found
}
