/**
 * This gateway's instance id, as the fleet's registry shows it (its release and layout are src/release.ts's).
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import path from 'node:path'

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
