/**
 * The version graph: which versions exist and which steps connect them. Finds the path between any two
 * versions (breadth-first, so the fewest steps), using each step and, when reversible, its reverse. Checks at
 * construction that every step joins two known versions and that no two steps claim the same edge.
 */
import type { TranslationStep, VersionSpec } from './spec.js'

export class VersionRegistry {
  /** Oldest first. */
  readonly versions: readonly string[]
  private readonly specs = new Map<string, VersionSpec>()
  private readonly edges = new Map<string, TranslationStep[]>()
  private readonly paths = new Map<string, readonly TranslationStep[] | null>()

  constructor (specs: readonly VersionSpec[], steps: readonly TranslationStep[]) {
    for (const spec of specs) {
      if (this.specs.has(spec.version)) throw new Error(`version ${spec.version} is defined twice`)
      this.specs.set(spec.version, spec)
    }
    this.versions = [...this.specs.keys()].sort(compareVersions)
    const claimed = new Set<string>()
    const add = (step: TranslationStep): void => {
      for (const v of [step.from, step.to]) {
        if (!this.specs.has(v)) throw new Error(`step ${step.from} -> ${step.to} names version ${v}, which has no schema`)
      }
      const edge = `${step.from}>${step.to}`
      if (claimed.has(edge)) throw new Error(`two steps translate ${step.from} -> ${step.to}`)
      claimed.add(edge)
      const list = this.edges.get(step.from) ?? []
      list.push(step)
      this.edges.set(step.from, list)
    }
    for (const step of steps) {
      add(step)
      const back = step.reversible ? step.reverse() : null
      if (back !== null) add(back)
    }
  }

  spec (version: string): VersionSpec | undefined {
    return this.specs.get(version)
  }

  /** The steps from `from` to `to` in order ([] when equal), or null when no path exists. */
  path (from: string, to: string): readonly TranslationStep[] | null {
    // Unknown labels come from clients: answer without caching them.
    if (!this.specs.has(from) || !this.specs.has(to)) return null
    const id = `${from}>${to}`
    let found = this.paths.get(id)
    if (found === undefined) {
      found = this.search(from, to)
      this.paths.set(id, found)
    }
    return found
  }

  private search (from: string, to: string): readonly TranslationStep[] | null {
    if (from === to) return []
    const cameBy = new Map<string, TranslationStep | null>([[from, null]])
    const queue = [from]
    while (queue.length > 0) {
      const at = queue.shift() as string
      for (const step of this.edges.get(at) ?? []) {
        if (cameBy.has(step.to)) continue
        cameBy.set(step.to, step)
        if (step.to === to) return unwind(cameBy, to)
        queue.push(step.to)
      }
    }
    return null
  }
}

function unwind (cameBy: Map<string, TranslationStep | null>, to: string): TranslationStep[] {
  const steps: TranslationStep[] = []
  for (let step = cameBy.get(to); step; step = cameBy.get(step.from)) steps.unshift(step)
  return steps
}

/** Orders "major.minor" labels numerically ("2.0" < "10.0"). */
export function compareVersions (a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number)
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number)
  return aMajor - bMajor || aMinor - bMinor
}

/** The newest of `versions` by compareVersions ("1.10" after "1.9"); undefined when there is none. */
export function newestVersion (versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1)
}
