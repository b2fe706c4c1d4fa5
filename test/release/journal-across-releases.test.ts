// The admission journal file across adjacent releases on one disk (a gateway rolled forward, then back): what this
// release wrote and closed, the previous release's own code reads with every binding, and the other way round.
// The previous release runs in a process of its own (its build from release/previous, cached like the rolling
// test's), reading and writing the same file.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { pathToFileURL } from 'node:url'
import type { JournalEntry } from '../../src/store/redis/admission-journal.js'
import { JournalFile } from '../../src/store/redis/journal-file.js'
import { previousRelease, type Release } from '../helpers/release.js'

const run = promisify(execFile)

// A cold build of the previous release (npm ci and tsc) takes minutes on a busy machine; cached after.
t.setTimeout(20 * 60_000)

const admitted = (n: number): JournalEntry => ({ json: `{"n":${n}}`, upstream: 'blue', createdAtMs: 1_000 + n })
const bound = (n: number): JournalEntry => ({ ...admitted(n), id: `int_${n}`, phase: 'accepted', response: `answer-${n}` })

async function fileIn (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'intent-gate-journal-releases-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return path.join(dir, 'coordinator.sqlite.admissions')
}

/** Runs `body` in a process of the previous release's build, with its JournalFile as `JournalFile`; returns its output. */
async function inPrevious (release: Release, file: string, body: string): Promise<unknown> {
  const module = pathToFileURL(path.join(release.dir, 'dist/src/store/redis/journal-file.js')).href
  const script = `const { JournalFile } = await import(${JSON.stringify(module)}); const file = ${JSON.stringify(file)};\n${body}`
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: release.dir })
  return JSON.parse(stdout) as unknown
}

t.test('a journal this release closed is read whole by the previous release, and the other way round', async (t) => {
  const previous = await previousRelease()
  t.comment(`previous release ${previous.version} (${previous.commit.slice(0, 7)}), ${previous.took.cached ? 'cached' : `built in ${Math.round(previous.took.ms / 1000)} s`}`)

  const file = await fileIn(t)
  const current = new JournalFile(file)
  current.load('default')
  current.write(new Map([['k1', { entry: admitted(1), admitted: true }], ['k2', { entry: admitted(2), admitted: true }]]))
  current.write(new Map([['k1', { entry: bound(1), admitted: false }]]))
  current.close()

  const read = await inPrevious(previous, file, "const f = new JournalFile(file); const c = f.load('default'); f.close(); console.log(JSON.stringify(c.entries))")
  t.same(read, [['k1', bound(1)], ['k2', admitted(2)]], `${previous.version} reads the binding this release wrote`)

  // Rolled forward again: what the previous release bound, this release reads. The script is written against the
  // previous release's JournalFile (0.6.0's: a change per key, `{ entry, admitted }`); a release that changes that
  // API changes this line when it becomes release/previous.
  await inPrevious(previous, file, `const f = new JournalFile(file); f.load('default'); f.write(new Map([['k2', { entry: ${JSON.stringify(bound(2))}, admitted: false }]])); f.close(); console.log('null')`)
  const again = new JournalFile(file)
  t.same(again.load('default').entries, [['k1', bound(1)], ['k2', bound(2)]], 'this release reads the binding the previous one wrote')
  again.close()
})
