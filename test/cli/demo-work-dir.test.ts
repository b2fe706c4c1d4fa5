// The demo's working folder: a demo killed outright leaves its folder behind, and the next demo removes it, but
// never the folder of a demo still running, nor one it cannot tell (no pid in it).
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { makeDemoDir, removeAbandonedDemoDirs } from '../../src/demo/work-dir.js'

t.test('folders of demos that are gone are removed; a running demo\'s and an unknown one stay', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-demo-dirs-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })

  const running = await makeDemoDir(root)
  await writeFile(path.join(running, 'gateway.toml'), 'x')
  // A demo that was killed: its process is gone (a real one, exited and reaped).
  const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(gone, 'exit')
  const killed = path.join(root, 'intent-gate-demo-killed')
  await mkdir(killed)
  await writeFile(path.join(killed, 'demo.pid'), `${String(gone.pid)}\n`)
  await writeFile(path.join(killed, 'gateway.toml'), 'x')
  const unknown = path.join(root, 'intent-gate-demo-older')
  await mkdir(unknown)
  const other = path.join(root, 'not-a-demo')
  await mkdir(other)
  await writeFile(path.join(other, 'demo.pid'), `${String(gone.pid)}\n`)

  t.same(await removeAbandonedDemoDirs(root), [killed], 'only the killed demo\'s folder is removed')
  t.notOk(existsSync(killed))
  t.ok(existsSync(path.join(running, 'gateway.toml')), 'the running demo keeps its folder')
  t.ok(existsSync(unknown), 'a folder without a pid is left alone')
  t.ok(existsSync(other), 'and so is anything not named as a demo\'s')
})
