// The admission journal on disk: what a process wrote is what the next one reads, in order, of its own
// namespace only; the oldest entry forgotten when full is gone from the file too; and a file that cannot be
// written does not lose the changes (they go with the next write).
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { AdmissionJournal, type JournalChange, type JournalEntry, type JournalPersistence } from '../../src/store/redis/admission-journal.js'
import { JournalFile } from '../../src/store/redis/journal-file.js'

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

t.test('a binding is a small row of its own, read back with its admission; a file of whole rows reads as before', async (t) => {
  const file = await fileIn(t)
  const disk = new JournalFile(file)
  disk.load('default')
  const journal = new AdmissionJournal(100, disk)
  journal.admitted('k1', entry(1))
  journal.admitted('k2', entry(2))
  await journal.written()
  journal.bound('k1', 'int_1', 'accepted', 'answer-1')
  journal.unknown('k2', 7_000)
  await journal.written()
  const raw = new Database(file, { readonly: true })
  const rows = raw.prepare('SELECT key, entry FROM admissions ORDER BY key').all() as Array<{ key: string, entry: string }>
  t.same(rows.map((r) => JSON.parse(r.entry) as unknown), [entry(1), entry(2)], 'the admissions\' rows were not rewritten')
  t.equal((raw.prepare('SELECT count(*) AS n FROM bindings').get() as { n: number }).n, 2)
  raw.close()
  journal.bound('k2', 'int_2', 'accepted', 'answer-2')
  // Admitted again (a key re-registered): its earlier binding must not come back with it.
  journal.admitted('k1', entry(11))
  await journal.written()
  disk.close()

  const again = new JournalFile(file)
  const read = new Map(again.load('default').entries)
  t.same(read.get('k1'), entry(11), 'admitted again: the old binding is gone')
  t.same(read.get('k2'), { ...entry(2), id: 'int_2', phase: 'accepted', response: 'answer-2' }, 'bound after an unknown outcome: no longer unknown')
  again.close()

  // Closed: the bindings are folded into the admissions' rows, what a release before the table (0.5.0) reads.
  const closed = new Database(file, { readonly: true })
  const folded = closed.prepare('SELECT key, entry FROM admissions ORDER BY key').all() as Array<{ key: string, entry: string }>
  t.same(folded.map((r) => [r.key, JSON.parse(r.entry) as unknown]), [
    ['k1', entry(11)],
    ['k2', { ...entry(2), id: 'int_2', phase: 'accepted', response: 'answer-2' }]
  ], 'each admission\'s row carries its binding once the file is closed')
  t.equal((closed.prepare('SELECT count(*) AS n FROM bindings').get() as { n: number }).n, 0, 'no binding row left')
  closed.close()

  // A file written before the bindings table: whole rows carry their bindings.
  const old = new Database(file)
  old.exec('DROP TABLE bindings')
  old.prepare('INSERT OR REPLACE INTO admissions (key, created_at_ms, entry) VALUES (?, ?, ?)').run('k3', 1_003, JSON.stringify({ ...entry(3), id: 'int_3', phase: 'accepted', response: 'answer-3' }))
  old.close()
  const upgraded = new JournalFile(file)
  t.same(new Map(upgraded.load('default').entries).get('k3'), { ...entry(3), id: 'int_3', phase: 'accepted', response: 'answer-3' })
  upgraded.close()
})
