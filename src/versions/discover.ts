/**
 * Finds the versions and steps this build ships: every module in `schemas/` exports `spec`, every module in
 * `steps/` exports `step`. Reading the folders (once, at import) is what makes a new version one schema file
 * and one step file with no list to edit. Works from the TypeScript sources (tests) and from `dist/`.
 */
import { readdirSync } from 'node:fs'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TranslationStep, VersionSpec } from './spec.js'

const ownExtension = extname(fileURLToPath(import.meta.url))

async function loadFolder<T> (folder: string, exportName: string): Promise<T[]> {
  const dir = new URL(`./${folder}/`, import.meta.url)
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(ownExtension) && !name.endsWith(`.d${ownExtension}`))
    .sort()
  const out: T[] = []
  for (const name of files) {
    const mod = await import(new URL(name, dir).href) as Record<string, unknown>
    const value = mod[exportName]
    if (value === undefined) throw new Error(`src/versions/${folder}/${name} does not export '${exportName}'`)
    out.push(value as T)
  }
  return out
}

export const shippedSpecs: readonly VersionSpec[] = await loadFolder<VersionSpec>('schemas', 'spec')
export const shippedSteps: readonly TranslationStep[] = await loadFolder<TranslationStep>('steps', 'step')
