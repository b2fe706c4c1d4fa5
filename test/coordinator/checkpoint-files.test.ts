// Checkpoint files: written atomically with a SHA-256, compressed past the threshold, any flipped byte caught by
// validate, old ones pruned after retention, and 100,000 inflight intents written and validated in seconds.
import t from 'tap'
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CheckpointFiles } from '../../src/coordinator/checkpoint/files.js'
import { runCheckpointBench, sampleCheckpoint } from '../../bench/checkpoint.js'

function dir (t: { teardown (fn: () => unknown): void }): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'ig-ckpt-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

function flipByte (file: string, at: number): void {
  const bytes = readFileSync(file)
  bytes[at] = (bytes[at] as number) ^ 0x01
  writeFileSync(file, bytes)
}

for (const compressed of [false, true]) {
  t.test(`${compressed ? 'compressed' : 'plain'}: round trip, then one flipped byte anywhere is caught`, async (t) => {
    const d = dir(t)
    const files = new CheckpointFiles({ dir: d, compressThresholdBytes: compressed ? 0 : 100 * 1024 * 1024 })
    const checkpoint = sampleCheckpoint(50, 'ckpt-a')
    const meta = files.write(checkpoint)
    t.equal(meta.compressed, compressed)
    t.equal(meta.file, compressed ? 'ckpt-a.json.gz' : 'ckpt-a.json')
    t.same(readdirSync(d).sort(), [meta.file, 'ckpt-a.meta.json'].sort(), 'no temporary files left')
    t.same(files.validate('ckpt-a'), { id: 'ckpt-a', valid: true, problems: [] })
    t.same(files.read('ckpt-a'), checkpoint, 'reads back exactly what was written')

    const body = path.join(d, meta.file)
    for (const at of [0, Math.floor(meta.bytes / 2), meta.bytes - 1]) {
      const original = readFileSync(body)
      flipByte(body, at)
      const result = files.validate('ckpt-a')
      t.equal(result.valid, false, `byte ${at} flipped: invalid`)
      t.match(result.problems[0], /SHA-256 mismatch/)
      t.throws(() => files.read('ckpt-a'), { code: 'IG_ERR_CHECKPOINT_CORRUPT' }, 'and refused for a restore')
      writeFileSync(body, original)
    }
    t.equal(files.validate('ckpt-a').valid, true, 'valid again once restored')
  })
}

t.test('a corrupted meta file is caught too; an unknown id is not found', async (t) => {
  const d = dir(t)
  const files = new CheckpointFiles({ dir: d, compressThresholdBytes: 1 << 30 })
  files.write(sampleCheckpoint(3, 'ckpt-m'))
  const metaFile = path.join(d, 'ckpt-m.meta.json')
  const text = readFileSync(metaFile, 'utf8')
  const sha = /"sha256": "([0-9a-f]+)"/.exec(text)?.[1] as string
  writeFileSync(metaFile, text.replace(sha, sha.slice(0, -1) + (sha.endsWith('0') ? '1' : '0')))
  t.equal(files.validate('ckpt-m').valid, false)
  writeFileSync(metaFile, text.slice(0, 20))
  const truncated = files.validate('ckpt-m')
  t.equal(truncated.valid, false)
  t.match(truncated.problems[0], /meta file is not valid JSON/)
  t.throws(() => files.validate('nope'), { code: 'IG_ERR_CHECKPOINT_NOT_FOUND' })
  t.throws(() => files.meta('../etc/passwd'), { code: 'IG_ERR_CHECKPOINT_NOT_FOUND' }, 'ids cannot walk out of the directory')
})

