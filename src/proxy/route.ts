/**
 * Which route a request target is (docs/specification.md section 3): only the origin-form `<intent_path>` is a submission
 * and `<intent_path>/<id>` a status read. A target in absolute or asterisk form, or a path that only normalises
 * to one of those two (a trailing slash, repeated slashes, dot segments, `;` parameters, percent-encoded
 * characters), is refused with 400 whatever the method: passed through, it would reach the intent service's
 * own routes past the drain, validation and accounting.
 *
 * The canonical cases cost a prefix comparison; the normalisation runs only for paths that contain one of the
 * characters it undoes.
 */

export type Route =
  | { kind: 'submit' }
  | { kind: 'status', id: string }
  | { kind: 'pass' }
  | { kind: 'refuse', why: string }

/** Characters and sequences a look-alike needs; a path without any of them is already in normal form. */
const NEEDS_NORMALISING = /[%;]|\/\/|\/\.|\/$/

export function routeOf (method: string | undefined, url: string, intentPath: string): Route {
  if (url.charCodeAt(0) !== 47 /* / */) return { kind: 'refuse', why: `the request target ${JSON.stringify(url.slice(0, 80))} is not in origin form (a path)` }
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  if (path === intentPath) return method === 'POST' ? { kind: 'submit' } : { kind: 'pass' }
  if (path.startsWith(intentPath) && path.charCodeAt(intentPath.length) === 47) {
    const segment = path.slice(intentPath.length + 1)
    if (isPlainSegment(segment)) return method === 'GET' ? { kind: 'status', id: decodeSegment(segment) } : { kind: 'pass' }
  }
  if (path.length > 1 && NEEDS_NORMALISING.test(path)) {
    const normal = normalisePath(path)
    if (normal === intentPath || (normal.startsWith(intentPath + '/') && !normal.slice(intentPath.length + 1).includes('/') && normal.length > intentPath.length + 1)) {
      return { kind: 'refuse', why: `the path ${JSON.stringify(path.slice(0, 120))} is not the canonical form of ${normal === intentPath ? intentPath : `${intentPath}/<id>`}` }
    }
  }
  return { kind: 'pass' }
}

/** One status-read segment as the gateway takes it: no further `/`, no `;` parameters, no dot segment. */
function isPlainSegment (segment: string): boolean {
  if (segment === '' || segment === '.' || segment === '..') return false
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i)
    if (c === 47 /* / */ || c === 59 /* ; */) return false
  }
  // `%2E%2E` and friends are dot segments in disguise.
  if (segment.includes('%')) {
    const decoded = decodeSegment(segment)
    if (decoded === '.' || decoded === '..') return false
  }
  return true
}

function decodeSegment (segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * What a lenient server could make of `path`: percent-decoded, `;` parameters dropped from each segment,
 * empty and `.` segments removed, `..` applied, no trailing slash. Only used to recognise look-alikes.
 */
export function normalisePath (path: string): string {
  let decoded = path
  // Twice: `%2569` decodes to `%69` and then to `i` on servers that decode again.
  for (let round = 0; round < 2 && decoded.includes('%'); round++) decoded = decodeSegment(decoded)
  const out: string[] = []
  for (const raw of decoded.split('/')) {
    const semi = raw.indexOf(';')
    const segment = semi === -1 ? raw : raw.slice(0, semi)
    if (segment === '' || segment === '.') continue
    if (segment === '..') {
      out.pop()
      continue
    }
    out.push(segment)
  }
  return '/' + out.join('/')
}
