// jib, the if_bridge(4) helper for vnet jails (share/examples/jails/jib, freebsd-src commit
// 3ce83dbf; research/jail-networking.md §4), as a program of the simulated host: the script's
// own steps, each an `ifconfig` run through the simulator (so each is a tool call of its own in
// the invocation log), its output where the script sends it (`> /dev/null 2>&1`, `$(...)`, or
// the caller's), and its exit statuses. Bastille installs it as /usr/local/bin/jib (lib/network.sh
// configure_vnet: `install -m 0544 /usr/share/examples/jails/jib /usr/local/bin/jib`).
import type {RcRun} from './rc.js'
import {type Getopt, getopt} from './tools/common.js'

export interface JibIo {
  out(text: string): void
  err(text: string): void
}

const FAILURE = 1

/** The actions and their texts (jib_<action>_usage / jib_<action>_descr). */
const USAGE: Record<string, string> = {
  addm: 'addm [-b BRIDGE_NAME] NAME [!]iface0 [[!]iface1 ...]',
  show: 'show',
  show1: 'show NAME',
  show2: 'show [NAME]',
  destroy: 'destroy NAME',
}
const DESCR: Record<string, string> = {
  addm: 'Creates e0b_NAME [e1b_NAME ...]',
  show: "List possible NAME values for `show NAME'",
  show1: 'Lists e0b_NAME [e1b_NAME ...]',
  destroy: 'Destroy e0b_NAME [e1b_NAME ...]',
}

/** usage(): everything to stderr (`exec >&2`), exit 1. */
function usage(io: JibIo): number {
  let t = 'Usage: jib action [arguments]\nActions:\n'
  for (const a of ['addm', 'show', 'show1', 'destroy']) t += `\t${USAGE[a]}\n\t\t${DESCR[a]}\n`
  io.err(t)
  return FAILURE
}

/** action_usage(): the usage line to stderr, the description line (`printf "\t%s\n"`, no `>&2`) to stdout, exit 1. */
function actionUsage(io: JibIo, action: string): number {
  io.err(`Usage: jib ${USAGE[action] ?? ''}\n`)
  io.out(`\t${DESCR[action] ?? ''}\n`)
  return FAILURE
}

/** `[ "${name:-x}" = "${name#*[!0-9a-zA-Z_]}" ]`: a name of letters, digits and `_` only (an empty one passes as `x`). */
const goodName = (name: string | undefined): boolean => name === undefined || name === '' || /^[0-9a-zA-Z_]+$/.test(name)

/**
 * sum(1) (usr.bin/cksum sum1.c, the historic BSD algorithm): a 16-bit checksum rotated right by
 * one bit before each byte is added. jib takes its first field (`set -- $(echo -n "$name" | sum)`).
 */
export function bsdSum(text: string): number {
  let ck = 0
  for (const b of Buffer.from(text, 'utf8')) {
    ck = (ck >> 1) + ((ck & 1) << 15)
    ck = (ck + b) & 0xffff
  }
  return ck
}

/**
 * derive_mac -2 IFACE NAME (the newest jib): `NP:SS:SS:II:II:II`, II the last three octets of
 * IFACE's ether, SS the sum(1) of NAME, P by IFACE's first octet (`?2:*` a/e, `?[Ee]:*` 2/6, else
 * 2/e) and N the per-interface counter of this run. The shell's string operations as written:
 * `${iface_devid#??:??:??}` strips the first eight characters only where they match.
 */
export function deriveMac(ifaceDevid: string, name: string, counter: number): [string, string] {
  const stripped = ifaceDevid.length >= 8 && ifaceDevid[2] === ':' && ifaceDevid[5] === ':' ? ifaceDevid.slice(8) : ifaceDevid
  const num = bsdSum(name)
  const hex2 = (n: number): string => n.toString(16).padStart(2, '0')
  const tail = `:${hex2((num >> 8) & 255)}:${hex2(num & 255)}${stripped}`
  let a: string
  let b: string
  if (/^.2:/.test(ifaceDevid)) [a, b] = [`a${tail}`, `e${tail}`]
  else if (/^.[Ee]:/.test(ifaceDevid)) [a, b] = [`2${tail}`, `6${tail}`]
  else [a, b] = [`2${tail}`, `e${tail}`]
  const n = (counter & 15).toString(16)
  return [`${n}${a}`, `${n}${b}`]
}

/** getopts' complaint about an option (sh's own text, on stderr). */
class BadOption extends Error {}

/** `$(...)`: the captured output without its trailing newlines. */
const subst = (s: string): string => s.replace(/\n+$/, '')

