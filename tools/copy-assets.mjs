#!/usr/bin/env node
// The build's second step (after tsc): the files the built code reads at run time, copied beside it in dist/,
// so an installed package finds them by the same relative path as the sources do in the repository:
//   src/store/redis/scripts/*.lua  -> dist/src/store/redis/scripts/   (read from ./scripts/)
//   migrations/*.sql               -> dist/migrations/                 (read from ../../../migrations/)
//   src/admin/status/public/*      -> dist/src/admin/status/public/    (the status page)
// Each target is synced, not wiped: files are replaced one by one and extras removed, because dist/ is shared
// by processes that may be running from it meanwhile.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const COPIES = [
  ['src/store/redis/scripts', 'dist/src/store/redis/scripts', '.lua'],
  ['migrations', 'dist/migrations', '.sql'],
  ['src/admin/status/public', 'dist/src/admin/status/public', '']
]

for (const [from, to, ext] of COPIES) {
  const src = path.join(root, from)
  if (!existsSync(src)) continue
  const dst = path.join(root, to)
  mkdirSync(dst, { recursive: true })
  const names = readdirSync(src).filter((n) => n.endsWith(ext) && statSync(path.join(src, n)).isFile())
  for (const name of names) copyFileSync(path.join(src, name), path.join(dst, name))
  for (const name of readdirSync(dst)) if (!names.includes(name)) rmSync(path.join(dst, name), { recursive: true, force: true })
}
