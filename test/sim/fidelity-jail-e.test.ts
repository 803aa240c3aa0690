// jail -e SEPARATOR (issue 12, fidelity round 2): usr.sbin/jail/jail.c show_jails, print_jail,
// print_param and quoted_print, over what config.c load_config makes of the file. Each test
// writes its own jail.conf on a fresh simulated host.
import {writeFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {quotedPrint} from '../../src/sim/tools/jail.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const conf = (text: string): void => writeFileSync(sim.fs('/etc/jail.conf'), text)

describe('quoted_print (usr.sbin/jail/jail.c)', () => {
  it('quotes what has a blank, a tab, a quote, or nothing; escapes a backslash and the quote chosen', () => {
    expect(quotedPrint('/j/web')).toBe('/j/web')
    // Empty: a pair of double quotes.
    expect(quotedPrint('')).toBe('""')
    // A blank or a tab: double quotes.
    expect(quotedPrint('/bin/sh /etc/rc')).toBe('"/bin/sh /etc/rc"')
    expect(quotedPrint('a\tb')).toBe('"a\tb"')
    // A single quote: double quotes, whatever else is in it; the double quotes inside escaped.
    expect(quotedPrint("it's")).toBe('"it\'s"')
    expect(quotedPrint('say "it\'s"')).toBe('"say \\"it\'s\\""')
    // A double quote and no single quote: single quotes, the double quotes left alone.
    expect(quotedPrint('say "hi"')).toBe('\'say "hi"\'')
    // A backslash is escaped even where nothing is quoted.
    expect(quotedPrint('a\\b')).toBe('a\\\\b')
    expect(quotedPrint('a \\b')).toBe('"a \\\\b"')
    // Other shell characters are not jail(8)'s business here.
    expect(quotedPrint('$x;`y`|z')).toBe('$x;`y`|z')
  })
})

describe('jail -e (show_jails → print_jail(stdout, j, 0, 0) → print_param)', () => {
  it('prints each configured jail, its parameters by the separator, values by commas, quoted', async () => {
    conf([
      'web {',
      '  path = /j/web;',
      '  host.hostname = "web server";',
      '  persist;',
      '  exec.start = "/bin/sh /etc/rc";',
      '  exec.start += "echo it\'s up";',
      '  exec.stop = \'say "bye"\';',
      '  osrelease = "";',
      '  ip4.addr = 192.0.2.1, 192.0.2.2;',
      '}',
      '',
    ].join('\n'))
    const r = await sim.run('jail', '-e', ' ')
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: 'name=web path=/j/web host.hostname="web server" persist exec.start="/bin/sh /etc/rc","echo it\'s up" '
        + 'exec.stop=\'say "bye"\' osrelease="" ip4.addr=192.0.2.1,192.0.2.2\n',
    })
  })

  it('leaves out jid (a numeric name implies it) and the wildcard jails, whose parameters it merges', async () => {
    conf('* { mount.devfs; }\nweb { path = /j/web; }\n5 { path = /j/five; }\n* { persist; }\n')
    const r = await sim.run('jail', '-e', '|')
    // load_config: the implied name (or jid), then each wildcard block in file order, the jail's
    // own parameters just before the first wildcard block that comes after it.
    expect(r.stdout).toBe('name=web|mount.devfs|path=/j/web|persist\nmount.devfs|path=/j/five|persist\n')
    expect(r.code).toBe(0)
  })

  it('takes any separator as it is, several characters too', async () => {
    conf('a { path = /j/a; persist; }\n')
    expect((await sim.run('jail', '-e', ' :: ')).stdout).toBe('name=a :: path=/j/a :: persist\n')
    expect((await sim.run('jail', '-e', '')).stdout).toBe('name=apath=/j/apersist\n')
  })
})
