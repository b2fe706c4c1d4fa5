// Keeps the house walkable: no import cycle in src/, between files or between parts (the folders under src/:
// proxy, coordinator, admin...), and src/ never imports sandbox/. Type-only and dynamic imports count: a type
// import is still a dependency a reader must follow, and a dynamic import is one the process makes.
import t from 'tap'
import ts from 'typescript'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const srcDir = join(root, 'src')

interface Edge { from: string, to: string }

/** Every relative import of every .ts file under `dir`, resolved to the file it names (paths relative to root). */
function importEdges (dir: string): Edge[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f))
  return files.flatMap((file) => ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles
    .filter((i) => i.fileName.startsWith('.'))
    .map((i) => ({ from: relative(root, file), to: relative(root, resolveImport(file, i.fileName)) })))
}

function resolveImport (file: string, specifier: string): string {
  const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts')
  if (existsSync(target)) return target
  const index = join(target.replace(/\.ts$/, ''), 'index.ts')
  return existsSync(index) ? index : target
}

/** The cycles of a graph: its strongly connected components with more than one node, or a node importing itself. */
function cycles (edges: Array<[string, string]>): string[][] {
  const next = new Map<string, string[]>()
  for (const [a, b] of edges) {
    next.set(a, [...(next.get(a) ?? []), b])
    if (!next.has(b)) next.set(b, [])
  }
  // Tarjan's algorithm; the recursion is as deep as the longest import chain (a few dozen).
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    onStack.add(v)
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string
    do {
      w = stack.pop() as string
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || (next.get(v) ?? []).includes(v)) found.push(component.sort())
  }
  for (const v of next.keys()) if (!index.has(v)) visit(v)
  return found
}

/** The part a file of src/ belongs to: its folder under src/, or the file itself for src/main.ts, src/errors.ts... */
const partOf = (path: string): string => path.split('/')[1] as string

/** Each cycle with the imports that close it, so a failure says which lines to move. */
function explain (components: string[][], edges: Edge[], node: (path: string) => string): string[] {
  return components.map((c) => {
    const inside = new Set(c)
    const through = edges.filter((e) => node(e.from) !== node(e.to) && inside.has(node(e.from)) && inside.has(node(e.to)))
    return `${c.join(' <-> ')}: ${through.map((e) => `${e.from} -> ${e.to}`).join(', ')}`
  })
}

const edges = importEdges(srcDir)

t.test('the import graph was read', async (t) => {
  t.ok(edges.length > 200, `${edges.length} imports found in src/`)
  t.ok(edges.some((e) => e.from === 'src/proxy/index.ts' && e.to === 'src/proxy/types.ts'), 'type-only re-exports are counted')
  t.ok(edges.some((e) => e.from === 'src/cli/commands/demo.ts' && e.to === 'src/demo/run.ts'), 'dynamic imports are counted')
})

t.test('no import cycle between files of src/', async (t) => {
  const same = (p: string): string => p
  t.same(explain(cycles(edges.map((e) => [e.from, e.to])), edges, same), [])
})

t.test('no import cycle between the parts of src/', async (t) => {
  const between = edges.filter((e) => partOf(e.from) !== partOf(e.to))
  t.same(explain(cycles(between.map((e) => [partOf(e.from), partOf(e.to)])), between, partOf), [])
})

t.test('src/ never imports sandbox/', async (t) => {
  t.same(edges.filter((e) => !e.to.startsWith('src/')).map((e) => `${e.from} -> ${e.to}`), [])
})

t.test('the client library (src/client) imports nothing of the server, and nothing Node-only at load', async (t) => {
  const clientDir = join(srcDir, 'client')
  const files = readdirSync(clientDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
  t.ok(files.includes('index.ts'), 'src/client/index.ts exists')
  const outside = edges.filter((e) => e.from.startsWith('src/client/') && !e.to.startsWith('src/client/'))
  t.same(outside.map((e) => `${e.from} -> ${e.to}`), [], 'relative imports stay inside src/client')
  // Packages: only cosmjs, and only loaded on use (a page signing through a wallet never loads it); no node:
  // built-ins, so the built files run in a browser as they are.
  for (const file of files) {
    const text = readFileSync(join(clientDir, file), 'utf8')
    const info = ts.preProcessFile(text, true, true)
    const bare = info.importedFiles.map((i) => i.fileName).filter((f) => !f.startsWith('.'))
    t.same(bare.filter((f) => !/^@cosmjs\/(crypto|encoding)$/.test(f)), [], `${file} imports no other package or built-in`)
    for (const name of bare) t.notMatch(text, new RegExp(`^\\s*(import|export)\\b[^(]*'${name}'`, 'm'), `${file} loads ${name} only dynamically`)
  }
})

t.test('the cycle finder finds cycles', async (t) => {
  t.same(cycles([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']]), [['a', 'b', 'c']])
  t.same(cycles([['a', 'a']]), [['a']])
  t.same(cycles([['a', 'b'], ['a', 'c'], ['b', 'c']]), [])
})

t.test('intent-gate/versions (src/versions/public.ts) reaches only the pure shapes, schema parts and errors', async (t) => {
  const reached = new Set(['src/versions/public.ts'])
  for (let grew = true; grew;) {
    grew = false
    for (const e of edges) {
      if (reached.has(e.from) && !reached.has(e.to)) { reached.add(e.to); grew = true }
    }
  }
  const allowed = ['src/versions/public.ts', 'src/versions/spec.ts', 'src/versions/types.ts', 'src/versions/schema-parts.ts', 'src/versions/canonical.ts', 'src/errors.ts', 'src/client/canonical.ts']
  t.same([...reached].filter((f) => !allowed.includes(f)), [], 'an adopter\'s module loads no part of the server')
})