async function addm(run: RcRun, io: JibIo, argv: string[]): Promise<number> {
  // getopts b: (the options before NAME; `-b ''` keeps the default, `${OPTARG:-bridge}`).
  let o: Getopt
  try {
    o = getopt(argv, 'b:', (c) => {
      throw new BadOption(c === 'b' ? 'jib: option requires an argument -- b' : `jib: illegal option -- ${c}`)
    })
  } catch (error) {
    if (!(error instanceof BadOption)) throw error
    io.err(`${error.message}\n`)
    return actionUsage(io, 'addm')
  }
  const b = o.flags.get('b')
  const bridge = typeof b === 'string' && b !== '' ? b : 'bridge'
  const rest = o.rest
  const name = rest[0]
  if (!(goodName(name) && rest.length > 1)) return actionUsage(io, 'addm')
  const counters = new Map<string, number>()
  let n = 0
  for (let iface of rest.slice(1)) {
    let noDerive = false
    if (iface.startsWith('!')) {
      iface = iface.slice(1)
      noDerive = true
    }
    const ea = `e${n}a_${name}`
    const eb = `e${n}b_${name}`
    // Make sure the interface doesn't exist already
    if ((await run(['ifconfig', ea], 'null', 'null')).code === 0) {
      n++
      continue
    }
    // Bring the interface up
    let r = await run(['ifconfig', iface, 'up'])
    if (r.code !== 0) return r.code
    // Make sure the interface has been bridged
    const br = `${iface}${bridge}`
    if ((await run(['ifconfig', br], 'null', 'null')).code !== 0) {
      r = await run(['ifconfig', 'bridge', 'create'], 'capture')
      if (r.code !== 0) return r.code
      const made = subst(r.stdout)
      for (const step of [[made, 'addm', iface], [made, 'name', br], [br, 'up']]) {
        r = await run(['ifconfig', ...step])
        if (r.code !== 0) return r.code
      }
    }
    // Create a new interface to the bridge
    r = await run(['ifconfig', 'epair', 'create'], 'capture')
    if (r.code !== 0) return r.code
    const made = subst(r.stdout)
    for (const step of [[br, 'addm', made], [made, 'name', ea], [made.replace(/a$/, 'b'), 'name', eb], [ea, 'up'], [eb, 'up']]) {
      r = await run(['ifconfig', ...step])
      if (r.code !== 0) return r.code
    }
    // Set the MAC address of the new interface (derive_mac), output and errors discarded.
    if (!noDerive) {
      const counter = (counters.get(iface) ?? -1) + 1
      counters.set(iface, counter)
      // `ifconfig $iface ether | awk '/ether/,$0=$2'`: the second field of the first line with `ether`.
      const shown = (await run(['ifconfig', iface, 'ether'], 'capture', 'console')).stdout
      const line = shown.split('\n').find((l) => l.includes('ether'))
      const devid = line?.trim().split(/\s+/)[1] ?? ''
      const [macA, macB] = deriveMac(devid, name as string, counter)
      await run(['ifconfig', ea, 'ether', macA], 'null', 'null')
      await run(['ifconfig', eb, 'ether', macB], 'null', 'null')
    }
    n++
  }
  return 0
}

/** The interface names of an `ifconfig` listing (its header lines, `NAME: flags=...`). */
const names = (listing: string): string[] => listing.split('\n').filter((l) => /^[^:\s]+:/.test(l)).map((l) => l.slice(0, l.indexOf(':')))

async function showNamed(run: RcRun, name: string): Promise<string[]> {
  const all = names((await run(['ifconfig'], 'capture', 'console')).stdout)
  return all.filter((x) => {
    const m = /^e[0-9]+a_/.exec(x)
    return m !== null && x.slice(m[0].length) === name
  }).sort()
}

async function show(run: RcRun, io: JibIo, argv: string[]): Promise<number> {
  if (argv[0]?.startsWith('-') && argv[0] !== '--') {
    io.err(`jib: illegal option -- ${argv[0][1]}\n`)
    return actionUsage(io, 'show2')
  }
  const args = argv[0] === '--' ? argv.slice(1) : argv
  if (args.length === 0) {
    // The bridges (`groups:` with `bridge`), then the jail names of their e<N>a_ members, sort -u.
    const listing = (await run(['ifconfig'], 'capture', 'console')).stdout
    const bridges: string[] = []
    let cur = ''
    for (const l of listing.split('\n')) {
      if (/^[^:\s]+:/.test(l)) cur = l.slice(0, l.indexOf(':'))
      else if (l.trim().split(/\s+/)[0] === 'groups:' && l.trim().split(/\s+/).slice(1).includes('bridge')) bridges.push(cur)
    }
    const found = new Set<string>()
    for (const b of bridges) {
      for (const l of (await run(['ifconfig', b], 'capture', 'console')).stdout.split('\n')) {
        const f = l.trim().split(/\s+/)
        const m = f[0] === 'member:' ? /^e[0-9]+a_/.exec(f[1] ?? '') : null
        if (m) found.add((f[1] as string).slice(m[0].length))
      }
    }
    io.out([...found].sort().map((x) => `${x}\n`).join(''))
    return 0
  }
  io.out((await showNamed(run, args[0] as string)).map((x) => `${x}\n`).join(''))
  return 0
}

async function destroy(run: RcRun, io: JibIo, argv: string[]): Promise<number> {
  if (argv[0]?.startsWith('-') && argv[0] !== '--') {
    io.err(`jib: illegal option -- ${argv[0][1]}\n`)
    return actionUsage(io, 'destroy')
  }
  const args = argv[0] === '--' ? argv.slice(1) : argv
  if (!(goodName(args[0]) && args.length === 1)) return actionUsage(io, 'destroy')
  // `jib_show "$name" | xargs -rn1 -I eiface ifconfig eiface destroy`: xargs exits 1 when a command failed.
  let status = 0
  for (const x of await showNamed(run, args[0] as string)) if ((await run(['ifconfig', x, 'destroy'])).code !== 0) status = 1
  return status
}

/** jib ACTION ARGS (MAIN: an action that is no `jib_` function gets the usage). */
export async function runJib(args: string[], run: RcRun, io: JibIo): Promise<number> {
  const [action, ...rest] = args
  if (action === 'addm') return addm(run, io, rest)
  if (action === 'show') return show(run, io, rest)
  if (action === 'destroy') return destroy(run, io, rest)
  return usage(io)
}
