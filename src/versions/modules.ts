/**
 * Intent formats from outside the package. `[versions] modules` names module files (made absolute when the
 * configuration loads); each exports a version's `spec`, translation `steps`, or both (`VersionModule`, public as
 * `intent-gate/versions`). They join the versions this build ships in one catalog, so an added version is
 * validated, verified, translated and listed like a built-in one. Every module is checked here, at start, before
 * anything listens: a bad one is a ConfigError (exit 2) naming the file and what is wrong, never a failure met on
 * the first intent.
 */
import { ConfigError } from '../errors.js'
import { VersionCatalogImpl, type Catalog } from './catalog.js'
import { shippedSpecs, shippedSteps } from './discover.js'
import type { TranslationStep, VersionSpec } from './spec.js'

export type { VersionModule } from './spec.js'
import { compile, createAjv } from './validator.js'

const LABEL = /^[0-9]+\.[0-9]+$/
const SPEC_FUNCTIONS = ['identity', 'auth', 'unsigned', 'intentIdOf', 'statusOf'] as const
const SPEC_SCHEMAS = ['intentSchema', 'submitResponseSchema', 'statusResponseSchema'] as const
const STEP_FUNCTIONS = ['migrateIntent', 'migrateSubmitResponse', 'migrateStatusResponse', 'reverse'] as const

interface Loaded { file: string, spec: VersionSpec | undefined, steps: readonly TranslationStep[] }

/** The catalog of the shipped versions plus those of `files` (absolute paths); throws ConfigError for a bad module. */
export async function loadVersionCatalog (files: readonly string[]): Promise<Catalog> {
  if (files.length === 0) return new VersionCatalogImpl(shippedSpecs, shippedSteps)
  const problems: string[] = []
  const loaded: Loaded[] = []
  for (const file of files) {
    const found = await importModule(file)
    if (typeof found === 'string') problems.push(`versions.modules: ${file}: ${found}`)
    else loaded.push(found)
  }
  if (problems.length === 0) problems.push(...graphProblems(loaded))
  if (problems.length > 0) throw new ConfigError(problems)
  const specs = [...shippedSpecs, ...loaded.flatMap((m) => m.spec === undefined ? [] : [m.spec])]
  const steps = [...shippedSteps, ...loaded.flatMap((m) => m.steps)]
  try {
    return new VersionCatalogImpl(specs, steps)
  } catch (err) {
    // graphProblems names the file for every refusal the catalog knows; this is a catalog rule added later.
    throw new ConfigError([`versions.modules: ${(err as Error).message}`], { cause: err })
  }
}

/** The module's spec and steps, or what is wrong with it (a sentence). */
async function importModule (file: string): Promise<Loaded | string> {
  let mod: Record<string, unknown>
  try {
    mod = await import(new URL(`file://${file}`).href) as Record<string, unknown>
  } catch (err) {
    return `cannot be loaded: ${(err as Error).message.split('\n')[0] ?? String(err)}`
  }
  if (mod['spec'] === undefined && mod['steps'] === undefined) return "exports neither 'spec' (a version) nor 'steps' (translations)"
  const problems: string[] = []
  if (mod['spec'] !== undefined) problems.push(...specProblems(mod['spec']))
  const steps = mod['steps'] ?? []
  if (!Array.isArray(steps)) problems.push("'steps' is not an array of translation steps")
  else steps.forEach((step: unknown, i) => problems.push(...stepProblems(step, `steps[${i}]`)))
  if (problems.length > 0) return problems.join('; ')
  return { file, spec: mod['spec'] as VersionSpec | undefined, steps: steps as TranslationStep[] }
}

