/** The chain's command line: `--listen HOST:PORT [--state FILE] [--block-ms N] [--ack-delay-ms N]`. */
export interface ChainArgs {
  host: string
  port: number
  stateFile: string | undefined
  blockMs: number
  ackDelayMs: number | undefined
}

export class UsageError extends Error {
  readonly code = 'IG_ERR_SANDBOX_USAGE'
}

const FLAGS = ['--listen', '--state', '--block-ms', '--ack-delay-ms']

export function parseChainArgs (argv: string[]): ChainArgs {
  const values = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    if (!FLAGS.includes(flag)) throw new UsageError(`unknown option '${arg}' (expected ${FLAGS.join(', ')})`)
    const value = inline ?? argv[++i]
    if (value === undefined || value === '') throw new UsageError(`option '${flag}' needs a value`)
    values.set(flag, value)
  }
  const listen = values.get('--listen')
  if (listen === undefined) throw new UsageError("option '--listen HOST:PORT' is required")
  const match = /^(.+):(\d+)$/.exec(listen)
  if (match === null || Number(match[2]) > 65535) throw new UsageError(`option '--listen' must be HOST:PORT (port 0 picks a free one), got '${listen}'`)
  return {
    host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'),
    port: Number(match[2]),
    stateFile: values.get('--state'),
    blockMs: positiveInt(values.get('--block-ms'), '--block-ms', 200, 1),
    ackDelayMs: values.has('--ack-delay-ms') ? positiveInt(values.get('--ack-delay-ms'), '--ack-delay-ms', 0, 0) : undefined
  }
}

function positiveInt (raw: string | undefined, flag: string, fallback: number, min: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`option '${flag}' must be an integer >= ${min}, got '${raw}'`)
  return value
}
