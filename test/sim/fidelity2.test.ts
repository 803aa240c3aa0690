// The simulated host, fidelity round 2 (issue 12): each FreeBSD rule here is checked against the
// source named in its test, and the parsers nest reads those outputs with are run on them.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {parseJlsJson, parseJlsTable} from '../../src/host/parse.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const dirs = (...ps: string[]): void => sim.mkdirs(...ps)

describe('jls (usr.sbin/jls/jls.c)', () => {
  beforeEach(async () => {
    dirs('/j/a', '/j/fifteen')
    expect((await sim.run('jail', '-c', 'name=a', 'host.hostname=web (prod) box', 'path=/j/a', 'persist', 'ip4.addr=192.0.2.10,192.0.2.11')).code).toBe(0)
    // A name of exactly 15 characters fills its -N column: the blank after it is jls.c's own.
    expect((await sim.run('jail', '-c', 'name=abcdefghijklmno', 'host.hostname=h', 'path=/j/fifteen', 'persist', 'ip4.addr=198.51.100.200')).code).toBe(0)
  })

  it('-N: `{P: }{:name/%-15s/%s}{P: }` then the address, so a long name never runs into it', async () => {
    const r = await sim.run('jls', '-N')
    expect(r.stdout).toBe(
      ' JID             IP Address      Hostname                      Path\n' +
      ' a               192.0.2.10      web (prod) box                /j/a\n' +
      ' abcdefghijklmno 198.51.100.200  h                             /j/fifteen\n',
    )
    expect(parseJlsTable(r.stdout)._unsafeUnwrap()).toEqual([
      {name: 'a', ip: '192.0.2.10', hostname: 'web (prod) box', path: '/j/a'},
      {name: 'abcdefghijklmno', ip: '198.51.100.200', hostname: 'h', path: '/j/fifteen'},
    ])
  })

  it('the default table: a hostname with blanks and parentheses is read by its column', async () => {
    const r = await sim.run('jls')
    expect(r.stdout).toBe(
      '   JID  IP Address      Hostname                      Path\n' +
      '     1  192.0.2.10      web (prod) box                /j/a\n' +
      '     2  198.51.100.200  h                             /j/fifteen\n',
    )
    expect(parseJlsTable(r.stdout)._unsafeUnwrap()).toEqual([
      {jid: 1, ip: '192.0.2.10', hostname: 'web (prod) box', path: '/j/a'},
      {jid: 2, ip: '198.51.100.200', hostname: 'h', path: '/j/fifteen'},
    ])
    // %-29.29s cuts a long hostname; a row that is not in the layout is an error naming its line.
    expect(parseJlsTable('   JID  IP Address      Hostname                      Path\n     1  x\n')._unsafeUnwrapErr()).toBe('line 2: not a jls row:      1  x')
  })

  it('libxo JSON: a list is `, "name": [` and its leaves are joined by a bare `,` (libxo.c xo_do_open_list, xo_format_prep)', async () => {
    const v = await sim.run('jls', '-v', '-j', 'a', '--libxo=json')
    expect(v.stdout).toBe('{"__version": "2", "jail-information": {"jail": [{"jid":1,"hostname":"web (prod) box","path":"/j/a","name":"a","state":"ACTIVE","cpusetid":2, "ipv4_addrs": ["192.0.2.10","192.0.2.11"], "ipv6_addrs": []}]}}\n')
    const n = await sim.run('jls', '-j', 'a', '--libxo', 'json', 'jid', 'ip4.addr', 'name')
    expect(n.stdout).toBe('{"__version": "2", "jail-information": {"jail": [{"jid":"1", "ip4.addr": ["192.0.2.10","192.0.2.11"],"name":"a"}]}}\n')
    expect(parseJlsJson(n.stdout)._unsafeUnwrap()[0]?.params['ip4.addr']).toEqual(['192.0.2.10', '192.0.2.11'])
  })

  it('the parser skips an empty jail instance (jls.c opens one per jail whatever it prints)', () => {
    expect(parseJlsJson('{"__version": "2", "jail-information": {"jail": [{}, {"jid":3,"name":"x"}]}}')._unsafeUnwrap()).toEqual([
      {jid: 3, name: 'x', parent: null, path: null, params: {jid: 3, name: 'x'}},
    ])
    expect(parseJlsJson('{"__version": "2", "jail-information": {"jail": [{}]}}')._unsafeUnwrap()).toEqual([])
  })
})
