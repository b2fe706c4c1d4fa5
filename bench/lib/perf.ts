/**
 * An on-CPU profile of the process under test with Linux `perf` (cpu-clock samples, call graphs, JavaScript
 * frames named through node's `--perf-basic-prof` map). Unlike V8's `--cpu-prof`, which samples on a wall-clock
 * timer and charges the time the process sat preempted to whatever it was doing (on a busy machine: its syscalls),
 * perf only counts CPU the process really used, including V8's compiler and GC threads.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface PerfEntry { name: string, share: number }
export interface PerfSummary {
  /** As perf reports it, e.g. "12K". */
  samples: string
  /** Self time by kind: kernel, V8's optimising compiler, garbage collection, JavaScript, other native code. */
  byKind: PerfEntry[]
  /** Inclusive time of JavaScript functions (a function's callees counted with it). */
  inclusiveJs: PerfEntry[]
  /** Self time of the hottest symbols. */
  self: PerfEntry[]
}

export function perfAvailable (): boolean {
  return spawnSync('perf', ['--version']).error === undefined
}

const KINDS: Array<[string, RegExp]> = [
  ['kernel (syscalls, TCP, scheduling)', /^\[k\]/],
  ['V8 optimising compiler', /v8::internal::(compiler|maglev|turboshaft)|Turbofan|Maglev/i],
  ['garbage collection', /Scaveng|MarkCompact|Sweeper|Marking|Heap::|Evacuat|ConcurrentMarking|GCTracer/],
  ['JavaScript (JIT code and V8 builtins)', /^\[\.\] (JS:|Builtins_)/]
]

function kindOf (symbol: string): string {
  return KINDS.find(([, re]) => re.test(symbol))?.[0] ?? 'other native (node, libuv, libc, V8 runtime)'
}

async function report (file: string, children: boolean): Promise<string> {
  const { stdout } = await execFileAsync('perf', ['report', '-i', file, children ? '--children' : '--no-children', '--sort', 'sym', '-g', 'none', '--stdio'], { maxBuffer: 64 * 1024 * 1024 })
  return stdout
}

export class PerfRecorder {
  private readonly exited: Promise<void>
  private stderr = ''

  private constructor (private readonly proc: ChildProcess, private readonly file: string, private readonly pid: number) {
    proc.stderr?.on('data', (c: Buffer) => { this.stderr += c.toString() })
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()))
  }

  /** Starts sampling `pid` (started with node --perf-basic-prof) into `file`. */
  static start (pid: number, file: string): PerfRecorder {
    const proc = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '999', '-g', '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
    return new PerfRecorder(proc, file, pid)
  }

  /** Stops sampling and summarises; removes the data file and the process's perf map. */
  async finish (): Promise<PerfSummary> {
    this.proc.kill('SIGINT')
    await this.exited
    try {
      const [self, inclusive] = [await report(this.file, false), await report(this.file, true)]
      const samples = /Samples: (\S+) of event/.exec(self)?.[1] ?? '?'
      const selfRows = [...self.matchAll(/^\s+([\d.]+)%\s+(\[[.k]\] .*?)\s*$/gm)].map((m) => ({ share: Number(m[1]) / 100, name: m[2] ?? '' }))
      const kinds = new Map<string, number>()
      for (const row of selfRows) kinds.set(kindOf(row.name), (kinds.get(kindOf(row.name)) ?? 0) + row.share)
      const inclusiveJs = [...inclusive.matchAll(/^\s+([\d.]+)%\s+[\d.]+%\s+\[\.\] JS:[*^~]?(.*?)\s*$/gm)]
        .map((m) => ({ share: Number(m[1]) / 100, name: (m[2] ?? '').replace(/file:\/\/\S*?\/dist\//, '').replace(/\S*?\/node_modules\//, '') }))
      return {
        samples,
        byKind: [...kinds.entries()].map(([name, share]) => ({ name, share })).sort((a, b) => b.share - a.share),
        inclusiveJs: inclusiveJs.slice(0, 25),
        self: selfRows.slice(0, 15)
      }
    } catch (err) {
      throw new Error(`perf report failed: ${(err as Error).message}\n${this.stderr}`)
    } finally {
      await rm(this.file, { force: true })
      await rm(`/tmp/perf-${this.pid}.map`, { force: true })
    }
  }
}
