/**
 * The previous release, built for tests that run it beside this checkout's build (test/release/rolling.test.ts).
 * `release/previous` names its commit. The build is made once per commit and Node ABI and cached OUTSIDE the
 * repository, in `$INTENT_GATE_RELEASE_CACHE` or `$XDG_CACHE_HOME/intent-gate/releases/<commit>-node-abi<N>/`
 * (`~/.cache/...` by default), so a suite run pays for it once: the tree from `git archive` (the checkout's own
 * history, nothing fetched and no worktree left registered), its dependencies (hard links to this checkout's node_modules when both
 * package-lock.json files are equal, else `npm ci`), then `npm run build`. A shallow clone without the commit
 * says so and how to fix it. Two test processes building at once: the first takes a lock directory, the other
 * waits for the finished build.
 *
 *   const previous = await previousRelease()   // { commit, dir, gatewayBin, version }
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = path.resolve(new URL('../..', import.meta.url).pathname)
/** A cold build (npm ci and tsc on a busy machine) takes minutes; a second process waits at most this long. */
const BUILD_WAIT_MS = 15 * 60_000

export interface Release {
  /** The full commit id. */
  readonly commit: string
  /** Where it is built (the tree with node_modules and dist/). */
  readonly dir: string
  /** Its `intent-gate` entry point (dist/src/cli/main.js). */
  readonly gatewayBin: string
  /** Its package.json version. */
  readonly version: string
  /** How long this call took, and whether the build was already cached. */
  readonly took: { ms: number, cached: boolean }
}

export function cacheRoot (): string {
  const env = process.env.INTENT_GATE_RELEASE_CACHE
  if (env !== undefined && env !== '') return env
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'intent-gate', 'releases')
}

/** The commit `release/previous` names (its first word). */
export function previousCommitName (): string {
  const name = readFileSync(path.join(ROOT, 'release/previous'), 'utf8').trim().split(/\s+/)[0]
  if (name === undefined || name === '') throw new Error('release/previous is empty: it names the previous release\'s commit')
  return name
}

async function git (...args: string[]): Promise<string> {
  return (await run('git', args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 })).stdout.trim()
}

/** The full id of `name`, or an error that says why it is not in this checkout's history. */
async function resolveCommit (name: string): Promise<string> {
  try {
    return await git('rev-parse', '--verify', '--quiet', `${name}^{commit}`)
  } catch {
    const shallow = await git('rev-parse', '--is-shallow-repository').catch(() => 'unknown')
    throw new Error(shallow === 'true'
      ? `the previous release's commit ${name} (release/previous) is not in this shallow clone: run \`git fetch --unshallow\` (or clone with full history, e.g. actions/checkout's fetch-depth: 0)`
      : `the previous release's commit ${name} (release/previous) is not in this checkout's history`)
  }
}

/** Builds (or finds cached) the release at `name`. */
export async function buildRelease (name: string): Promise<Release> {
  const started = performance.now()
  const commit = await resolveCommit(name)
  const root = cacheRoot()
  // Its node_modules hold native addons (better-sqlite3) built for one Node ABI: a build per runtime, so a suite
  // run under Node 24 never loads an addon a Node 20 run compiled.
  const dir = path.join(root, `${commit}-node-abi${process.versions.modules}`)
  const done = path.join(dir, '.built')
  await mkdir(root, { recursive: true })
  let cached = existsSync(done)
  if (!cached) {
    const lock = `${dir}.lock`
    if (await tryLock(lock)) {
      try {
        if (!existsSync(done)) await build(commit, dir)
      } finally {
        await rm(lock, { recursive: true, force: true })
      }
    } else {
      await waitForFile(done, lock)
      cached = true
    }
  }
  const version = (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version
  return { commit, dir, gatewayBin: path.join(dir, 'dist/src/cli/main.js'), version, took: { ms: performance.now() - started, cached } }
}

export async function previousRelease (): Promise<Release> {
  return await buildRelease(previousCommitName())
}

async function tryLock (lock: string): Promise<boolean> {
  try {
    await mkdir(lock)
    await writeFile(path.join(lock, 'pid'), String(process.pid))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // A lock left by a process that died mid-build is taken over.
    const pid = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => 'NaN'))
    if (Number.isInteger(pid) && !alive(pid)) {
      await rm(lock, { recursive: true, force: true })
      return await tryLock(lock)
    }
    return false
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Another process builds: its finished marker appears, or its lock goes away without one (a failed build). */
async function waitForFile (file: string, lock: string): Promise<void> {
  const deadline = Date.now() + BUILD_WAIT_MS
  while (!existsSync(file)) {
    if (!existsSync(lock)) throw new Error(`another test process's build of the previous release ended without ${file}`)
    if (Date.now() > deadline) throw new Error(`waited ${BUILD_WAIT_MS} ms for another test process to build the previous release`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/** The tree at `commit`, its dependencies and its build, made in a temporary directory and renamed into place. */
async function build (commit: string, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  try {
    await run('sh', ['-c', `git archive --format=tar "${commit}" | tar -x -C "${tmp}"`], { cwd: ROOT })
    if (sameDependencies(path.join(ROOT, 'package-lock.json'), path.join(tmp, 'package-lock.json')) && existsSync(path.join(ROOT, 'node_modules'))) {
      // Same lock, same packages: hard links cost no copy, and a later `npm install` here replaces files, not edits them.
      await run('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules')])
    } else {
      await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: tmp, maxBuffer: 64 * 1024 * 1024 })
    }
    await run('npm', ['run', 'build'], { cwd: tmp, maxBuffer: 64 * 1024 * 1024 })
    await writeFile(path.join(tmp, '.built'), `${new Date().toISOString()}\n`)
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw new Error(`building the previous release ${commit} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** Two package-lock.json files that pin the same packages (their own versions aside: a release moves those). */
function sameDependencies (a: string, b: string): boolean {
  const pinned = (file: string): string => {
    const lock = JSON.parse(readFileSync(file, 'utf8')) as { version?: string, packages?: Record<string, { version?: string }> }
    delete lock.version
    if (lock.packages?.[''] !== undefined) delete lock.packages[''].version
    return JSON.stringify(lock)
  }
  return pinned(a) === pinned(b)
}
