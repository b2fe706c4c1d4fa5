/**
 * Smallest valid WebAssembly modules for upload tests: the 8-byte header, optionally with the custom section the
 * local chain reads to know which modelled contract a module runs (sandbox/chain/codes.ts), and a tag section so
 * two modules of the same model differ in checksum.
 */
export function wasmModule (model?: { contract: string, version: string, accepts_downgrade?: boolean }, tag = ''): Uint8Array {
  const sections: Uint8Array[] = []
  if (model !== undefined) sections.push(customSection('intent-gate-sandbox', JSON.stringify(model)))
  if (tag !== '') sections.push(customSection('tag', tag))
  return concat([new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]), ...sections])
}

function customSection (name: string, content: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name)
  const body = concat([leb(nameBytes.length), nameBytes, new TextEncoder().encode(content)])
  return concat([new Uint8Array([0]), leb(body.length), body])
}

function leb (n: number): Uint8Array {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return new Uint8Array(out)
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) { out.set(part, offset); offset += part.length }
  return out
}
