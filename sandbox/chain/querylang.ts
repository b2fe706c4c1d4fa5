/**
 * CometBFT's event query language, the part clients use: conditions joined by AND, each
 * `key = 'text'`, `key = 12`, `key < / <= / > / >= number`, `key CONTAINS 'text'` or `key EXISTS`.
 * A condition holds when any value recorded under its key satisfies it (tx_search and subscribe).
 */
export interface Condition {
  key: string
  op: '=' | '<' | '<=' | '>' | '>=' | 'CONTAINS' | 'EXISTS'
  value?: string | number
}

export class QuerySyntaxError extends Error {
  constructor (query: string, detail: string) {
    super(`failed to parse query "${query}": ${detail}`)
    this.name = 'QuerySyntaxError'
  }
}

const CONDITION = /^\s*([A-Za-z0-9_.\-/]+)\s*(?:(<=|>=|=|<|>)\s*(?:'([^']*)'|(-?[0-9]+(?:\.[0-9]+)?))|\s(CONTAINS)\s+'([^']*)'|\s(EXISTS))\s*$/

export function parseQuery (query: string): Condition[] {
  if (query.trim() === '') throw new QuerySyntaxError(query, 'empty query')
  return query.split(/\s+AND\s+/).map(part => {
    const match = CONDITION.exec(part)
    if (match === null) throw new QuerySyntaxError(query, `cannot parse condition "${part.trim()}"`)
    const key = match[1] as string
    if (match[7] !== undefined) return { key, op: 'EXISTS' }
    if (match[5] !== undefined) return { key, op: 'CONTAINS', value: match[6] ?? '' }
    const value = match[3] !== undefined ? match[3] : Number(match[4])
    return { key, op: match[2] as Condition['op'], value }
  })
}

export function matches (conditions: Condition[], attributes: Record<string, string[]>): boolean {
  return conditions.every(condition => {
    const values = attributes[condition.key]
    if (values === undefined || values.length === 0) return false
    return values.some(value => holds(condition, value))
  })
}

function holds (condition: Condition, value: string): boolean {
  switch (condition.op) {
    case 'EXISTS': return true
    case 'CONTAINS': return value.includes(String(condition.value))
    case '=':
      return typeof condition.value === 'number' ? Number(value) === condition.value : value === condition.value
    default: {
      const left = Number(value)
      const right = Number(condition.value)
      if (Number.isNaN(left) || Number.isNaN(right)) return false
      if (condition.op === '<') return left < right
      if (condition.op === '<=') return left <= right
      if (condition.op === '>') return left > right
      return left >= right
    }
  }
}
