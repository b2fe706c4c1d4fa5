/**
 * This gateway's release and instance id, as the fleet's registry shows them. The release is package.json's
 * `version` (two levels above this file both in the source tree and in the build, `dist/src/instance/`).
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import path from 'node:path'

export function releaseVersion (): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    const file = new URL(up, import.meta.url)
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
    if (pkg.name === 'intent-gate' && typeof pkg.version === 'string') return pkg.version
  }
  return 'unknown'
}

/**
 * The instance's id, kept in a file beside the coordinator's database so a restarted process is the same
 * instance (what it admitted before the restart is its own to register again after a Redis loss). A new
 * directory (a new pod) is a new instance: the host name, for operators, and a random tail.
 */
export function instanceIdBeside (database: string): string {
  const file = `${database}.instance-id`
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim()
    if (/^[A-Za-z0-9._-]{1,100}$/.test(id)) return id
  }
  const id = `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60)}-${randomUUID().slice(0, 8)}`
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, id + '\n')
  return id
}
