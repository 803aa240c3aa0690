// Jail addresses as jail(8) takes them apart (usr.sbin/jail/config.c, check_intparams): an
// optional interface before `|`, the address, an optional `/prefix`; the address alone then
// goes to libjail, which converts it with inet_pton(3) (lib/libjail/jail.c jailparam_import),
// and the prefix to ifconfig(8) (sbin/ifconfig af_inet.c / af_inet6.c: `bad value` past 32 or
// 128). inet_pton here is FreeBSD's (lib/libc/inet/inet_pton.c, ISC): IPv4 is exactly four
// decimal octets 0..255 without leading zeros ("01.2.3.4" is refused); IPv6 takes no "%zone".
// Node's net.isIPv4/isIPv6 run libuv's copy of the same ISC code (deps/uv/src/inet.c), except
// that isIPv6 also accepts a zone, which is refused here.
import {isIPv4, isIPv6} from 'node:net'

import {err, ok, type Result} from 'neverthrow'

export type Family = 'ip4' | 'ip6'

export interface JailAddress {
  /** The address alone, as given. */
  addr: string
  /** The prefix length, when one was given. */
  prefix?: number
}

const MAX_PREFIX: Record<Family, number> = {ip4: 32, ip6: 128}

/** One `--ip4`/`--ip6` value: the address and an optional prefix; what is wrong, when it is. */
export function parseAddress(family: Family, text: string): Result<JailAddress, string> {
  if (text.includes('|')) return err('an interface before "|" is not supported: give the address alone')
  if (/\s/.test(text)) return err('it contains white space (jail(8) would cut it there)')
  const slash = text.indexOf('/')
  const addr = slash < 0 ? text : text.slice(0, slash)
  const valid = family === 'ip4' ? isIPv4(addr) : isIPv6(addr) && !addr.includes('%')
  if (!valid) return err(`${addr === '' ? 'the address is empty' : `${addr} is not an ${family === 'ip4' ? 'IPv4' : 'IPv6'} address`}`)
  if (slash < 0) return ok({addr})
  const p = text.slice(slash + 1)
  if (!/^[0-9]{1,3}$/.test(p) || Number(p) > MAX_PREFIX[family]) return err(`prefix length ${JSON.stringify(p)} is not a number from 0 to ${MAX_PREFIX[family]}`)
  return ok({addr, prefix: Number(p)})
}

/** The 8 groups of an IPv6 address (valid by parseAddress), so that ::1 and 0:0::1 compare equal. */
function ip6Groups(a: string): number[] {
  // A trailing dotted quad is two groups (::ffff:1.2.3.4 is ::ffff:102:304).
  const text = a.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, w, x, y, z) => `${((Number(w) << 8) | Number(x)).toString(16)}:${((Number(y) << 8) | Number(z)).toString(16)}`)
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)))
  const [head = '', rest] = text.split('::')
  if (rest === undefined) return groups(head)
  const h = groups(head)
  const r = groups(rest)
  return [...h, ...Array.from({length: 8 - h.length - r.length}, () => 0), ...r]
}

/** The same address (not the same text): IPv6 compared by value. */
export function sameAddress(family: Family, a: string, b: string): boolean {
  if (family === 'ip4') return a === b
  return ip6Groups(a).join(':') === ip6Groups(b).join(':')
}
