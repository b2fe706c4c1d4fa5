/**
 * Where a profiled gateway spent its time: reads the V8 `.cpuprofile` that `node --cpu-prof` wrote on exit and
 * sums self time per function and per file, as shares of all sampled time (idle excluded).
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
  children?: number[]
}
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

export interface Hotspot { name: string, share: number, ms: number }
export interface ProfileSummary {
  file: string
  busyMs: number
  byFunction: Hotspot[]
  byFile: Hotspot[]
  byArea: Hotspot[]
  /**
   * Self time charged to the nearest JavaScript caller outside node core: a socket write inside ioredis counts
   * for ioredis, one inside undici for undici, one inside node:http's server for "node core (no library caller)".
   */
  byCallerArea: Hotspot[]
  byCallerFunction: Hotspot[]
}

/** Groups a script URL into the part of the system it belongs to. */
export function areaOf (url: string): string {
  if (url === '') return '(native / V8 / GC)'
  if (url.startsWith('node:')) return 'node core'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/')
    return (parts[0]?.startsWith('@') === true ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
  }
  const dist = url.indexOf('/dist/')
  if (dist >= 0) return url.slice(dist + '/dist/'.length).split('/').slice(0, 2).join('/')
  return url
}

function shortFile (url: string): string {
  const dist = url.indexOf('/dist/')
  if (dist >= 0) return url.slice(dist + '/dist/'.length)
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length)
  return url === '' ? '(native)' : url.replace(/^file:\/\//, '')
}

function top (totals: Map<string, number>, busy: number, n: number): Hotspot[] {
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, share: us / busy, ms: us / 1000 }))
}

export function summarise (profile: CpuProfile, file: string): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parents = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id)
  const callerOf = (id: number): ProfileNode | undefined => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parents.get(cur)) {
      const node = nodes.get(cur)
      const url = node?.callFrame.url ?? ''
      if (url !== '' && !url.startsWith('node:')) return node
    }
    return undefined
  }
  const byCallerArea = new Map<string, number>()
  const byCallerFunction = new Map<string, number>()
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const byFunction = new Map<string, number>()
  const byFile = new Map<string, number>()
  const byArea = new Map<string, number>()
  let busy = 0
  for (const [id, us] of self) {
    const frame = nodes.get(id)?.callFrame
    if (frame === undefined || frame.functionName === '(idle)' || frame.functionName === '(program)') continue
    busy += us
    const where = frame.url === '' ? '' : ` ${shortFile(frame.url)}:${frame.lineNumber + 1}`
    const fn = `${frame.functionName === '' ? '(anonymous)' : frame.functionName}${where}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    byFile.set(shortFile(frame.url), (byFile.get(shortFile(frame.url)) ?? 0) + us)
    byArea.set(areaOf(frame.url), (byArea.get(areaOf(frame.url)) ?? 0) + us)
    const caller = callerOf(id)?.callFrame
    const callerArea = caller === undefined ? 'node core (no library caller)' : areaOf(caller.url)
    byCallerArea.set(callerArea, (byCallerArea.get(callerArea) ?? 0) + us)
    const callerFn = caller === undefined ? callerArea : `${caller.functionName === '' ? '(anonymous)' : caller.functionName} ${shortFile(caller.url)}:${caller.lineNumber + 1}`
    byCallerFunction.set(callerFn, (byCallerFunction.get(callerFn) ?? 0) + us)
  }
  return {
    file,
    busyMs: busy / 1000,
    byFunction: top(byFunction, busy, 20),
    byFile: top(byFile, busy, 15),
    byArea: top(byArea, busy, 12),
    byCallerArea: top(byCallerArea, busy, 12),
    byCallerFunction: top(byCallerFunction, busy, 20)
  }
}

/** Summarises the newest `.cpuprofile` in `dir`, or null when none was written (the process was killed). */
export async function summariseDir (dir: string): Promise<ProfileSummary | null> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort()
  const newest = files.at(-1)
  if (newest === undefined) return null
  const file = path.join(dir, newest)
  return summarise(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, file)
}
