/**
 * Compiles TypeBox schemas once with ajv (`allErrors`) and turns ajv's errors into FieldErrors that name each
 * failing field by JSON pointer. Compilation happens at catalog construction; the hot path only calls the
 * compiled function.
 */
import { Ajv, type ErrorObject } from 'ajv'
import type { TSchema } from '@sinclair/typebox'
import type { FieldError } from './types.js'

export type CompiledValidator = (body: unknown) => FieldError[] | null

export function createAjv (): Ajv {
  // verbose: errors carry their schema, so a failed pattern can say what it expected in words.
  return new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true })
}

export function compile (ajv: Ajv, schema: TSchema): CompiledValidator {
  const validate = ajv.compile(schema)
  return (body) => validate(body) ? null : toFieldErrors(validate.errors ?? [])
}

/** One entry per failing field; a field failing several rules gets their messages joined. */
function toFieldErrors (errors: readonly ErrorObject[]): FieldError[] {
  const byField = new Map<string, FieldError>()
  for (const e of errors) {
    const fe = toFieldError(e)
    const known = byField.get(fe.field)
    if (known === undefined) byField.set(fe.field, fe)
    else if (!known.message.split('; ').includes(fe.message)) known.message += `; ${fe.message}`
  }
  return [...byField.values()]
}

function toFieldError (e: ErrorObject): FieldError {
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return { field: `${e.instancePath}/${escapePointer(String(params['missingProperty']))}`, message: 'is required' }
    case 'additionalProperties':
      return { field: `${e.instancePath}/${escapePointer(String(params['additionalProperty']))}`, message: 'is not a field of this version' }
    case 'const':
      return { field: e.instancePath, message: `must be ${JSON.stringify(params['allowedValue'])}` }
    case 'enum':
      return { field: e.instancePath, message: `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` }
    case 'pattern': {
      const description = (e.parentSchema as { description?: unknown } | undefined)?.description
      return { field: e.instancePath, message: typeof description === 'string' ? `must be ${description}` : e.message ?? 'is invalid' }
    }
    default:
      return { field: e.instancePath, message: e.message ?? 'is invalid' }
  }
}

/** RFC 6901: `~` and `/` inside a key are escaped. */
export function escapePointer (key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}
