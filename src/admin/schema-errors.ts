/**
 * Request validation from the routes' TypeBox schemas (compiled with TypeBox's own compiler, as
 * @fastify/type-provider-typebox does), with the failures said in the admin API's words: every failing field as
 * a JSON pointer with a short message in the admin API's words, and one 400 naming every problem.
 */
import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value'
import type { FieldError } from '../versions/types.js'
import { InvalidAdminRequestError } from './errors.js'

/** One ValueError in the admin API's wording. */
function messageOf (e: ValueError): string {
  const s = e.schema as Record<string, any>
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty: return 'is required'
    case ValueErrorType.ObjectAdditionalProperties: return `unknown field (known: ${Object.keys(s.properties ?? {}).join(', ')})`
    case ValueErrorType.Object: return e.path === '' ? 'the body must be a JSON object' : 'must be an object'
    case ValueErrorType.Integer: return 'must be an integer'
    case ValueErrorType.Number: return 'must be a number'
    case ValueErrorType.String: return 'must be a string'
    case ValueErrorType.Boolean: return 'must be true or false'
    case ValueErrorType.Array: return s.items?.type === 'string' ? 'must be an array of strings' : 'must be an array'
    case ValueErrorType.IntegerMinimum: case ValueErrorType.NumberMinimum: return `must be at least ${String(s.minimum)}`
    case ValueErrorType.IntegerMaximum: case ValueErrorType.NumberMaximum: return `must be at most ${String(s.maximum)}`
    case ValueErrorType.StringMaxLength: return `must be at most ${String(s.maxLength)} characters`
    case ValueErrorType.StringMinLength: return `must be at least ${String(s.minLength)} characters`
    // A pattern says nothing to a reader: the schema carries its words (`errorMessage`).
    case ValueErrorType.StringPattern: return typeof s.errorMessage === 'string' ? s.errorMessage : `must match ${String(s.pattern)}`
    case ValueErrorType.Union:
      if (Array.isArray(s.anyOf) && s.anyOf.every((o: { const?: unknown }) => o.const !== undefined)) {
        return `must be one of ${(s.anyOf as Array<{ const: unknown }>).map((o) => JSON.stringify(o.const)).join(', ')}`
      }
      return e.message.toLowerCase()
    default: return e.message.toLowerCase()
  }
}

/** The first problem of each field (a missing field is "required", not also "not a string"). */
export function fieldErrors (schema: TSchema, value: unknown): FieldError[] {
  const seen = new Set<string>()
  const out: FieldError[] = []
  for (const e of TypeCompiler.Compile(schema).Errors(value)) {
    if (seen.has(e.path)) continue
    seen.add(e.path)
    out.push({ field: e.path, message: messageOf(e) })
  }
  return out
}

export function invalidRequest (part: string, problems: FieldError[]): InvalidAdminRequestError {
  const detail = problems.map((p) => (p.field === '' ? p.message : `${p.field.slice(1)}: ${p.message}`)).join('; ')
  return new InvalidAdminRequestError(part === 'body' ? detail : `invalid ${part}: ${detail}`, problems)
}

/** fastify's validatorCompiler: bodies as they are, params and query strings converted first (all text). */
export const typeboxValidator: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema)
  return (value: unknown) => {
    // A POST without a body (no Content-Length) reaches here as null: it is read as `{}`, as an empty body is.
    const converted = httpPart === 'body' ? (value ?? {}) : Value.Convert(schema, value)
    if (check.Check(converted)) return { value: converted }
    return { error: invalidRequest(httpPart ?? 'body', fieldErrors(schema, converted)) }
  }
}