t.test("a meta file's `file` must be a plain name inside checkpoint_dir: a path is corrupt, never read or pruned", async (t) => {
  const parent = dir(t)
  const d = path.join(parent, 'checkpoints')
  const files = new CheckpointFiles({ dir: d, compressThresholdBytes: 1 << 30 })
  const meta = files.write(sampleCheckpoint(3, 'ckpt-p'))
  // A complete, hash-matching body outside the directory: only the name can give it away.
  const outside = path.join(parent, 'outside.json')
  writeFileSync(outside, readFileSync(path.join(d, meta.file)))
  const metaFile = path.join(d, 'ckpt-p.meta.json')
  const text = readFileSync(metaFile, 'utf8')
  for (const file of ['../outside.json', outside, 'sub/ckpt-p.json', '..', '', 'ckpt-p.json\u0000']) {
    writeFileSync(metaFile, JSON.stringify({ ...JSON.parse(text), file }))
    t.throws(() => files.read('ckpt-p'), { code: 'IG_ERR_CHECKPOINT_CORRUPT', message: /not a plain file name inside the checkpoint dir/ }, `file ${JSON.stringify(file)}`)
    t.equal(files.validate('ckpt-p').valid, false)
  }
  writeFileSync(metaFile, JSON.stringify({ ...JSON.parse(text), file: '../outside.json', created_at_ms: 0 }))
  t.same(files.prune(1, new Set(), Date.now()), [], 'not pruned either')
  t.ok(existsSync(outside), 'the file outside the directory is untouched')
  writeFileSync(metaFile, text)
  t.equal(files.validate('ckpt-p').valid, true, 'the plain name still reads')
})

t.test('retention removes checkpoints older than retention_days, except those kept', async (t) => {
  const d = dir(t)
  const files = new CheckpointFiles({ dir: d, compressThresholdBytes: 1 << 30 })
  const day = 86_400_000
  const now = Date.now()
  for (const [id, age] of [['old-1', 40], ['old-kept', 40], ['fresh', 1]] as const) {
    files.write({ ...sampleCheckpoint(1, id), created_at_ms: now - age * day })
  }
  t.same(files.prune(30 * day, new Set(['old-kept']), now), ['old-1'])
  t.same(files.list().map((m) => m.id).sort(), ['fresh', 'old-kept'])
  t.notOk(existsSync(path.join(d, 'old-1.json')), 'its body is gone too')
  t.same(files.prune(0, new Set(), now), [], 'retention 0 keeps everything')
})

// How long it takes is the bench's (bench/cases/checkpoint-timing.ts), never a time asserted here: a busy
// machine took 14 s for what a quiet one writes in 2.
t.test('100,000 inflight intents are written and validate', async (t) => {
  const r = runCheckpointBench(100_000)
  t.comment(`write ${r.write_ms} ms, validate ${r.validate_ms} ms, ${(r.bytes / 1048576).toFixed(1)} MiB`)
  t.equal(r.intents, 100_000)
  t.ok(r.bytes > 100_000 * 100, `every intent is in the file (${r.bytes} bytes)`)
})

t.test('links planted in the checkpoint directory are never followed', async (t) => {
  const d = dir(t)
  const outside = dir(t)
  const victim = path.join(outside, 'victim.txt')
  writeFileSync(victim, 'keep me')
  const files = new CheckpointFiles({ dir: d, compressThresholdBytes: 100 * 1024 * 1024 })
  // The temporary names the writer used before (`<file>.tmp-<pid>`) and the final names, all links to the victim.
  for (const name of [`ckpt-l.json.tmp-${process.pid}`, `ckpt-l.meta.json.tmp-${process.pid}`]) symlinkSync(victim, path.join(d, name))
  const meta = files.write(sampleCheckpoint(5, 'ckpt-l'))
  t.equal(readFileSync(victim, 'utf8'), 'keep me', 'the write went to a fresh file, not through a link')
  t.same(files.validate('ckpt-l'), { id: 'ckpt-l', valid: true, problems: [] })
  t.ok(lstatSync(path.join(d, meta.file)).isFile())

  // A checkpoint's body replaced by a link: read refuses it (ELOOP) rather than reading the link's target.
  rmSync(path.join(d, meta.file))
  symlinkSync(victim, path.join(d, meta.file))
  const result = files.validate('ckpt-l')
  t.equal(result.valid, false)
  t.match(result.problems[0], /cannot be read/)
  symlinkSync(victim, path.join(d, 'ckpt-m.meta.json'))
  t.throws(() => files.meta('ckpt-m'), /cannot read its meta file/, 'a meta file that is a link is not read')
})
