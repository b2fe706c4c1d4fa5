/**
 * Picks the load generator: wrk when it is installed or can be installed (Debian package `wrk`, through apt-get
 * when the bench runs as root), autocannon otherwise. Says which, and why, on stderr.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import type { Resources } from '../lib/resources.js'
import { Autocannon } from './autocannon.js'
import type { LoadGenerator } from './types.js'
import { Wrk } from './wrk.js'

function hasWrk (): boolean {
  return spawnSync('wrk', ['--version']).error === undefined
}

function tryInstallWrk (log: (line: string) => void): boolean {
  if (process.getuid?.() !== 0) {
    log('wrk is not installed and the bench is not root: install it with `sudo apt-get install -y wrk` for the cleanest figures')
    return false
  }
  log('wrk is not installed: installing it with `apt-get install -y wrk` (the bench\'s C load generator) ...')
  try {
    const quiet = { stdio: 'ignore' as const, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }
    try {
      execFileSync('apt-get', ['install', '-y', 'wrk'], quiet)
    } catch {
      execFileSync('apt-get', ['update'], quiet)
      execFileSync('apt-get', ['install', '-y', 'wrk'], quiet)
    }
  } catch (err) {
    log(`could not install wrk (${(err as Error).message.split('\n')[0] ?? ''})`)
    return false
  }
  return hasWrk()
}

export function selectLoadGenerator (wanted: 'auto' | 'wrk' | 'autocannon', resources: Resources, scratchDir: string, log: (line: string) => void): LoadGenerator {
  if (wanted === 'autocannon') return new Autocannon()
  if (hasWrk() || tryInstallWrk(log)) return new Wrk(resources, scratchDir)
  if (wanted === 'wrk') throw new Error('--load wrk was asked for, but wrk is not installed and could not be installed')
  log('falling back to autocannon (in the bench\'s own process): figures will be lower than with wrk')
  return new Autocannon()
}
