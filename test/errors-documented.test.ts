// Keeps the error codes and their documentation in step: every `IG_ERR_*` code raised anywhere in src/ is listed
// in docs/errors.md, and docs/errors.md lists no code that no longer exists; each documented problem type has the
// status the table in src/errors.ts gives it, and every type there is documented.
import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PROBLEM_TYPES, type ProblemType } from '../src/errors.js'

const root = new URL('..', import.meta.url).pathname
const sources = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name)
  return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : []
})
const codeRe = /code(?::\s*string)?\s*=\s*'(IG_ERR_[A-Z0-9_]+)'/g

t.test('every error code in src/ is documented in docs/errors.md, and nothing more', async (t) => {
  const inCode = new Set<string>()
  for (const file of sources(join(root, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(codeRe)) inCode.add(m[1] as string)
  }
  const docs = readFileSync(join(root, 'docs/errors.md'), 'utf8')
  const inDocs = new Set([...docs.matchAll(/`(IG_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1] as string))
  t.ok(inCode.size > 5, 'codes found in src/')
  t.same([...inCode].filter((c) => !inDocs.has(c)).sort(), [], 'codes missing from docs/errors.md')
  t.same([...inDocs].filter((c) => !inCode.has(c)).sort(), [], 'documented codes that no longer exist')
})

t.test('every problem type in docs/errors.md answers with the status the table of problem types gives', async (t) => {
  const docs = readFileSync(join(root, 'docs/errors.md'), 'utf8')
  const rows = [...docs.matchAll(/^\| `IG_ERR_[A-Z0-9_]+` \| (\d{3})[^|]*\| `([a-z-]+)` \|/gm)].map((m) => ({ status: Number(m[1]), type: m[2] as string }))
  t.ok(rows.length > 20, `${rows.length} documented problems`)
  for (const { status, type } of rows) {
    t.equal(PROBLEM_TYPES[type as ProblemType]?.status, status, `${type}: ${status}`)
  }
  const documented = new Set(rows.map((r) => r.type))
  t.same(Object.keys(PROBLEM_TYPES).filter((type) => type !== 'internal' && !documented.has(type)), [], 'problem types missing from docs/errors.md')
})
