/**
 * `[versions] modules` entries made absolute at load, so whoever reads the loaded configuration (the gateway, the
 * CLI, tests) imports the same files whatever its working directory. An entry naming an existing file (relative
 * to the configuration file's folder, or the working directory without a file) is that file; any other entry is
 * a package name, resolved from that same folder as Node's `require.resolve` does (so the package's `exports`
 * needs a `default`, `node` or `require` condition, or a `main`).
 */
import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

export interface ResolvedModules {
  paths: string[]
  problems: string[]
}

export function resolveModulePaths (entries: readonly string[], configFile: string | undefined): ResolvedModules {
  const base = configFile === undefined ? process.cwd() : path.dirname(path.resolve(configFile))
  const paths: string[] = []
  const problems: string[] = []
  entries.forEach((entry, i) => {
    const asFile = path.resolve(base, entry)
    if (existsSync(asFile) && statSync(asFile).isFile()) {
      paths.push(asFile)
      return
    }
    try {
      paths.push(createRequire(path.join(base, 'intent-gate.config.js')).resolve(entry))
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? 'nor a package installed there' : `nor a package that resolves (${(err as Error).message.split('\n')[0] ?? ''})`
      problems.push(`versions.modules[${i}]: '${entry}' is neither a file in ${base} ${why}`)
    }
  })
  return { paths, problems }
}
