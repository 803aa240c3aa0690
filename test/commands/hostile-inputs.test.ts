// Hostile and malformed inputs (issue 11, "Input"): each is refused with a documented exit
// code and a one-line error that says what is wrong and what to do, under --json one JSON
// document with that status, and the simulated host is exactly as it was. Names FreeBSD would
// take apart (dots, dashes, slashes, shell characters), addresses jail(8) and inet_pton(3)
// refuse, policy files that try to set what a policy may not, flags out of range.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {hostState as hostStateOf, makeSim, nestSteps, type TestSim} from '../helpers/sim.js'

let sim: TestSim
let saved: string
const hostState = (): unknown => hostStateOf(sim, ['/etc/jail.conf.d', '/nest/jails/web/root/etc/jail.conf.d', '/var/run'])

const POLICY_DIR = '/usr/local/etc/nest/policies'
const DESC = 'nest.description = "hostile";\n'
/** Policy files that must be refused, by name: each is created with `nest create x --policy NAME`. */
const POLICIES: Record<string, string> = {
  'sets-exec': `${DESC}exec.start = "/bin/sh -c 'touch /tmp/pwned'";\n`,
  'sets-path': `${DESC}path = "/";\n`,
  'sets-name': `${DESC}name = "other";\n`,
  'sets-ip': `${DESC}ip4.addr = "192.0.2.1";\n`,
  'sets-mount': `${DESC}mount = "/ /mnt nullfs rw 0 0";\n`,
  'nopersist': `${DESC}nopersist;\n`,
  'persist-false': `${DESC}persist = false;\n`,
  'children-negative': `${DESC}children.max = -1;\n`,
  'children-huge': `${DESC}children.max = 99999999999;\n`,
  'statfs-3': `${DESC}enforce_statfs = 3;\n`,
  'ruleset-word': `${DESC}devfs_ruleset = abc;\n`,
  'unknown-allow': `${DESC}allow.teleport;\n`,
  'a-block': `${DESC}web { persist; }\n`,
  'a-variable': `${DESC}$x = 1;\n`,
  'appends': `${DESC}allow.mount;\nallow.mount += 1;\n`,
  'unterminated': `${DESC}children.max = "4;\n`,
  'no-description': 'children.max = 4;\n',
  'bad-bool': `${DESC}allow.mount = maybe;\nenforce_statfs = 1;\n`,
  'delegate-no-mount': `${DESC}nest.delegate;\nenforce_statfs = 1;\n`,
  'mount-statfs-2': `${DESC}allow.mount;\nallow.mount.tmpfs;\nenforce_statfs = 2;\n`,
  'list-value': `${DESC}children.max = 1, 2;\n`,
  'binary': `${DESC}\u0000\u0001\u0002;\n`,
  'unknown-nest': `${DESC}nest.teleport = 1;\n`,
  'sysv-word': `${DESC}sysvshm = maybe;\n`,
}

