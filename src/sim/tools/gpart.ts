// gpart(8) show over the simulated GEOM view (lib/geom/part/geom_part.c gpart_show,
// gpart_show_geom at freebsd-src 4f809ff): the GEOM PART geoms are the GEOM providers with a
// GPT (zvols with volmode=geom|full, md units); zvols with volmode=dev are not GEOM providers.
import {findDisk, providers, SECTOR, type SimDisk} from '../kernel/disks.js'
import {loadKernel} from '../store.js'
import {getopt, notSimulated, type Tool, UsageError} from './common.js'

/** GPT partition type UUIDs (sys/sys/disk/gpt.h) for `gpart show -r`. */
const RAWTYPE: Record<string, string> = {
  'freebsd-boot': '83bd6b9d-7f41-11dc-be0b-001560b84f0f',
  efi: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  'freebsd-swap': '516e7cb5-6ecf-11d6-8ff8-00022d09712b',
  'freebsd-ufs': '516e7cb6-6ecf-11d6-8ff8-00022d09712b',
  'freebsd-zfs': '516e7cba-6ecf-11d6-8ff8-00022d09712b',
}

/**
 * libxo's `{h:}` humanized size: humanize_number(3) (lib/libutil/humanize_number.c) with
 * HN_AUTOSCALE, HN_DECIMAL, HN_NOSPACE, HN_B and a column of 3 digits (the width that gives
 * the real sample's `(512K)`, `(983M)`, `(1.0G)`, `(10G)`; libxo's buffer size is **unconfirmed**).
 */
export function humanize(bytes: number): string {
  const divisor = 1024
  const divisordeci = 102
  const max = 1000
  let quotient = BigInt(Math.trunc(bytes))
  let remainder = 0n
  let i = 0
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E']
  while ((quotient >= BigInt(max) || (quotient === BigInt(max - 1) && remainder >= BigInt(divisordeci))) && i < 6) {
    remainder = quotient % BigInt(divisor)
    quotient /= BigInt(divisor)
    i++
  }
  const q = Number(quotient)
  const r = Number(remainder)
  if ((q < 9 || (q === 9 && r < divisordeci)) && i > 0) {
    const s1 = q + Math.floor(Math.floor((r * 10 + divisor / 2) / divisor) / 10)
    const s2 = Math.floor((r * 10 + divisor / 2) / divisor) % 10
    return `${s1}.${s2}${units[i]}`
  }
  return `${q + Math.floor((r + divisor / 2) / divisor)}${units[i]}`
}

/** One geom as gpart_show_geom prints it. */
export function showGeom(name: string, disk: SimDisk, element: 'type' | 'label' | 'rawtype', showProviders: boolean): string {
  const gpt = disk.gpt as {first: number; last: number}
  const wblocks = String(gpt.last).length
  const parts = [...disk.parts].sort((a, b) => a.start - b.start)
  const pname = (index: number): string => `${name}p${index}`
  const wname = Math.max(name.length, ...(showProviders ? parts.map((p) => pname(p.index).length) : [0]))
  const num = (n: number): string => String(n).padStart(wblocks)
  let out = `=>${num(gpt.first)}  ${num(gpt.last - gpt.first + 1)}  ${name.padStart(wname)}  GPT  (${humanize(disk.sectors * SECTOR)})\n`
  let first = gpt.first
  const free = (from: number, len: number): string => `  ${num(from)}  ${num(len)}  ${''.padStart(wname)}  - free -  (${humanize(len * SECTOR)})\n`
  for (const p of parts) {
    if (first < p.start) out += free(first, p.start - first)
    const id = showProviders ? pname(p.index).padStart(wname) : String(p.index).padStart(wname)
    // find_provcfg returns NULL for a partition without a label: libxo prints "(null)".
    const value = element === 'type' ? p.type : element === 'label' ? (p.label ?? '(null)') : (RAWTYPE[p.type] ?? p.type)
    out += `  ${num(p.start)}  ${num(p.size)}  ${id}  ${value}  (${humanize(p.size * SECTOR)})\n`
    first = p.start + p.size
  }
  if (first <= gpt.last) out += free(first, gpt.last - first + 1)
  return `${out}\n`
}

export const gpart: Tool = async (ctx, argv) => {
  const [verb, ...rest] = argv
  if (verb !== 'show') return notSimulated(`gpart ${verb ?? ''}`.trim())
  const o = getopt(rest, 'lrp', () => {
    throw new UsageError('usage: gpart show [-l | -r] [-p] [geom ...]\n', 1)
  })
  if (o.flags.has('l') && o.flags.has('r')) {
    ctx.err('gpart: -l and -r are mutually exclusive\n')
    return 1
  }
  const element = o.flags.has('l') ? 'label' : o.flags.has('r') ? 'rawtype' : 'type'
  const k = loadKernel(ctx.root)
  // The PART class's geoms: every GEOM provider (not a partition, not a label) with a GPT.
  const geoms = providers(k).filter((p) => p.isGeom && p.index === undefined && findDisk(k, p.disk)?.gpt !== undefined)
  const names = o.rest.map((n) => (n.startsWith('/dev/') ? n.slice(5) : n))
  if (names.length === 0) {
    for (const g of geoms) ctx.out(showGeom(g.name, findDisk(k, g.disk) as SimDisk, element, o.flags.has('p')))
    return 0
  }
  for (const n of names) {
    const g = geoms.find((x) => x.name === n)
    if (!g) {
      ctx.err(`gpart: No such geom: ${n}.\n`)
      return 1
    }
    ctx.out(showGeom(g.name, findDisk(k, g.disk) as SimDisk, element, o.flags.has('p')))
  }
  return 0
}
