/**
 * Reads `migrations/NNN_name.sql`. The format (docs/upgrade.md):
 *
 *   -- free comment lines
 *   -- requires_drain: true|false      (optional, default false)
 *   -- +up
 *   SQL ...
 *   -- +down                           (optional: without it the migration cannot be rolled back)
 *   SQL ...
 *
 * The checksum is the SHA-256 of the file's bytes, so any edit after it was applied is caught.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MigrationFileError } from '../errors.js'

export interface MigrationFile {
  version: number
  /** The file name, e.g. `002_upgrade_state_machine.sql`. */
  file: string
  name: string
  up: string
  down: string | null
  requiresDrain: boolean
  checksum: string
}

const FILE_RE = /^(\d{3,})_([a-z0-9_]+)\.sql$/

export function parseMigration (file: string, text: string): MigrationFile {
  const match = FILE_RE.exec(file)
  if (match === null) throw new MigrationFileError(`${file}: a migration file is named NNN_name.sql (digits, underscore, lower-case name)`)
  let requiresDrain = false
  let section: 'head' | 'up' | 'down' = 'head'
  const up: string[] = []
  const down: string[] = []
  let sawDown = false
  for (const line of text.split('\n')) {
    const marker = line.trim().toLowerCase()
    if (marker === '-- +up') {
      if (section !== 'head') throw new MigrationFileError(`${file}: '-- +up' must come once, before '-- +down'`)
      section = 'up'
      continue
    }
    if (marker === '-- +down') {
      if (section !== 'up') throw new MigrationFileError(`${file}: '-- +down' must follow '-- +up'`)
      section = 'down'
      sawDown = true
      continue
    }
    if (section === 'head') {
      const header = /^--\s*requires_drain:\s*(\S+)\s*$/i.exec(line.trim())
      if (header !== null) {
        const value = (header[1] as string).toLowerCase()
        if (value !== 'true' && value !== 'false') throw new MigrationFileError(`${file}: requires_drain must be true or false, not '${header[1] as string}'`)
        requiresDrain = value === 'true'
      }
      continue
    }
    ;(section === 'up' ? up : down).push(line)
  }
  const upSql = up.join('\n').trim()
  if (section === 'head' || upSql === '') throw new MigrationFileError(`${file}: no '-- +up' section with SQL`)
  const downSql = down.join('\n').trim()
  return {
    version: Number(match[1]),
    file,
    name: match[2] as string,
    up: upSql,
    down: sawDown && downSql !== '' ? downSql : null,
    requiresDrain,
    checksum: createHash('sha256').update(text).digest('hex')
  }
}

/** Every migration in `dir`, by version; refuses two files with one number. */
export function readMigrations (dir: string): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationFileError(`migrations directory ${dir} does not exist`)
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()
  const migrations = files.map((f) => parseMigration(f, readFileSync(path.join(dir, f), 'utf8')))
  migrations.sort((a, b) => a.version - b.version)
  for (let i = 1; i < migrations.length; i++) {
    const prev = migrations[i - 1] as MigrationFile
    const cur = migrations[i] as MigrationFile
    if (prev.version === cur.version) throw new MigrationFileError(`${prev.file} and ${cur.file} share the number ${cur.version}`)
  }
  return migrations
}

/**
 * The shipped `migrations/`, by a path relative to this file that holds in both layouts: from the sources
 * (src/coordinator/db → the repository's migrations/) and from the build (dist/src/coordinator/db →
 * dist/migrations/, which `npm run build` copies), so an installed package finds its own.
 */
export function defaultMigrationsDir (): string {
  const dir = fileURLToPath(new URL('../../../migrations/', import.meta.url))
  if (!existsSync(dir)) throw new MigrationFileError(`cannot find the migrations/ directory (looked in ${dir}; run \`npm run build\`)`)
  return dir.replace(/\/$/, '')
}
