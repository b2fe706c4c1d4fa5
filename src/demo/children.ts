/**
 * The demo's child processes: the built `intent-gate` and `intent-gate-sandbox` binaries (src/ never imports
 * sandbox/, it runs it), each started with `node`, each read line by line, and all stopped in reverse start
 * order at the end, on Ctrl-C, and (with SIGKILL) if the demo itself exits. A demo killed outright (SIGKILL, the
 * OOM killer: no handler of its own runs) still ends them where the machine has util-linux's `setpriv`: each child
 * is started with Linux's parent-death signal, SIGTERM, and stops as on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DemoError } from './errors.js'

/** From dist/src/demo/: the two binaries of the same build. */
export const GATEWAY_BIN = fileURLToPath(new URL('../cli/main.js', import.meta.url))
export const SANDBOX_BIN = fileURLToPath(new URL('../../sandbox/cli.js', import.meta.url))

const STDERR_TAIL_CHARS = 4000
const STOP_GRACE_MS = 10_000

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

export interface Child {
  readonly name: string
  readonly process: ChildProcess
  readonly exited: Promise<Exit>
  /** Called with each stdout line (the JSON lines the binaries print). */
  onLine (listener: (line: string) => void): void
  /** The last few thousand characters of stderr, for a failure message. */
  stderrTail (): string
  /** How long a SIGTERM gets before SIGKILL. */
  readonly stopGraceMs: number
}

export class ChildProcesses {
  private readonly children: Child[] = []
  /** Those the demo stopped itself or already reported: any other exit is a crash worth reporting. */
  private readonly accounted = new Set<Child>()
  private readonly killAtExit = (): void => { for (const c of this.children) if (isRunning(c)) c.process.kill('SIGKILL') }

  /** `setpriv`'s path, which execs the child with a parent-death signal; null where there is none (not Linux). */
  private readonly setpriv = findSetpriv()

  constructor () {
    process.once('exit', this.killAtExit)
  }

  /**
   * Runs `node <bin> <args>`; `env` is added to this process's environment minus its INTENT_GATE_* overrides.
   * `stopGraceMs`: longer for a child that has processes of its own to stop (the real network's nodes).
   */
  start (name: string, bin: string, args: string[], env: Record<string, string> = {}, stopGraceMs = STOP_GRACE_MS): Child {
    if (!existsSync(bin)) throw new DemoError(`${bin} is missing: run \`npm run build\` first (npm run demo does)`)
    const [command, commandArgs] = this.setpriv === null
      ? [process.execPath, [bin, ...args]]
      : [this.setpriv, ['--pdeathsig', 'TERM', '--', process.execPath, bin, ...args]]
    const child = spawn(command, commandArgs, { env: { ...ownEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS) })
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const exited = new Promise<Exit>((resolve) => { child.once('exit', (code, signal) => resolve({ code, signal })) })
    // A spawn failure (no node?) is reported through 'error'; the exit promise must still settle.
    child.once('error', () => {})
    const handle: Child = {
      name,
      process: child,
      exited,
      onLine: (listener) => { lines.on('line', listener) },
      stderrTail: () => stderr,
      stopGraceMs
    }
    this.children.push(handle)
    return handle
  }

  /** The child's first stdout line, parsed; rejects naming the child when it exits first or takes too long. */
  async firstJson<T> (child: Child, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    try {
      return await new Promise<T>((resolve, reject) => {
        let settled = false
        const settle = (f: () => void): void => {
          if (settled) return
          settled = true
          f()
        }
        child.onLine((line) => settle(() => {
          try {
            resolve(JSON.parse(line) as T)
          } catch {
            reject(new DemoError(`${child.name} printed a first line that is not JSON: ${line.slice(0, 200)}`))
          }
        }))
        child.exited.then((exit) => settle(() => {
          // Reported here, with its stderr: not again as a crash.
          this.accounted.add(child)
          reject(new DemoError(`${child.name} exited (${exit.signal ?? `status ${exit.code ?? '?'}`}) before it was ready:\n${child.stderrTail()}`))
        }), reject)
        timer = setTimeout(() => settle(() => reject(new DemoError(`${child.name} was not ready within ${timeoutMs / 1000} s:\n${child.stderrTail()}`))), timeoutMs)
      })
    } finally {
      clearTimeout(timer)
    }
  }

  /** Sends `signal` to a child the demo means to end (so its exit is not reported as a crash). */
  signal (child: Child, signal: NodeJS.Signals): void {
    this.accounted.add(child)
    child.process.kill(signal)
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit. */
  async stop (child: Child, graceMs = child.stopGraceMs): Promise<Exit> {
    if (!isRunning(child)) return await child.exited
    this.accounted.add(child)
    const escalate = setTimeout(() => child.process.kill('SIGKILL'), graceMs)
    child.process.kill('SIGTERM')
    const exit = await child.exited
    clearTimeout(escalate)
    return exit
  }

  /** Children that exited before the demo stopped them, with the end of their stderr (why a stage failed). */
  crashed (): Array<{ name: string, exit: string, stderrTail: string }> {
    return this.children
      .filter((c) => !isRunning(c) && !this.accounted.has(c))
      .map((c) => ({ name: c.name, exit: c.process.signalCode ?? `status ${c.process.exitCode ?? '?'}`, stderrTail: c.stderrTail() }))
  }

  /** Stops every child still running, newest first (the gateway before the services it forwards to). */
  async stopAll (): Promise<void> {
    for (const child of [...this.children].reverse()) await this.stop(child)
    process.off('exit', this.killAtExit)
  }
}

function isRunning (child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null
}

/**
 * util-linux's `setpriv`, when this is Linux and it is installed (every Debian has it): `setpriv --pdeathsig TERM --
 * <command>` execs the command in the same process, so the child's pid, pipes and signals are the command's own.
 */
function findSetpriv (): string | null {
  if (process.platform !== 'linux') return null
  return ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null
}

/** The demo configures its children itself: an operator's INTENT_GATE_* overrides must not leak into them. */
function ownEnv (): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INTENT_GATE_')))
}
