import { AdmissionJournal } from './dist/src/store/redis/admission-journal.js'
import { JournalFile } from './dist/src/store/redis/journal-file.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
const dir = mkdtempSync(tmpdir() + '/jb-')
const json = JSON.stringify({ h: 'x'.repeat(120), payload: 'y'.repeat(700) })
for (const [label, file] of [['memory', null], ['file', new JournalFile(dir + '/j.sqlite')]]) {
  file?.load('default')
  const j = new AdmissionJournal(100000, file)
  for (const perTurn of [1, 16]) {
    const n = 4000
    const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage()
    for (let i = 0; i < n; i += perTurn) {
      for (let k = 0; k < perTurn; k++) j.admitted(`k${perTurn}-${i + k}`, { json, upstream: 'blue', createdAtMs: Date.now() })
      await j.written()
      for (let k = 0; k < perTurn; k++) j.bound(`k${perTurn}-${i + k}`, `int_${i + k}`, 'accepted', 'r'.repeat(200))
      await j.written()
      for (let k = 0; k < perTurn; k++) j.completed(`int_${i + k}`)
      await j.written()
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1000 / n; const cpu = process.cpuUsage(c0)
    console.log(label, 'per turn', perTurn, 'wall us/intent', wall.toFixed(1), 'cpu us/intent', ((cpu.user + cpu.system) / n).toFixed(1))
  }
}
rmSync(dir, { recursive: true })
