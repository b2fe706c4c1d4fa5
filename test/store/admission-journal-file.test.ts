// The admission journal on disk: what a process wrote is what the next one reads, in order, of its own
// namespace only; the oldest entry forgotten when full is gone from the file too; and a file that cannot be
// written does not lose the changes (they go with the next write).
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { appendFileSync, existsSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { AdmissionJournal, type JournalChange, type JournalEntry, type JournalPersistence } from '../../src/store/redis/admission-journal.js'
import { JournalFile, type JournalFileOptions } from '../../src/store/redis/journal-file.js'

const entry = (n: number): JournalEntry => ({ json: `{"n":${n}}`, upstream: 'blue', createdAtMs: 1_000 + n })

async function fileIn (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-journal-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return path.join(dir, 'coordinator.sqlite.admissions')
}

t.test('what one process wrote, the next reads back', async (t) => {
  const file = await fileIn(t)
  const first = new JournalFile(file)
  t.same(first.load('default'), { entries: [], epoch: null, dropped: 0 }, 'a new file is empty')
  const journal = new AdmissionJournal(100, first)
  journal.admitted('k1', entry(1))
  journal.admitted('k2', entry(2))
  journal.admitted('k3', entry(3))
  journal.bound('k2', 'int_2', 'accepted', 'answer-2')
  journal.unknown('k3', 5_000)
  journal.saveEpoch('epoch-a')
  await journal.written()
  journal.completed('int_2')
  journal.admitted('k4', entry(4))
  journal.released('k4')
  await journal.written()
  first.close()

  const again = new JournalFile(file)
  const read = again.load('default')
  t.equal(read.epoch, 'epoch-a')
  t.same(read.entries.map(([k]) => k), ['k1', 'k3'], 'completed and released entries are gone; the rest in admission order')
  t.equal(read.entries[1]?.[1].unknownSinceMs, 5_000, 'an unknown outcome is kept as such')
  const reopened = new AdmissionJournal(100, again, read.entries)
  reopened.admitted('k5', entry(5))
  reopened.bound('k5', 'int_5', 'accepted', 'answer-5')
  await reopened.written()
  again.close()
  const third = new JournalFile(file)
  t.same(third.load('default').entries.find(([k]) => k === 'k5')?.[1], { ...entry(5), id: 'int_5', phase: 'accepted', response: 'answer-5' }, 'a binding is kept with its answer')
  t.same(third.load('other').entries, [], 'another namespace reads nothing')
  third.close()
  const fourth = new JournalFile(file)
  t.same(fourth.load('default'), { entries: [], epoch: null, dropped: 0 }, 'and the rows of the namespace left behind were dropped')
  fourth.close()
})

t.test('the oldest entry forgotten when full leaves the file; prune drops what the store no longer holds', async (t) => {
  const file = await fileIn(t)
  const disk = new JournalFile(file)
  disk.load('default')
  const journal = new AdmissionJournal(2, disk)
  journal.admitted('k1', entry(1))
  journal.admitted('k2', entry(2))
  journal.admitted('k3', entry(3))
  t.equal(journal.forgotten, 1)
  t.equal(journal.prune((key) => key !== 'k2'), 1)
  await journal.written()
  disk.close()
  const again = new JournalFile(file)
  t.same(again.load('default').entries.map(([k]) => k), ['k3'])
  again.close()
})

t.test('a write that fails keeps its changes for the next', async (t) => {
  const writes: Array<Map<string, JournalChange | null>> = []
  let failing = true
  const errors: unknown[] = []
  const persistence: JournalPersistence = {
    write: (changes) => {
      if (failing) throw new Error('ENOSPC')
      writes.push(changes)
    },
    saveEpoch: () => {}
  }
  const journal = new AdmissionJournal(10, persistence, [], (err) => errors.push(err))
  journal.admitted('k1', entry(1))
  await journal.written()
  t.equal(errors.length, 1, 'the failure is reported')
  failing = false
  journal.admitted('k2', entry(2))
  await journal.written()
  t.same(writes.map((w) => [...w.keys()]), [['k1', 'k2']], 'the failed change went with the next write')
  // An admission whose write failed, bound before the next write: that write takes the admission whole.
  failing = true
  journal.admitted('k3', entry(3))
  await journal.written()
  failing = false
  journal.bound('k3', 'int_3', 'accepted', 'answer-3')
  await journal.written()
  t.same(writes.at(-1)?.get('k3'), { entry: { ...entry(3), id: 'int_3', phase: 'accepted', response: 'answer-3' }, admitted: true })
})

const boundEntry = (n: number): JournalEntry => ({ ...entry(n), id: `int_${n}`, phase: 'accepted', response: `answer-${n}` })

/** The SQLite file's rows, as a release that knows nothing of the log reads them. */
function rowsOf (file: string): Array<[string, unknown]> {
  const raw = new Database(file, { readonly: true })
  const rows = raw.prepare('SELECT key, entry FROM admissions ORDER BY key').all() as Array<{ key: string, entry: string }>
  raw.close()
  return rows.map((r) => [r.key, JSON.parse(r.entry) as unknown])
}

/** A new journal file, loaded, and a journal writing to it. */
async function journalIn (t: Test, options: JournalFileOptions = {}): Promise<{ file: string, journal: AdmissionJournal }> {
  const file = await fileIn(t)
  const disk = new JournalFile(file, options)
  disk.load('default')
  return { file, journal: new AdmissionJournal(100, disk) }
}

t.test('a turn is one append to the log; a killed process leaves it, and the next start replays it', async (t) => {
  const { file, journal } = await journalIn(t)
  journal.admitted('k1', entry(1))
  journal.admitted('k2', entry(2))
  journal.admitted('k3', entry(3))
  await journal.written()
  const afterAdmissions = statSync(`${file}.log`).size
  journal.bound('k1', 'int_1', 'accepted', 'answer-1')
  journal.unknown('k2', 7_000)
  journal.completed('int_1')
  journal.bound('k3', 'int_3', 'accepted', 'answer-3')
  await journal.written()
  t.ok(statSync(`${file}.log`).size - afterAdmissions < 200, 'a binding adds a short line, not the admission again')
  t.same(rowsOf(file), [], 'the SQLite file is not written per turn')
  // No close(): the process was killed. A last line cut short by the kill is left out.
  appendFileSync(`${file}.log`, '["a","k9",{"json":"{}","upst')

  const again = new JournalFile(file)
  t.same(again.load('default').entries, [['k2', { ...entry(2), unknownSinceMs: 7_000 }], ['k3', boundEntry(3)]], 'the log replayed in order')
  t.same(rowsOf(file), [['k2', { ...entry(2), unknownSinceMs: 7_000 }], ['k3', boundEntry(3)]], 'and folded into the SQLite file at start')
  again.close()
  t.notOk(existsSync(`${file}.log`), 'a clean stop folds the log and removes it')
  t.same(rowsOf(file), [['k2', { ...entry(2), unknownSinceMs: 7_000 }], ['k3', boundEntry(3)]], 'every entry whole in its row: what older releases read')
})

t.test('a grown log is folded into the SQLite file: the live entries written whole, the ended ones gone', async (t) => {
  const { file, journal } = await journalIn(t, { foldAtBytes: 2_000 })
  for (let n = 1; n <= 40; n++) {
    journal.admitted(`k${n}`, entry(n))
    await journal.written()
    journal.bound(`k${n}`, `int_${n}`, 'accepted', `answer-${n}`)
    if (n % 10 !== 0) journal.completed(`int_${n}`)
    await journal.written()
  }
  t.ok(statSync(`${file}.log`).size < 2_000 + 300, 'the log was started again once it reached its size')
  const rows = rowsOf(file)
  // What was live at the last fold: the entries kept so far, and at most the one admitted in that turn.
  t.ok(rows.length > 0 && rows.length <= 4, `the ended entries are not in the SQLite file (${rows.map(([k]) => k).join(' ')})`)
  // Killed after folds: the SQLite file and the log together hold every live entry.
  const again = new JournalFile(file)
  t.same(again.load('default').entries, [10, 20, 30, 40].map((n) => [`k${n}`, boundEntry(n)]))
  again.close()
})

t.test('a log left by a killed instance is not replayed over a SQLite file another release wrote since', async (t) => {
  const { file, journal } = await journalIn(t)
  journal.admitted('k1', entry(1))
  journal.admitted('k2', entry(2))
  await journal.written()
  // Killed; rolled back to a release before the log, which registered k1 again, saw it end, and admitted k3.
  const older = new Database(file)
  older.prepare('INSERT OR REPLACE INTO admissions (key, created_at_ms, entry) VALUES (?, ?, ?)').run('k3', 1_003, JSON.stringify(entry(3)))
  older.close()
  const again = new JournalFile(file)
  t.same(again.load('default').entries, [['k3', entry(3)]], 'the SQLite file as the older release left it; the stale log ignored')
  again.close()
})

t.test('a file of an older release reads whole: its bindings rows, or whole rows before that table', async (t) => {
  const file = await fileIn(t)
  // 0.6.0 to 0.13.0: an admission's row, and what came after it in a bindings row.
  const older = new Database(file)
  older.exec(`CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE admissions (key TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, entry TEXT NOT NULL);
    CREATE TABLE bindings (key TEXT PRIMARY KEY, later TEXT NOT NULL);`)
  older.prepare("INSERT INTO meta VALUES ('namespace', 'default')").run()
  const insert = older.prepare('INSERT INTO admissions (key, created_at_ms, entry) VALUES (?, ?, ?)')
  insert.run('k1', 1_001, JSON.stringify(entry(1)))
  insert.run('k2', 1_002, JSON.stringify(entry(2)))
  older.prepare('INSERT INTO bindings (key, later) VALUES (?, ?)').run('k1', JSON.stringify({ id: 'int_1', phase: 'accepted', response: 'answer-1' }))
  older.close()
  const disk = new JournalFile(file)
  t.same(disk.load('default').entries, [['k1', boundEntry(1)], ['k2', entry(2)]])
  disk.close()
  t.same(rowsOf(file), [['k1', boundEntry(1)], ['k2', entry(2)]], 'the bindings folded into their admissions\' rows')

  // 0.5.0: whole rows and no bindings table.
  const oldest = new Database(file)
  oldest.exec('DROP TABLE bindings')
  oldest.prepare('INSERT OR REPLACE INTO admissions (key, created_at_ms, entry) VALUES (?, ?, ?)').run('k3', 1_003, JSON.stringify(boundEntry(3)))
  oldest.close()
  const upgraded = new JournalFile(file)
  t.same(new Map(upgraded.load('default').entries).get('k3'), boundEntry(3))
  upgraded.close()
})
