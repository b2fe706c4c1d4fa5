/**
 * How busy the machine was during a case, from /proc: the CPU the bench's own processes used, and what everything
 * else used (other engineers' builds and tests on the shared 2 cores). A case measured while others took a core
 * is not comparable with one measured on a quiet machine; the report shows it beside every row.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'

const TICKS_PER_SEC = 100

export interface CpuSnapshot { at: number, busyTicks: number, mine: Map<number, number>, targets: number[] }

function machineBusyTicks (): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const fields = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields
  return user + nice + system + irq + softirq + steal
}

/** utime + stime; with `reaped`, plus the times of its children it has waited for (cutime + cstime). */
function processTicks (pid: number, reaped = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const own = Number(fields[11]) + Number(fields[12])
    return reaped ? own + Number(fields[13]) + Number(fields[14]) : own
  } catch {
    return 0
  }
}

/**
 * `pids`: the bench's servers running now. The runner's own ticks include the children it reaped since (the load
 * generator started after this snapshot and gone before the next), so those are counted as the bench's too.
 */
export function snapshot (pids: number[], targets: number[] = []): CpuSnapshot {
  const mine = new Map([...pids, ...targets].map((p) => [p, processTicks(p)]))
  mine.set(process.pid, processTicks(process.pid, true))
  return { at: performance.now(), busyTicks: machineBusyTicks(), mine, targets }
}

function measure (pids: number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, processTicks(p, p === process.pid)]))
}

export interface CpuUse {
  /** Cores used by the bench's processes (servers and load generator). */
  benchCores: number
  /** Cores used by everything else on the machine. */
  otherCores: number
  /**
   * CPU seconds the process(es) under test used (the proxy or gateway; the backend in the direct rows). Divided
   * by the requests it is the cost per request, which other engineers' load on the machine changes far less
   * than it changes requests per second.
   */
  targetCpuSec: number
  seconds: number
  cores: number
}

/** CPU use between `before` and now. */
export function since (before: CpuSnapshot): CpuUse {
  const mineAfter = measure([...before.mine.keys()])
  const busy = machineBusyTicks() - before.busyTicks
  const seconds = (performance.now() - before.at) / 1000
  let mineTicks = 0
  // A server that exited meanwhile reads as 0 ticks: count nothing for it rather than a negative.
  for (const [pid, ticks] of before.mine) mineTicks += Math.max(0, (mineAfter.get(pid) ?? ticks) - ticks)
  let targetTicks = 0
  for (const pid of before.targets) targetTicks += Math.max(0, (mineAfter.get(pid) ?? 0) - (before.mine.get(pid) ?? 0))
  const benchCores = mineTicks / TICKS_PER_SEC / seconds
  return {
    benchCores,
    otherCores: Math.max(0, busy / TICKS_PER_SEC / seconds - benchCores),
    targetCpuSec: targetTicks / TICKS_PER_SEC,
    seconds,
    cores: os.cpus().length
  }
}
