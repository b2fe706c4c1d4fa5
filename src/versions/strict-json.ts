/**
 * JSON with one meaning. `JSON.parse` reads bodies that other conforming parsers read differently: duplicate keys
 * (it keeps the last, others the first or refuse), invalid UTF-8 (it substitutes U+FFFD, others refuse or keep the
 * bytes), lone surrogate escapes (not text in any encoding), and numbers with several spellings (`10`, `1e1`,
 * `10.0`, `-0`, or digits past 2^53 that round). A gateway that verifies what it parsed and forwards what it
 * received would then vouch for a meaning the service may not read. This reader refuses all of those, so what was
 * verified is the only reading there is (docs/proxy.md, "One meaning").
 *
 * Numbers: every number of an intent schema is an integer, so the one spelling allowed is the plain integer
 * (`-?(0|[1-9][0-9]*)`, not `-0`, within ±(2^53 - 1)).
 *
 * One pass over the text, after a native UTF-8 check; about the cost of `JSON.parse` on a 2 KB intent
 * (docs/benchmarks.md), well under a signature verify.
 */

export type AmbiguityReason = 'invalid_utf8' | 'duplicate_key' | 'lone_surrogate' | 'number_form' | 'syntax' | 'too_deep'

/** Why a body was refused, and where: `pointer` is the JSON pointer of the offending value ('' for the body). */
export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError'
  constructor (readonly reason: AmbiguityReason, readonly pointer: string, message: string) {
    super(message)
  }
}

/** Deeper than any intent needs; a bound keeps a 64 KB body of `[` from exhausting the stack. */
const MAX_DEPTH = 32

// fatal: invalid UTF-8 (and UTF-8-encoded surrogates) throws instead of becoming U+FFFD; ignoreBOM: a BOM is
// kept as a character, which the grammar then refuses (a BOM is not JSON text, RFC 8259 section 8.1).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function parseStrictJson (raw: Uint8Array): unknown {
  let text: string
  try {
    text = decoder.decode(raw)
  } catch {
    throw new StrictJsonError('invalid_utf8', '', 'the body is not valid UTF-8')
  }
  return new Reader(text).document()
}

class Reader {
  private i = 0
  /** Keys and indexes from the root to the value being read: only read when naming an error. */
  private readonly path: Array<string | number> = []

  constructor (private readonly s: string) {}

  document (): unknown {
    this.space()
    const value = this.value(0)
    this.space()
    if (this.i < this.s.length) this.syntax('unexpected text after the JSON value')
    return value
  }

  private value (depth: number): unknown {
    if (depth > MAX_DEPTH) throw new StrictJsonError('too_deep', this.pointer(), `the body nests deeper than ${MAX_DEPTH} levels`)
    const c = this.s.charCodeAt(this.i)
    if (c === 0x7b) return this.object(depth)
    if (c === 0x5b) return this.array(depth)
    if (c === 0x22) return this.string()
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number()
    if (this.s.startsWith('true', this.i)) { this.i += 4; return true }
    if (this.s.startsWith('false', this.i)) { this.i += 5; return false }
    if (this.s.startsWith('null', this.i)) { this.i += 4; return null }
    return this.syntax(this.i >= this.s.length ? 'the body ends where a value was expected' : 'a value was expected')
  }

