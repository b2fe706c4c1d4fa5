/**
 * The demo's working folder (its services' and gateway's files): made under the system's temporary folder with
 * the demo's pid in it, and removed when the demo ends. A demo killed outright (SIGKILL, the OOM killer) cannot
 * remove its own; the next demo removes each folder whose demo is gone.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

const PREFIX = 'intent-gate-demo-'
const PID_FILE = 'demo.pid'

export async function makeDemoDir (root = os.tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(root, PREFIX))
  await writeFile(path.join(dir, PID_FILE), `${process.pid}\n`)
  return dir
}

/**
 * Removes the demo folders under `root` whose demo is no longer running; returns them. A folder without a pid
 * (a demo still starting, or one from before the pid was kept) is left alone, and so is one whose pid runs
 * again as another process: at worst a folder stays, never one in use goes. Nothing here stops a demo from starting.
 */
export async function removeAbandonedDemoDirs (root = os.tmpdir()): Promise<string[]> {
  const removed: string[] = []
  for (const name of await readdir(root).catch(() => [])) {
    if (!name.startsWith(PREFIX)) continue
    const dir = path.join(root, name)
    const pid = Number((await readFile(path.join(dir, PID_FILE), 'utf8').catch(() => '')).trim())
    if (!Number.isInteger(pid) || pid <= 0 || running(pid)) continue
    // Another user's leftover in a shared /tmp may not be ours to remove: it stays, and the demo goes on.
    const gone = await rm(dir, { recursive: true, force: true }).then(() => true, () => false)
    if (gone) removed.push(dir)
  }
  return removed
}

function running (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
