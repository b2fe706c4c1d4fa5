/**
 * Syscalls per request of a process under test, counted by `strace -c -f -p PID` during the measured run. Unlike
 * req/s, the count does not move with the rest of the machine's load, so it shows a cost (a Redis command written
 * on its own, an extra write per response) the same way on a busy machine as on a quiet one. strace slows the
 * process down a lot: the req/s and latency of a run with --syscalls are not comparable with other runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'

export interface SyscallCount { name: string, calls: number, perRequest: number }

export function straceAvailable (): boolean {
  return spawnSync('strace', ['-V']).error === undefined
}

export class SyscallCounter {
  private output = ''
  private readonly exited: Promise<void>

  private constructor (private readonly proc: ChildProcess) {
    proc.stderr?.on('data', (c: Buffer) => { this.output += c.toString() })
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()))
  }

  /** Attaches to `pid` (and its threads); resolves once strace says it is attached. */
  static async attach (pid: number): Promise<SyscallCounter> {
    const proc = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
    const counter = new SyscallCounter(proc)
    await new Promise<void>((resolve, reject) => {
      const onData = (): void => {
        if (counter.output.includes('attached')) { proc.stderr?.off('data', onData); resolve() }
      }
      proc.stderr?.on('data', onData)
      proc.once('exit', (code) => reject(new Error(`strace could not attach to ${pid} (exit ${String(code)}): ${counter.output.trim()}`)))
    })
    return counter
  }

  /** Detaches and returns the syscalls made at least 0.05 times per request, most frequent first. */
  async finish (requests: number): Promise<SyscallCount[]> {
    this.proc.kill('SIGINT')
    await this.exited
    const counts: SyscallCount[] = []
    for (const line of this.output.split('\n')) {
      // "% time  seconds  usecs/call  calls  [errors]  syscall"
      const fields = line.trim().split(/\s+/)
      const name = fields.at(-1) ?? ''
      const calls = Number(fields[3])
      if (fields.length < 5 || !/^[0-9.]+$/.test(fields[0] ?? '') || name === 'total' || !Number.isFinite(calls)) continue
      if (calls / requests >= 0.05) counts.push({ name, calls, perRequest: calls / requests })
    }
    return counts.sort((a, b) => b.perRequest - a.perRequest)
  }
}