function specProblems (value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ["'spec' is not an object"]
  const spec = value as Record<string, unknown>
  const problems: string[] = []
  if (typeof spec['version'] !== 'string' || !LABEL.test(spec['version'])) problems.push(`spec.version must be a "major.minor" label, got ${JSON.stringify(spec['version'])}`)
  if (typeof spec['deadlineField'] !== 'string' || !spec['deadlineField'].startsWith('/')) problems.push('spec.deadlineField must be a JSON pointer (e.g. "/deadline")')
  for (const name of SPEC_FUNCTIONS) if (typeof spec[name] !== 'function') problems.push(`spec.${name} must be a function`)
  if (spec['crossFieldErrors'] !== undefined && typeof spec['crossFieldErrors'] !== 'function') problems.push('spec.crossFieldErrors must be a function when present')
  // The schemas are compiled as the catalog will compile them (strict): a schema ajv refuses is named here.
  const ajv = createAjv()
  for (const name of SPEC_SCHEMAS) {
    if (typeof spec[name] !== 'object' || spec[name] === null) {
      problems.push(`spec.${name} must be a JSON schema (a TypeBox schema object)`)
      continue
    }
    try {
      compile(ajv, spec[name] as never)
    } catch (err) {
      problems.push(`spec.${name} is not a valid JSON schema: ${(err as Error).message}`)
    }
  }
  return problems
}

function stepProblems (value: unknown, where: string, checkReverse = true): string[] {
  if (typeof value !== 'object' || value === null) return [`${where} is not an object`]
  const step = value as Record<string, unknown>
  const problems: string[] = []
  for (const end of ['from', 'to'] as const) {
    if (typeof step[end] !== 'string' || !LABEL.test(step[end])) problems.push(`${where}.${end} must be a "major.minor" label, got ${JSON.stringify(step[end])}`)
  }
  if (step['from'] === step['to']) problems.push(`${where} translates ${String(step['from'])} to itself`)
  if (typeof step['reversible'] !== 'boolean') problems.push(`${where}.reversible must be true or false`)
  for (const name of STEP_FUNCTIONS) if (typeof step[name] !== 'function') problems.push(`${where}.${name} must be a function`)
  if (checkReverse && problems.length === 0 && step['reversible'] === true) {
    const back = (step['reverse'] as () => unknown)()
    const backProblems = back === null ? [`${where}.reverse() returned null, but the step says it is reversible`] : stepProblems(back, `${where}.reverse()`, false)
    problems.push(...backProblems)
    if (backProblems.length === 0) {
      const b = back as Record<string, unknown>
      if (b['from'] !== step['to'] || b['to'] !== step['from']) problems.push(`${where}.reverse() translates ${String(b['from'])} -> ${String(b['to'])}, not ${String(step['to'])} -> ${String(step['from'])}`)
    }
  }
  return problems
}

/** Versions defined twice, steps naming a version nobody defines, edges claimed twice: each named by file. */
function graphProblems (loaded: readonly Loaded[]): string[] {
  const problems: string[] = []
  const definedBy = new Map<string, string>(shippedSpecs.map((s) => [s.version, 'this build']))
  for (const m of loaded) {
    if (m.spec === undefined) continue
    const other = definedBy.get(m.spec.version)
    if (other !== undefined) problems.push(`versions.modules: ${m.file}: version ${m.spec.version} is already defined by ${other}`)
    else definedBy.set(m.spec.version, m.file)
  }
  const claimedBy = new Map<string, string>()
  const claim = (step: TranslationStep, by: string, where: string): void => {
    const edge = `${step.from} -> ${step.to}`
    const other = claimedBy.get(edge)
    if (other !== undefined) problems.push(`versions.modules: ${where}translates ${edge}, as ${other} already does`)
    else claimedBy.set(edge, by)
  }
  const withReverse = (step: TranslationStep): TranslationStep[] => {
    const back = step.reversible ? step.reverse() : null
    return back === null ? [step] : [step, back]
  }
  for (const step of shippedSteps) for (const s of withReverse(step)) claim(s, 'this build', '')
  for (const m of loaded) {
    m.steps.forEach((step, i) => {
      const where = `${m.file}: steps[${i}] `
      const missing = [step.from, step.to].filter((v) => !definedBy.has(v))
      if (missing.length > 0) {
        problems.push(`versions.modules: ${where}names version ${missing.join(' and ')}, which no schema defines (known: ${[...definedBy.keys()].join(', ')})`)
        return
      }
      for (const s of withReverse(step)) claim(s, m.file, where)
    })
  }
  return problems
}