const LONG = 'a'.repeat(300)
/** Command lines (without --json), each refused before anything changes. */
const CASES: string[][] = [
  ...['', '.', '..', 'a.b', '-x', '--', 'a b', 'a;b', '$(id)', '`id`', 'a\nb', 'ä', LONG, '*', 'web/', '/web', 'web//db', 'web/./db', 'web/../web', '0', '-1', 'a|b', 'a"b', "a'b", 'a=b', 'a\\b', 'a\tb'].map((n) => ['create', n]),
  ...['a.b', '$(id)', 'web/../x', '-x', 'nope', 'web/nope'].flatMap((n) => [['start', n], ['stop', n], ['destroy', n], ['cleanup', n]]),
  ['exec', 'web/../x', '--', 'id'], ['exec', 'nope', '--', 'id'],
  ...['01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/x', 'em0|1.2.3.4', '1.2.3.4 5', '::1', '1.2.3.4,,x', 'localhost'].map((a) => ['create', 'x', '--ip4', a]),
  ...[':::::', '::1/999', '::1/129', 'fe80::1%em0', '1::2::3', '1.2.3.4', '12345::', 'g::1'].map((a) => ['create', 'x', '--ip6', a]),
  ['create', 'x', '--vnet', '--ip4', '192.0.2.1'],
  // Network flags: whatever reaches jail.conf, a hook's command line or rc.conf is a plain name or address.
  ...['bridge0;reboot', '$(id)', 'bridge0 addm em0', `b${'r'.repeat(15)}`, '', '-bridge0'].map((b) => ['create', 'x', '--vnet', '--bridge', b]),
  ...['vnet0"', 'vnet0$x', 'vnet 0', '`id`'].map((i) => ['create', 'x', '--vnet', '--ifname', i]),
  ...['58:9c:fc:00:00:01;id', 'zz:9c:fc:00:00:01', '58:9c:fc:00:00:01:02', '58-9c-fc-00-00-01'].map((m) => ['create', 'x', '--vnet', '--mac', m]),
  ...['192.0.2.1 -iface', '192.0.2.1,192.0.2.2', 'router'].map((g) => ['create', 'x', '--vnet', '--defaultrouter', g]),
  ['create', 'x', '--vnet', '--ip4', '192.0.2.1/24 vhid 1'], ['create', 'x', '--vnet', '--ip4', 'em0|192.0.2.1/24'], ['create', 'x', '--vnet', '--ip6', 'auto,auto'],
  ['create', 'x', '--ip4', 'em0 |1.2.3.4'], ['create', 'x', '--ip4', 'lo0|1.2.3.4 vhid 1 pass x'], ['create', 'x', '--ip4', 'lo0|lo0|1.2.3.4'], ['create', 'x', '--ip4', 'lo1|1.2.3.4'],
  ['create', 'x', '--mac', '58:9c:fc:00:00:01'], ['create', 'x', '--bridge', 'bridge0'], ['create', 'web/x', '--vnet', '--policy', 'leaf'],
  ['create', 'x', '--children-max', '-1'], ['create', 'x', '--children-max', '1000000'], ['create', 'x', '--children-max', 'many'],
  ['create', 'x', '--release', '../../etc'], ['create', 'x', '--release', '15.0-RELEASE'], ['create', 'x', '--release', 'a;b'],
  ['create', 'x', '--policy', '../../etc/passwd'], ['create', 'x', '--policy', 'nope'], ['create', 'x', '--policy', 'A'],
  ['create', 'web'], ['create', 'web/db/cache/x'],
  ['start', 'web', '--parallel', '0'], ['stop', '--all', '--parallel', '-1'], ['start', 'web', '--parallel', 'x'],
  ['policy', 'show', '../parent'], ['policy', 'check', '/nonexistent.conf'], ['policy', 'check', '/'],
  ['bootstrap', '../../x'], ['bootstrap', '14.3-RELEASE; id'],
  ...Object.keys(POLICIES).map((p) => ['create', 'x', '--policy', p]),
]

const DOCUMENTED = new Set([2, 3, 4, 5, 6])

beforeAll(async () => {
  sim = await makeSim()
  mkdirSync(sim.fs(POLICY_DIR), {recursive: true})
  for (const [name, text] of Object.entries(POLICIES)) writeFileSync(path.join(sim.fs(POLICY_DIR), `${name}.conf`), text)
  await nestSteps(sim, ['bootstrap', '14.3-RELEASE'], ['create', 'web'], ['create', 'web/db'])
  saved = sim.save()
})
afterAll(() => sim.cleanup())
// Each case must change nothing, so the host is restored only after one that did (a failure).
let initial: unknown
let dirty = true
beforeEach(() => {
  if (dirty) {
    sim.restore(saved)
    initial = hostState()
  }
  dirty = true
})

