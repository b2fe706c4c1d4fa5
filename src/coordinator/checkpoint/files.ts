/**
 * Checkpoints on disk: `<id>.json` (or `<id>.json.gz` past the compression threshold) and `<id>.meta.json` holding
 * the SHA-256 of the body's stored bytes. Both written atomically (temporary file, fsync, rename, fsync of the
 * directory); the meta last, so a checkpoint exists only once its body is complete. Validation re-hashes the body
 * and parses it, so any flipped byte is caught.
 */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { CheckpointCorruptError, CheckpointNotFoundError } from '../errors.js'
import { CHECKPOINT_FORMAT, type CheckpointMeta, type SystemCheckpoint, type ValidationResult } from './types.js'

const ID_RE = /^[A-Za-z0-9_.-]+$/
const FILE_RE = /^[A-Za-z0-9_.-]{1,255}$/

export interface CheckpointFilesOptions {
  dir: string
  /** Bodies larger than this (bytes) are gzip-compressed; 0 compresses every checkpoint. */
  compressThresholdBytes: number
}

export class CheckpointFiles {
  constructor (private readonly options: CheckpointFilesOptions) {}

  get dir (): string { return this.options.dir }

  /** Serialises, hashes and writes a checkpoint atomically; returns its meta. */
  write (checkpoint: SystemCheckpoint): CheckpointMeta {
    assertId(checkpoint.id)
    mkdirSync(this.options.dir, { recursive: true })
    const raw = serialise(checkpoint)
    const compressed = this.options.compressThresholdBytes === 0 || raw.length > this.options.compressThresholdBytes
    const body = compressed ? gzipSync(raw, { level: 1 }) : raw
    const file = `${checkpoint.id}.json${compressed ? '.gz' : ''}`
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      id: checkpoint.id,
      upgrade_id: checkpoint.upgrade_id,
      created_at_ms: checkpoint.created_at_ms,
      file,
      compressed,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      inflight_count: checkpoint.inflight.length,
      pending_ibc_count: checkpoint.pending_ibc_packets.length,
      contract_settlements_count: checkpoint.contract?.inflight_settlements.length ?? 0,
      protocol_version: checkpoint.protocol_version
    }
    this.writeAtomic(file, body)
    this.writeAtomic(`${checkpoint.id}.meta.json`, Buffer.from(JSON.stringify(meta, null, 2) + '\n'))
    return meta
  }

  list (): CheckpointMeta[] {
    let names: string[]
    try {
      names = readdirSync(this.options.dir)
    } catch {
      return []
    }
    const metas: CheckpointMeta[] = []
    for (const name of names) {
      if (!name.endsWith('.meta.json')) continue
      try {
        metas.push(this.meta(name.slice(0, -'.meta.json'.length)))
      } catch {
        // A meta that cannot be read is reported by validate, not by the listing.
      }
    }
    return metas.sort((a, b) => b.created_at_ms - a.created_at_ms)
  }

  meta (id: string): CheckpointMeta {
    assertId(id)
    let text: string
    try {
      text = readNoFollow(path.join(this.options.dir, `${id}.meta.json`)).toString('utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CheckpointNotFoundError(`no checkpoint '${id}' in ${this.options.dir}`)
      throw new CheckpointCorruptError(`checkpoint ${id}: cannot read its meta file: ${(err as Error).message}`, { cause: err })
    }
    let meta: CheckpointMeta
    try {
      meta = JSON.parse(text) as CheckpointMeta
    } catch (err) {
      throw new CheckpointCorruptError(`checkpoint ${id}: its meta file is not valid JSON`, { cause: err })
    }
    if (meta.format !== CHECKPOINT_FORMAT || meta.id !== id || typeof meta.sha256 !== 'string' || typeof meta.file !== 'string') {
      throw new CheckpointCorruptError(`checkpoint ${id}: its meta file does not describe this checkpoint`)
    }
    // The body is read (and pruned) by this name: only a plain file name inside the checkpoint dir, never a path.
    if (!FILE_RE.test(meta.file) || meta.file === '.' || meta.file === '..') {
      throw new CheckpointCorruptError(`checkpoint ${id}: its meta file names ${JSON.stringify(meta.file.slice(0, 120))}, not a plain file name inside the checkpoint dir`)
    }
    return meta
  }

  /** Checks the stored bytes against the recorded SHA-256 and that the content parses as this checkpoint. */
  validate (id: string): ValidationResult {
    try {
      this.read(id)
      return { id, valid: true, problems: [] }
    } catch (err) {
      if (err instanceof CheckpointNotFoundError) throw err
      return { id, valid: false, problems: [(err as Error).message] }
    }
  }

  /** Reads a checkpoint, refusing one that fails validation. */
  read (id: string): SystemCheckpoint {
    const meta = this.meta(id)
    let body: Buffer
    try {
      body = readNoFollow(path.join(this.options.dir, meta.file))
    } catch (err) {
      throw new CheckpointCorruptError(`checkpoint ${id}: its body ${meta.file} cannot be read: ${(err as Error).message}`, { cause: err })
    }
    const actual = createHash('sha256').update(body).digest('hex')
    if (actual !== meta.sha256) {
      throw new CheckpointCorruptError(`checkpoint ${id}: SHA-256 mismatch (recorded ${meta.sha256}, content ${actual}): the file is corrupt`)
    }
    let parsed: SystemCheckpoint
    try {
      parsed = JSON.parse((meta.compressed ? gunzipSync(body) : body).toString('utf8')) as SystemCheckpoint
    } catch (err) {
      throw new CheckpointCorruptError(`checkpoint ${id}: content does not parse: ${(err as Error).message}`, { cause: err })
    }
    if (parsed.format !== CHECKPOINT_FORMAT || parsed.id !== id || !Array.isArray(parsed.inflight)) {
      throw new CheckpointCorruptError(`checkpoint ${id}: content is not this checkpoint`)
    }
    return parsed
  }

  /** Removes checkpoints older than `retentionMs` (0 keeps everything); never the ones in `keep`. */
  prune (retentionMs: number, keep: ReadonlySet<string>, now = Date.now()): string[] {
    if (retentionMs <= 0) return []
    const removed: string[] = []
    for (const meta of this.list()) {
      if (keep.has(meta.id) || now - meta.created_at_ms <= retentionMs) continue
      rmSync(path.join(this.options.dir, `${meta.id}.meta.json`), { force: true })
      rmSync(path.join(this.options.dir, meta.file), { force: true })
      removed.push(meta.id)
    }
    return removed
  }

  private writeAtomic (name: string, data: Buffer): void {
    const final = path.join(this.options.dir, name)
    // A fresh name, created exclusively and never through a link: a file or symlink planted in the directory under
    // a predictable name cannot redirect the write (or truncate what it points to); it fails instead.
    const tmp = `${final}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      let offset = 0
      while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, final)
    const dirFd = openSync(this.options.dir, 'r')
    try { fsyncSync(dirFd) } finally { closeSync(dirFd) }
  }
}

/** A file's bytes, refusing (ELOOP) when the name is a symbolic link: a planted link cannot make us read elsewhere. */
function readNoFollow (file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** JSON of the checkpoint built in pieces, so 100k records never become one giant intermediate string twice. */
function serialise (checkpoint: SystemCheckpoint): Buffer {
  const { inflight, ...rest } = checkpoint
  const head = JSON.stringify(rest)
  const parts: string[] = [head.slice(0, -1), ',"inflight":[']
  for (let i = 0; i < inflight.length; i++) parts.push((i === 0 ? '' : ',') + JSON.stringify(inflight[i]))
  parts.push(']}')
  return Buffer.from(parts.join(''), 'utf8')
}

function assertId (id: string): void {
  if (!ID_RE.test(id)) throw new CheckpointNotFoundError(`'${id}' is not a checkpoint id`)
}
