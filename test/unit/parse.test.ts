// The host parsers against every real sample in test/fixtures (jls, mount, sysctl) and
// against malformed text, which must give an error that says where, never a crash.
import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {parseJlsJson, parseJlsNameval, parseJlsValues, parseJlsTable, parseMountP, parseMountPlain, parseSysctl, parseZfsColumns} from '../../src/host/parse.js'

const fixture = (p: string): string => readFileSync(new URL(`../fixtures/freebsd-outputs/${p}`, import.meta.url), 'utf8')

/** A transcript's output: the lines after the first shell prompt, up to the next prompt. */
function outputOf(text: string): string {
  const prompt = /^(\S+@\S+ ?)?(\S+ )?[#$%] \S/
  const lines = text.split('\n')
  const first = lines.findIndex((l) => prompt.test(l))
  if (first < 0) return text
  const rest = lines.slice(first + 1)
  const next = rest.findIndex((l) => prompt.test(l))
  return (next < 0 ? rest : rest.slice(0, next)).join('\n')
}

describe('jls', () => {
  it('reads libxo JSON: three verbose jails with their addresses', () => {
    const r = parseJlsJson(fixture('jls/libxo-json-v2-verbose-three-bastille-jails-ipv6.txt'))._unsafeUnwrap()
    expect(r.map((j) => [j.jid, j.name, j.path])).toEqual([
      [2, 'git7', '/usr/local/bastille/jails/git7/root'],
      [105, 'sto2', '/usr/local/bastille/jails/sto2/root'],
      [116, 'git6', '/usr/local/bastille/jails/git6/root'],
    ])
    expect(r[1]?.params['ipv6_addrs']).toEqual(['2001:470:e8af:20::532'])
  })

  it('reads libxo JSON with only a name (jls --libxo json name meta)', () => {
    expect(parseJlsJson(fixture('jls/libxo-json-v2-name-meta-freebsd-test.txt'))._unsafeUnwrap()).toEqual([
      {jid: null, name: 'j', parent: null, path: null, params: {name: 'j', meta: 'a b c'}},
    ])
  })

  it('reads jls -s name=value lines with quoted values and negated booleans', () => {
    const r = parseJlsNameval(fixture('jls/jls-s-freebsd11.1-uuid-named-jail.txt').trim())._unsafeUnwrap()
    expect(r['jid']).toBe('67')
    expect(r['host.domainname']).toBe('')
    expect(r['persist']).toBe(true)
    expect(r['allow.mount']).toBe(false)
    expect(r['allow.mount.zfs']).toBe(false)
    expect(r['allow.set_hostname']).toBe(true)
    expect(parseJlsValues(fixture('jls/nested-parent.child-param-empty-string-quoted-freebsd-test.txt').trim())._unsafeUnwrap()).toEqual([''])
  })

  it('reads the plain table (first address only)', () => {
    expect(parseJlsTable(outputOf(fixture('jls/plain-jls-multi-ip-jail-shows-first-ip-only.txt')))._unsafeUnwrap()).toEqual([
      {jid: 1, ip: '192.168.43.101', hostname: 'rabbit1.local', path: '/jail/rabbit1'},
      {jid: 2, ip: '192.168.43.102', hostname: 'rabbit2.local', path: '/jail/rabbit2'},
    ])
  })

  it('meets malformed JSON with an error that says what is wrong', () => {
    expect(parseJlsJson('{"__version": "2", "jail-information": {"jail": [{"jid": 1,')._unsafeUnwrapErr()).toMatch(/^not JSON/)
    expect(parseJlsJson('{"jails": []}')._unsafeUnwrapErr()).toBe('no "jail-information": {"jail": [...]} in the document')
    expect(parseJlsJson('{"jail-information": {"jail": [{"path": "/x"}]}}')._unsafeUnwrapErr()).toBe('jail 1 has neither "name" nor "jid"')
    expect(parseJlsJson('{"jail-information": {"jail": [{"name": "a", "x": {"y": 1}}]}}')._unsafeUnwrapErr()).toBe('jail 1: "x" has a value of an unexpected type')
    expect(parseJlsTable('garbage')._unsafeUnwrapErr()).toMatch(/^line 1: no "JID/)
    expect(parseJlsNameval('a="b')._unsafeUnwrapErr()).toBe('unterminated quoted value')
  })
})

describe('mount', () => {
  it('reads every plain mount sample', () => {
    expect(parseMountPlain(fixture('mount/plain-mount-devfs-fdescfs-leftover-after-stop.txt'))._unsafeUnwrap()).toEqual([
      {from: 'devfs', on: '/iocage/jails/hugo/root/dev', type: 'devfs', opts: ['local', 'multilabel']},
      {from: 'fdescfs', on: '/iocage/jails/hugo/root/dev/fd', type: 'fdescfs', opts: []},
    ])
    const grep = parseMountPlain(outputOf(fixture('mount/plain-mount-grep-jails-zfs-noatime-14-current.txt')))._unsafeUnwrap()
    expect(grep).toHaveLength(7)
    expect(grep[5]).toEqual({from: 'copperbowl/jails', on: '/jails', type: 'zfs', opts: ['local', 'noatime', 'nfsv4acls']})
    const inside = parseMountPlain(outputOf(fixture('mount/plain-mount-inside-jail-enforce_statfs1.txt')))._unsafeUnwrap()
    expect(inside.map((m) => `${m.type}:${m.on}`)).toEqual(['zfs:/', 'devfs:/dev', 'fdescfs:/dev/fd', 'procfs:/proc', 'devfs:/dev'])
  })

  it('reads mount -p as putfsent pads it, blanks in paths printed as they are (sbin/mount/mount.c)', () => {
    const text = [
      'zroot/nest/jails/web/root /nest/jails/web/root\tzfs\trw,noatime,nfsv4acls \t0 0',
      'devfs\t\t\t/nest/jails/web/root/my dev devfs\trw\t\t0 0',
      'tmpfs\t\t\t/tmp/a\tb c\t\ttmpfs\trw\t\t0 0',
      '/home/a b\t\t/nest/jails/web/root/home x nullfs\tro\t\t0 0',
      'zroot/usr/ports\t\t/usr/ports\t\tzfs\trw,nosuid,noatime,nfsv4acls \t0 0',
    ].join('\n')
    expect(parseMountP(`${text}\n`)).toEqual({unreadable: [], mounts: [
      {from: 'zroot/nest/jails/web/root', on: '/nest/jails/web/root', type: 'zfs', opts: ['rw', 'noatime', 'nfsv4acls']},
      {from: 'devfs', on: '/nest/jails/web/root/my dev', type: 'devfs', opts: ['rw']},
      {from: 'tmpfs', on: '/tmp/a\tb c', type: 'tmpfs', opts: ['rw']},
      {from: '/home/a b', on: '/nest/jails/web/root/home x', type: 'nullfs', opts: ['ro']},
      {from: 'zroot/usr/ports', on: '/usr/ports', type: 'zfs', opts: ['rw', 'nosuid', 'noatime', 'nfsv4acls']},
    ]})
  })

  it('says which mount -p lines it cannot read and reads the others', () => {
    // Past 24 characters a field ends with one space: "A B C" splits as "A" and "B C" or as "A B" and "C".
    const a = `/${'a'.repeat(25)}`
    const b = `/${'b'.repeat(25)}`
    const c = `/${'c'.repeat(25)}`
    const odd = `${a} ${b} ${c} nullfs\trw\t\t0 0`
    const text = `devfs\t\t\t/dev\t\t\tdevfs\trw\t\t0 0\n${odd}\ndevfs /dev devfs rw 0\n`
    expect(parseMountP(text)).toEqual({
      mounts: [{from: 'devfs', on: '/dev', type: 'devfs', opts: ['rw']}],
      unreadable: [`line 2: its paths can be split in more than one way (a blank in both): ${odd}`, 'line 3: not a mount -p line: devfs /dev devfs rw 0'],
    })
  })

  it('meets a transcript prompt or a truncated line with the line number', () => {
    expect(parseMountPlain(fixture('mount/plain-mount-inside-jail-enforce_statfs1.txt'))._unsafeUnwrapErr()).toBe('line 1: not a mount line: minecraft # mount')
  })
})

describe('sysctl and zfs', () => {
  it('reads name: value lines, empty values included', () => {
    expect([...parseSysctl(outputOf(fixture('sysctl/sysctl-security.jail.jailed-host-0.txt')))._unsafeUnwrap()]).toEqual([['security.jail.jailed', '0']])
    expect([...parseSysctl('security.jail.param.allow.mount.zfs: 0\nkern.hostname: \n')._unsafeUnwrap()]).toEqual([['security.jail.param.allow.mount.zfs', '0'], ['kern.hostname', '']])
    expect(parseSysctl('cba\n')._unsafeUnwrapErr()).toBe('line 1: not a "name: value" line: cba')
  })

  it('reads zfs -H columns and refuses a row with the wrong number of fields', () => {
    expect(parseZfsColumns('zroot/nest\t/nest\n', ['name', 'mountpoint'])._unsafeUnwrap()).toEqual([{name: 'zroot/nest', mountpoint: '/nest'}])
    expect(parseZfsColumns('zroot/nest\n', ['name', 'mountpoint'])._unsafeUnwrapErr()).toBe('line 1: 1 columns where 2 were asked for')
  })
})