  private object (depth: number): Record<string, unknown> {
    this.i++
    const out: Record<string, unknown> = {}
    this.space()
    if (this.s.charCodeAt(this.i) === 0x7d) { this.i++; return out }
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 0x22) this.syntax('a key (a string) was expected')
      const key = this.string()
      this.space()
      if (this.s.charCodeAt(this.i) !== 0x3a) this.syntax('":" was expected after a key')
      this.i++
      this.space()
      this.path.push(key)
      if (Object.hasOwn(out, key)) throw new StrictJsonError('duplicate_key', this.pointer(), `the key ${JSON.stringify(key)} appears twice in one object`)
      const item = this.value(depth + 1)
      // A "__proto__" key is data, as JSON.parse makes it, never the object's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true })
      else out[key] = item
      this.path.pop()
      this.space()
      const c = this.s.charCodeAt(this.i++)
      if (c === 0x7d) return out
      if (c !== 0x2c) { this.i--; this.syntax('"," or "}" was expected') }
      this.space()
    }
  }

  private array (depth: number): unknown[] {
    this.i++
    const out: unknown[] = []
    this.space()
    if (this.s.charCodeAt(this.i) === 0x5d) { this.i++; return out }
    for (;;) {
      this.path.push(out.length)
      out.push(this.value(depth + 1))
      this.path.pop()
      this.space()
      const c = this.s.charCodeAt(this.i++)
      if (c === 0x5d) return out
      if (c !== 0x2c) { this.i--; this.syntax('"," or "]" was expected') }
      this.space()
    }
  }

  private string (): string {
    const s = this.s
    const start = ++this.i
    // Fast path: no escapes, the usual case for an intent.
    for (;;) {
      const c = s.charCodeAt(this.i)
      if (c === 0x22) { this.i++; return s.slice(start, this.i - 1) }
      if (c === 0x5c) break
      if (c < 0x20 || Number.isNaN(c)) this.syntax(Number.isNaN(c) ? 'a string is not closed' : 'a control character must be escaped inside a string')
      this.i++
    }
    let out = s.slice(start, this.i)
    for (;;) {
      const c = s.charCodeAt(this.i)
      if (c === 0x22) { this.i++; return out }
      if (Number.isNaN(c)) this.syntax('a string is not closed')
      if (c < 0x20) this.syntax('a control character must be escaped inside a string')
      if (c !== 0x5c) { out += s[this.i++]; continue }
      const e = s.charCodeAt(this.i + 1)
      this.i += 2
      switch (e) {
        case 0x22: out += '"'; break
        case 0x5c: out += '\\'; break
        case 0x2f: out += '/'; break
        case 0x62: out += '\b'; break
        case 0x66: out += '\f'; break
        case 0x6e: out += '\n'; break
        case 0x72: out += '\r'; break
        case 0x74: out += '\t'; break
        case 0x75: out += this.unicodeEscape(); break
        default: this.i -= 2; this.syntax('an invalid escape in a string')
      }
    }
  }

  /** After `\u`: one code unit, or a surrogate pair written as two escapes; a lone half is refused. */
  private unicodeEscape (): string {
    const unit = this.hex4()
    if (unit >= 0xdc00 && unit <= 0xdfff) this.loneSurrogate(unit)
    if (unit >= 0xd800 && unit <= 0xdbff) {
      if (this.s.charCodeAt(this.i) !== 0x5c || this.s.charCodeAt(this.i + 1) !== 0x75) this.loneSurrogate(unit)
      this.i += 2
      const low = this.hex4()
      if (low < 0xdc00 || low > 0xdfff) this.loneSurrogate(unit)
      return String.fromCharCode(unit, low)
    }
    return String.fromCharCode(unit)
  }

  private hex4 (): number {
    const digits = this.s.slice(this.i, this.i + 4)
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.syntax('\\u must be followed by four hex digits')
    this.i += 4
    return parseInt(digits, 16)
  }

  private loneSurrogate (unit: number): never {
    throw new StrictJsonError('lone_surrogate', this.pointer(), `a string holds a lone surrogate (\\u${unit.toString(16).padStart(4, '0')}), which is not text`)
  }

  private number (): number {
    const s = this.s
    const start = this.i
    if (s.charCodeAt(this.i) === 0x2d) this.i++
    const first = s.charCodeAt(this.i)
    if (first === 0x30) this.i++
    else if (first >= 0x31 && first <= 0x39) while (isDigit(s.charCodeAt(this.i))) this.i++
    else this.syntax('a digit was expected')
    const end = this.i
    const next = s.charCodeAt(this.i)
    if (next === 0x2e || next === 0x65 || next === 0x45) {
      throw new StrictJsonError('number_form', this.pointer(), `${this.numberText(start)} is not a plain integer: numbers are written without fraction or exponent`)
    }
    if (isDigit(next)) this.syntax('a number must not have leading zeros')
    const text = s.slice(start, end)
    if (text === '-0') throw new StrictJsonError('number_form', this.pointer(), '-0 is not a plain integer: write 0')
    const value = Number(text)
    if (!Number.isSafeInteger(value)) {
      throw new StrictJsonError('number_form', this.pointer(), `${text} is beyond 2^53 - 1, where parsers disagree on its value`)
    }
    return value
  }

  /** The whole number token as written (for the message), however it continues. */
  private numberText (start: number): string {
    const m = /^-?[0-9]*(\.[0-9]*)?([eE][+-]?[0-9]*)?/.exec(this.s.slice(start, start + 64))
    return m?.[0] ?? this.s.slice(start, this.i)
  }

  private space (): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i)
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return
      this.i++
    }
  }

  private pointer (): string {
    let out = ''
    for (const part of this.path) out += '/' + (typeof part === 'number' ? String(part) : part.replaceAll('~', '~0').replaceAll('/', '~1'))
    return out
  }

  private syntax (message: string): never {
    throw new StrictJsonError('syntax', this.pointer(), `${message} (at character ${this.i})`)
  }
}

function isDigit (c: number): boolean {
  return c >= 0x30 && c <= 0x39
}
