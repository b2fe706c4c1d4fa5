/**
 * Reads the fields of an admin request body, collecting every problem so one 400 names all of them (field as a
 * JSON pointer, like the proxy's intent errors) instead of making the operator fix one field per round trip.
 */
import type { FieldError } from '../versions/types.js'
import { InvalidAdminRequestError } from './errors.js'

export class BodyFields {
  private readonly problems: FieldError[] = []
  private readonly object: Record<string, unknown>

  constructor (body: unknown) {
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      this.object = body as Record<string, unknown>
    } else {
      this.object = {}
      this.fail('', 'the body must be a JSON object')
    }
  }

  integer (name: string, opts: { min?: number, max?: number } = {}): number | undefined {
    const v = this.object[name]
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return this.fail(name, 'must be an integer')
    if (opts.min !== undefined && v < opts.min) return this.fail(name, `must be at least ${opts.min}`)
    if (opts.max !== undefined && v > opts.max) return this.fail(name, `must be at most ${opts.max}`)
    return v
  }

  string (name: string, opts: { maxLength?: number } = {}): string | undefined {
    const v = this.object[name]
    if (v === undefined) return undefined
    if (typeof v !== 'string') return this.fail(name, 'must be a string')
    if (opts.maxLength !== undefined && v.length > opts.maxLength) return this.fail(name, `must be at most ${opts.maxLength} characters`)
    return v
  }

  boolean (name: string): boolean | undefined {
    const v = this.object[name]
    if (v === undefined) return undefined
    if (typeof v !== 'boolean') return this.fail(name, 'must be true or false')
    return v
  }

  stringArray (name: string): string[] | undefined {
    const v = this.object[name]
    if (v === undefined) return undefined
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return this.fail(name, 'must be an array of strings')
    return v as string[]
  }

  /** The raw value of a field that is validated elsewhere. */
  raw (name: string): unknown {
    return this.object[name]
  }

  oneOf<T extends string> (name: string, values: readonly T[]): T | undefined {
    const v = this.object[name]
    if (v === undefined) return undefined
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      return this.fail(name, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`)
    }
    return v as T
  }

  /** Marks a field the caller found missing or wrong for a reason of its own. */
  fail (name: string, message: string): undefined {
    this.problems.push({ field: name === '' ? '' : `/${name}`, message })
    return undefined
  }

  required (name: string, value: unknown): void {
    if (value === undefined && this.object[name] === undefined) this.fail(name, 'is required')
  }

  /** Throws one 400 naming every problem, unknown fields included. */
  done (known: readonly string[]): void {
    for (const key of Object.keys(this.object)) {
      if (!known.includes(key)) this.fail(key, `unknown field (known: ${known.join(', ')})`)
    }
    if (this.problems.length === 0) return
    const detail = this.problems.map((p) => (p.field === '' ? p.message : `${p.field.slice(1)}: ${p.message}`)).join('; ')
    throw new InvalidAdminRequestError(detail, this.problems)
  }
}
