/**
 * cw2 contract versions (`contract_info.version`, semver-like: "1.2.3", "2.0"): compared part by part, so a
 * downgrade is recognised the way cw2's `ensure_from_older_version` does. Used by the coordinator's checks and by
 * the sandbox chain's model of a contract's migrate, so both agree on what "newer" means.
 */

/** Dotted numeric versions compared part by part ("1.10" > "1.9"); a non-numeric part compares as text. */
export function compareContractVersions (a: string, b: string): number {
  const pa = a.split(/[.+-]/)
  const pb = b.split(/[.+-]/)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0'
    const y = pb[i] ?? '0'
    const c = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y)
    if (c !== 0) return Math.sign(c)
  }
  return 0
}