describe(`${CASES.length} hostile inputs`, () => {
  it('there are at least 60', () => expect(CASES.length).toBeGreaterThanOrEqual(60))

  for (const argv of CASES) {
    it(`nest ${JSON.stringify(argv)}`, async () => {
      const before = initial
      const r = await sim.nest(...argv)
      expect(DOCUMENTED.has(r.code), `exit ${r.code}: ${r.stderr}`).toBe(true)
      // One line that says what is wrong, with what to do (oclif's own usage errors say "See more help with --help").
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('nest: ') && !l.startsWith('nest: using the simulated'))
      if (r.code !== 2) {
        expect(errors, r.stderr).toHaveLength(1)
        expect(errors[0], r.stderr).toMatch(/\(.+\)$/)
      }
      expect(r.stdout).toBe('')
      expect(hostState()).toEqual(before)
      // --json before a `--`, where it is still nest's flag.
      const dashes = argv.indexOf('--')
      const j = await sim.nest(...(dashes < 0 ? [...argv, '--json'] : [...argv.slice(0, dashes), '--json', ...argv.slice(dashes)]))
      expect(j.code).toBe(r.code)
      const doc = JSON.parse(j.stdout) as {status: number; error: {kind: string; message: string}}
      expect(doc.status).toBe(r.code)
      expect(typeof doc.error.message).toBe('string')
      expect(hostState()).toEqual(before)
      dirty = false
    })
  }
})

describe('what the refusals say', () => {
  const last = (text: string): string => text.trimEnd().split('\n').at(-1) ?? ''

  it('addresses as inet_pton(3) and ifconfig(8) take them, prefixes included', async () => {
    expect(last((await sim.nest('create', 'x', '--ip6', ':::::')).stderr)).toBe('nest: --ip6 ":::::": ::::: is not an IPv6 address (give addresses such as em0|2001:db8::10/64, or 2001:db8::10, separated by commas)')
    expect(last((await sim.nest('create', 'x', '--ip6', '::1/999')).stderr)).toBe('nest: --ip6 "::1/999": prefix length "999" is not a number from 0 to 128 (give addresses such as em0|2001:db8::10/64, or 2001:db8::10, separated by commas)')
    expect(last((await sim.nest('create', 'x', '--ip4', '01.2.3.4')).stderr)).toBe('nest: --ip4 "01.2.3.4": 01.2.3.4 is not an IPv4 address (give addresses such as em0|192.0.2.10/24, or 192.0.2.10, separated by commas)')
    // jail(8) gives the kernel the address without its prefix (usr.sbin/jail/config.c check_intparams).
    const ok = await sim.nest('create', 'x', '--ip4', '192.0.2.10/24', '--ip6', '2001:db8::10/64')
    expect(ok.code, ok.stderr).toBe(0)
    expect((await sim.run('jls', '-n', '-j', 'x', 'ip4.addr', 'ip6.addr')).stdout).toBe('ip4.addr=192.0.2.10 ip6.addr=2001:db8::10\n')
  })

  it('a policy that turns persist off is refused when read, not at jail -c', async () => {
    const r = await sim.nest('create', 'x', '--policy', 'persist-false')
    expect(r.code).toBe(3)
    expect(last(r.stderr)).toBe(`nest: policy ${POLICY_DIR}/persist-false.conf line 2: persist: nest's jails are persistent, a policy cannot turn persist off (remove the line: nest writes persist for every jail)`)
  })

  it('policy check says what a path is when it is not a policy file', async () => {
    expect(last((await sim.nest('policy', 'check', '/')).stderr)).toBe('nest: / is a directory, not a policy file (give the path of a policy file (name = value; lines, as in jail.conf), e.g. policies/parent.conf)')
    expect(last((await sim.nest('policy', 'check', '/nonexistent.conf')).stderr)).toBe('nest: /nonexistent.conf: no such file (give the path of a policy file (name = value; lines, as in jail.conf), e.g. policies/parent.conf)')
  })

  it('a mount whose path has a blank breaks no jail: stop, cleanup and destroy of any jail go on', async () => {
    sim.mkdirs('/tmp/a b')
    expect((await sim.run('mount', '-t', 'tmpfs', 'tmpfs', '/tmp/a b')).code).toBe(0)
    expect((await sim.run('mount', '-p')).stdout).toContain('tmpfs\t\t\t/tmp/a b\t\ttmpfs\trw\t\t0 0\n')
    const stop = await sim.nest('stop', 'web')
    expect(stop.code, stop.stderr).toBe(0)
    expect(stop.stdout).toMatch(/^web: stopped/m)
    expect((await sim.nest('cleanup', 'web')).code).toBe(0)
    const destroy = await sim.nest('destroy', 'web', '--recursive')
    expect(destroy.code, destroy.stderr).toBe(0)
    expect(sim.kernel().mounts.map((m) => m.on)).toContain('/tmp/a b')
  })
})
