/**
 * `--runtimes`: the gateway rows run under other Node binaries than the bench's own (Node 20 against Node 24 in
 * one run, on one machine, under the same load). A gateway loads better-sqlite3, a native addon built for one
 * Node ABI, so a runtime of another ABI gets a tree of its own: this checkout's dist/ and node_modules as hard
 * links (no copy), with better-sqlite3 compiled for that runtime against its headers (the runtime's own
 * include/node, as tools/node/fetch.sh lays it out) and cached in ~/.cache/intent-gate/bench-runtimes.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { GATEWAY_MAIN } from './gateway.js'
import type { Resources } from './resources.js'

const run = promisify(execFile)

export interface Runtime {
  /** The node binary. */
  node: string
  /** Its `process.versions.node`. */
  version: string
  /** The gateway entry point it runs (this checkout's, or a tree with an addon built for it). */
  main: string
}

/** Version and ABI of a node binary, or an error naming the flag's value. */
export function probeRuntime (node: string): { version: string, abi: string } {
  let out: string
  try {
    out = execFileSync(node, ['-p', 'process.versions.node + " " + process.versions.modules'], { encoding: 'utf8', timeout: 30_000 })
  } catch (err) {
    throw new Error(`--runtimes: '${node}' is not a node binary that runs here: ${(err as Error).message.split('\n')[0] ?? ''}`)
  }
  const [version = '', abi = ''] = out.trim().split(' ')
  return { version, abi }
}

function cacheRoot (): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'intent-gate', 'bench-runtimes')
}

/** Makes `node` ready to run the gateway; `log` says what takes long (a compile). */
export async function prepareRuntime (node: string, resources: Resources, log: (line: string) => void): Promise<Runtime> {
  const { version, abi } = probeRuntime(node)
  if (abi === process.versions.modules) return { node, version, main: GATEWAY_MAIN }
  const root = process.cwd()
  const addon = await addonFor(node, version, abi, root, log)
  const tree = await resources.tempDir(`node-${version}`)
  await run('cp', ['-al', path.join(root, 'node_modules'), path.join(tree, 'node_modules')])
  await rm(path.join(tree, 'node_modules', 'better-sqlite3'), { recursive: true, force: true })
  await run('cp', ['-al', addon, path.join(tree, 'node_modules', 'better-sqlite3')])
  await run('cp', ['-al', path.join(root, 'dist'), path.join(tree, 'dist')])
  await run('cp', [path.join(root, 'package.json'), path.join(tree, 'package.json')])
  return { node, version, main: path.join(tree, path.relative(root, GATEWAY_MAIN)) }
}

/** better-sqlite3 built for `abi`, once per ABI and package version. */
async function addonFor (node: string, version: string, abi: string, root: string, log: (line: string) => void): Promise<string> {
  const source = path.join(root, 'node_modules', 'better-sqlite3')
  const pkgVersion = (JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as { version: string }).version
  const dir = path.join(cacheRoot(), `better-sqlite3-${pkgVersion}-node-abi${abi}`)
  if (existsSync(path.join(dir, 'build', 'Release', 'better_sqlite3.node'))) return dir
  const nodeRoot = path.dirname(path.dirname(node))
  if (!existsSync(path.join(nodeRoot, 'include', 'node', 'node_api.h'))) {
    throw new Error(`--runtimes: ${node} (Node ${version}) needs better-sqlite3 built for it, and there are no Node headers at ${nodeRoot}/include/node (tools/node/fetch.sh brings a Node with them)`)
  }
  log(`building better-sqlite3 ${pkgVersion} for Node ${version} (once; cached in ${dir}) ...`)
  await mkdir(cacheRoot(), { recursive: true })
  const tmp = `${dir}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  await run('cp', ['-a', source, tmp])
  await rm(path.join(tmp, 'build'), { recursive: true, force: true })
  try {
    // npm's own node-gyp, run by that node, against its headers: nodejs.org need not be reachable.
    await run('npm', ['run', 'build-release'], {
      cwd: tmp,
      env: { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH ?? ''}`, npm_config_nodedir: nodeRoot },
      maxBuffer: 64 * 1024 * 1024
    })
    // The addon itself, loaded by that node: a wrong ABI fails here, not in a gateway.
    await run(node, ['-e', `require(${JSON.stringify(path.join(tmp, 'build', 'Release', 'better_sqlite3.node'))})`])
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw new Error(`--runtimes: building better-sqlite3 for Node ${version} failed: ${(err as Error).message}`, { cause: err })
  }
  await rm(dir, { recursive: true, force: true })
  await rename(tmp, dir)
  return dir
}
