/**
 * Everything a bench run starts (child processes, temp dirs) is registered here, so that one call stops it all:
 * at the end of the run, on an error, and on Ctrl-C. The runner (bench/run.ts) owns the one instance.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'

export class ChildFailedError extends Error {
  constructor (readonly childName: string, message: string, readonly output: string) {
    super(`${childName}: ${message}${output === '' ? '' : `\n--- its output ---\n${output.slice(-4000)}`}`)
  }
}

/** A spawned process with its combined output kept for error messages. */
export class Child {
  private readonly exit: Promise<void>
  private log = ''

  constructor (readonly name: string, readonly proc: ChildProcess) {
    this.exit = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve()
      else proc.once('exit', () => resolve())
    })
    const keep = (chunk: Buffer): void => {
      this.log += chunk.toString()
      // Only the tail matters for a failure message; a chatty child must not grow the bench's memory.
      if (this.log.length > 64_000) this.log = this.log.slice(-32_000)
    }
    proc.stderr?.on('data', keep)
    this.keepStdout = keep
  }

  /** Set as the stdout sink once the caller stopped reading stdout line by line. */
  readonly keepStdout: (chunk: Buffer) => void

  output (): string { return this.log }
  running (): boolean { return this.proc.exitCode === null && this.proc.signalCode === null }
  async exited (): Promise<void> { await this.exit }

  /** SIGTERM, then SIGKILL when it has not gone after `graceMs`. Idempotent. */
  async stop (graceMs = 3000): Promise<void> {
    if (!this.running()) return
    const escalate = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    this.proc.kill('SIGTERM')
    await this.exit
    clearTimeout(escalate)
  }
}

export interface StartOptions<T> {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Reads stdout line by line until this returns a value: the child's "I am ready" line. */
  ready?: (line: string) => T | undefined
  timeoutMs?: number
}

export class Resources {
  private readonly children = new Set<Child>()
  private readonly disposers: Array<() => Promise<void>> = []
  private closingPromise: Promise<void> | null = null

  constructor (root = true) {
    // A bench that dies any other way must not leave servers behind on the shared machine.
    if (root) {
      process.once('exit', () => {
        for (const child of this.allChildren()) if (child.running()) child.proc.kill('SIGKILL')
      })
    }
  }

  private readonly scopes = new Set<Resources>()

  /** A nested group (one bench case's servers) that can be closed early; the parent's close() closes it too. */
  scope (): Resources {
    const inner = new Resources(false)
    this.scopes.add(inner)
    this.onClose(async () => { await inner.close() })
    return inner
  }

  /** Pids of every running child here and in nested scopes (for CPU accounting). */
  pids (): number[] {
    return this.allChildren().filter((c) => c.running()).map((c) => c.proc.pid ?? 0).filter((p) => p > 0)
  }

  private allChildren (): Child[] {
    return [...this.children, ...[...this.scopes].flatMap((s) => s.allChildren())]
  }

  /** Spawns `command args`; with `ready`, resolves once stdout printed the ready line (and rejects if it exits first). */
  async start<T = undefined> (
    name: string,
    command: string,
    args: string[],
    opts: StartOptions<T> = {}
  ): Promise<{ child: Child, ready: T | undefined }> {
    if (this.closingPromise !== null) throw new Error(`not starting ${name}: the bench is shutting down`)
    const spawnOpts: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd }
    const proc = spawn(command, args, spawnOpts)
    const child = new Child(name, proc)
    this.children.add(child)
    child.exited().then(() => this.children.delete(child), () => {})

    const spawned = new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve)
      proc.once('error', (err) => reject(new ChildFailedError(name, `could not start ${command}: ${err.message}`, '')))
    })
    if (opts.ready === undefined) {
      proc.stdout?.on('data', child.keepStdout)
      await spawned
      return { child, ready: undefined }
    }
    await spawned
    const ready = await waitForLine(child, opts.ready, opts.timeoutMs ?? 20_000)
    return { child, ready }
  }

  /** A fresh temp dir, removed when the bench ends. */
  async tempDir (prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), `intent-gate-bench-${prefix}-`))
    this.onClose(async () => { await rm(dir, { recursive: true, force: true }) })
    return dir
  }

  onClose (fn: () => Promise<void>): void { this.disposers.push(fn) }

  /** True once close() began (Ctrl-C): the runner starts nothing more. */
  closing (): boolean { return this.closingPromise !== null }

  /** Stops every child (in parallel) and runs the disposers in reverse order. Idempotent. */
  async close (): Promise<void> {
    this.closingPromise ??= (async () => {
      await Promise.all([...this.children].map(async (c) => { await c.stop() }))
      for (const dispose of this.disposers.reverse()) {
        try { await dispose() } catch { /* best effort: the run is over */ }
      }
    })()
    await this.closingPromise
  }
}

async function waitForLine<T> (child: Child, match: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
  const stdout = child.proc.stdout
  if (stdout === null) throw new ChildFailedError(child.name, 'has no stdout', '')
  const lines = readline.createInterface({ input: stdout })
  return await new Promise<T>((resolve, reject) => {
    const finish = (err: Error | null, value?: T): void => {
      clearTimeout(timer)
      lines.removeAllListeners('line')
      lines.close()
      child.proc.off('exit', onExit)
      // Keep draining stdout so a child that logs cannot block on a full pipe.
      stdout.on('data', child.keepStdout)
      stdout.resume()
      if (err !== null) reject(err)
      else resolve(value as T)
    }
    const timer = setTimeout(() => finish(new ChildFailedError(child.name, `not ready after ${timeoutMs} ms`, child.output())), timeoutMs)
    const onExit = (code: number | null, signal: string | null): void => {
      finish(new ChildFailedError(child.name, `exited before it was ready (code ${String(code)}, signal ${String(signal)})`, child.output()))
    }
    child.proc.once('exit', onExit)
    lines.on('line', (line) => {
      child.keepStdout(Buffer.from(line + '\n'))
      let value: T | undefined
      try { value = match(line) } catch { value = undefined }
      if (value !== undefined) finish(null, value)
    })
  })
}

/** The `{"url": ...}` line every bench server (and the sandbox service) prints once it listens. */
export function urlLine (line: string): string | undefined {
  if (!line.startsWith('{')) return undefined
  const parsed = JSON.parse(line) as { url?: unknown }
  return typeof parsed.url === 'string' ? parsed.url : undefined
}
