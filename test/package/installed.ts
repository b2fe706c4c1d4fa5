// The package as an operator installs it, shared by the package tests: `npm pack` of this build (dist/ as it is,
// so `npm run build` first) installed into an empty folder outside the repository, and its binaries started there.
import type { Test } from 'tap'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

export const execFileAsync = promisify(execFile)
export const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
const npm = async (args: string[], cwd: string): Promise<string> =>
  (await execFileAsync('npm', args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } })).stdout

export interface Installed {
  /** The folder holding the tarball and `app`; removed at teardown. */
  work: string
  /** The operator's application folder, with node_modules/intent-gate installed. */
  app: string
  /** The files the tarball ships. */
  files: string[]
  gatewayBin: string
  sandboxBin: string
}

export async function packAndInstall (t: Test): Promise<Installed> {
  const work = await realpath(await mkdtemp(path.join(os.tmpdir(), 'intent-gate-pkg-')))
  t.teardown(async () => { await rm(work, { recursive: true, force: true }) })
  const [packed] = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], ROOT)) as Array<{ filename: string, files: Array<{ path: string }> }>
  // Dependencies come from npm's cache (the registry only for what it lacks). Install scripts are skipped:
  // the one native module, better-sqlite3, would be compiled from source for minutes; its addon is taken from
  // this repository's node_modules, built for this same Node on this same machine.
  const app = path.join(work, 'app')
  await mkdir(app)
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'operator-app', private: true }))
  await npm(['install', path.join(work, packed?.filename ?? ''), '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], app)
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'
  await mkdir(path.dirname(path.join(app, addon)), { recursive: true })
  await copyFile(path.join(ROOT, addon), path.join(app, addon))
  const pkg = path.join(app, 'node_modules/intent-gate')
  return {
    work,
    app,
    files: packed?.files.map((f) => f.path) ?? [],
    gatewayBin: path.join(pkg, 'dist/src/cli/main.js'),
    sandboxBin: path.join(pkg, 'dist/sandbox/cli.js')
  }
}

export interface Started { child: ChildProcess, line: Record<string, string>, stderr: () => string }

/** Runs an installed binary from `cwd` and resolves with its first stdout line (its "listening" JSON). */
export async function startInstalled (t: Test, bin: string, args: string[], cwd: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const line = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)) as Record<string, string>)
    })
    child.once('exit', (code) => reject(new Error(`${path.basename(bin)} ${args[0] ?? ''} exited (${String(code)}) before listening:\n${err}`)))
  })
  return { child, line, stderr: () => err }
}

/**
 * Writes `app/intent-gate.toml` for a gateway on free ports with the chain off, state under `app/var`, and one
 * upstream (blue) at `upstreamUrl` serving `versions`; `extra` is appended as it is. Returns the file's path.
 */
export async function writeGatewayConfig (
  app: string,
  o: { redisUrl: string, upstreamUrl: string, versions: string[], extra?: string }
): Promise<string> {
  const config = path.join(app, 'intent-gate.toml')
  await writeFile(config, `
[proxy]
listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
[redis]
url = "${o.redisUrl}"
[chain]
enabled = false
[coordinator]
database = "${path.join(app, 'var/intent-gate.sqlite')}"
[checkpoint]
checkpoint_dir = "${path.join(app, 'var/checkpoints')}"
[upstreams.blue]
url = "${o.upstreamUrl}"
versions = ${JSON.stringify(o.versions)}
health_interval_ms = 100
${o.extra ?? ''}`)
  return config
}
