/**
 * The admission journal's log (./journal-file.ts): an append-only file of one line per change, so that a turn's
 * changes cost one write(2) of their own bytes. A SQLite transaction per turn rewrote the B-tree pages of every
 * key it touched and cost the gateway about a fifth of its CPU per submission (issue 30, docs/benchmarks.md).
 *
 * A write is in the operating system's hands when it returns: a killed process loses nothing written, a crash of
 * the machine can lose the last writes (as SQLite with `synchronous = NORMAL`, which the journal used before).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'

export class JournalLog {
  private readonly fd: number
  /** Bytes written whole: a failed write is cut back to this. */
  private size: number
  /** The first line of a restart not written yet. */
  private startWith: string | null = null

  constructor (readonly file: string) {
    // O_APPEND: every write lands at the end, also after the file is cut back.
    this.fd = openSync(file, 'a')
    this.size = fstatSync(this.fd).size
  }

  get bytes (): number {
    return this.size
  }

  /** Every line written whole, oldest first: a last line cut short (a kill, a crash mid-write) is left out. */
  lines (): string[] {
    const text = readFileSync(this.file, 'utf8')
    const end = text.lastIndexOf('\n')
    return end < 0 ? [] : text.slice(0, end).split('\n')
  }

  /**
   * Appends `text` (whole lines); throws when the disk refuses it, leaving no part of it behind. After a restart
   * that did not complete, the file is emptied and started with its first line before `text` goes in.
   */
  append (text: string): void {
    if (this.startWith !== null) {
      ftruncateSync(this.fd, 0)
      this.size = 0
      text = this.startWith + text
    }
    const bytes = Buffer.from(text, 'utf8')
    let written = 0
    try {
      while (written < bytes.length) written += writeSync(this.fd, bytes, written)
    } catch (err) {
      // Half a line would swallow the next line written after it: cut the file back to its last whole line.
      try {
        ftruncateSync(this.fd, this.size)
      } catch {
        // The next start skips a line that does not parse.
      }
      throw err
    }
    this.size += bytes.length
    this.startWith = null
  }

  /**
   * Empties the file and starts it again with `firstLine`. Until that has been written, every append tries it
   * again first: no line may follow the old first line once the caller has moved on from it.
   */
  restart (firstLine: string): void {
    this.startWith = firstLine
    this.append('')
  }

  close (remove: boolean): void {
    closeSync(this.fd)
    if (remove) rmSync(this.file, { force: true })
  }
}
