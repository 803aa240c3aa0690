import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import fc from 'fast-check'
import {err, ok} from 'neverthrow'
import {describe, expect, it} from 'vitest'

import {parseConfig, printConfig, resolveConfig, wildcardMatches, type IncludeReader} from '../../src/jailconf/index.js'

const resolve = (text: string, reader?: IncludeReader) => {
  const ast = parseConfig(text, '/etc/jail.conf', reader)
  if (ast.isErr()) throw new Error(ast.error.message)
  return resolveConfig(ast.value)
}
const paramsOf = (text: string, jail: string) =>
  Object.fromEntries((resolve(text).find((j) => j.name === jail)?.params ?? []).map((p) => [p.name, p.values]))
const parseError = (text: string) => {
  const r = parseConfig(text, '/etc/jail.conf')
  return r.isErr() ? r.error.message : undefined
}

describe('jail.conf grammar (jailparse.y, jaillex.l, config.c)', () => {
  it('reads blocks, booleans, lists, += and the bare-value form', () => {
    const p = paramsOf(
      `web { persist; allow.mount.nonullfs; ip4.addr = 10.0.0.1, 10.0.0.2; exec.start = "a"; exec.start += 'b'; path "/jails/web"; }`,
      'web',
    )
    expect(p).toEqual({
      name: ['web'],
      persist: [],
      'allow.mount.nonullfs': [],
      'ip4.addr': ['10.0.0.1', '10.0.0.2'],
      'exec.start': ['a', 'b'],
      path: ['/jails/web'],
    })
  })

  it('puts top-level parameters in an implicit * block: defaults before a jail, forced after', () => {
    const p = paramsOf(`path = "/var/jail/$name"; mount.devfs; web { mount.nodevfs; host.hostname = a; }\nhost.hostname = b;`, 'web')
    expect(p['path']).toEqual(['/var/jail/web'])
    expect(p['mount.nodevfs']).toEqual([])
    expect(p['mount.devfs']).toBeUndefined()
    expect(p['host.hostname']).toEqual(['b'])
  })

  it('expands $var, ${dotted.var}, pure variables and adjacent pieces per jail', () => {
    const p = paramsOf(`$base = /jails; * { path = $base/$name/root; } web.db { host.hostname = "\${name}.\${host.domainname}"; host.domainname = example.org; }`, 'web.db')
    expect(p['path']).toEqual(['/jails/web.db/root'])
    expect(p['host.hostname']).toEqual(['web.db.example.org'])
    expect(p['base']).toBeUndefined()
  })

  it('matches wildcards like wild_jail_match', () => {
    expect(wildcardMatches('web', '*')).toBe(true)
    expect(wildcardMatches('web.db', 'web.*')).toBe(true)
    expect(wildcardMatches('web.db.cache', 'web.*')).toBe(true)
    expect(wildcardMatches('web', 'web.*')).toBe(false)
    expect(wildcardMatches('web.db', '*.db')).toBe(true)
    expect(wildcardMatches('mail.db', 'web.*')).toBe(false)
  })

  it('reports variable errors with jail(8) texts', () => {
    expect(resolve('web { path = $nope; }')[0]?.errors).toEqual(['path: variable "nope" not found'])
    expect(resolve('web { $a = $b; $b = $a; path = $a; }')[0]?.errors[0]).toMatch(/variable loop$/)
    // An unbraced name stops at the dot: this is $ip4 followed by ".addr".
    expect(resolve('web { ip4.addr = 1, 2; path = "/x/$ip4.addr"; }')[0]?.errors).toEqual(['path: variable "ip4" not found'])
    expect(resolve('web { ip4.addr = 1, 2; path = "/x/${ip4.addr}"; }')[0]?.errors).toEqual([
      'path: array cannot be substituted inline',
    ])
    expect(resolve('web { name = x; }')[0]?.errors).toEqual(['cannot redefine parameter "name".'])
  })

  it('gives syntax errors as jail(8) prints them', () => {
    expect(parseError('web {\n path = /x\n}\n')).toBe('/etc/jail.conf line 3: }: syntax error')
    expect(parseError('web { persist;')).toBe('/etc/jail.conf: unexpected EOF')
    expect(parseError('web { path = "/x;\n}')).toBe('/etc/jail.conf line 1: unterminated string')
    expect(parseError('/* open')).toBe('/etc/jail.conf line 1: unterminated comment')
    expect(parseError('web { path = ${x\n; }')).toBe('/etc/jail.conf line 1: unterminated variable')
    // jaillex.l takes everything up to the brace as the name: this is a complete variable.
    expect(parseError('web { path = ${x; }')).toBe('/etc/jail.conf: unexpected EOF')
  })

  it('handles comments of all three kinds and escapes', () => {
    const p = paramsOf('# c\nweb { // c\n /* multi\nline */ exec.start = "a\\tb\\101\\x41\\"$"; }', 'web')
    expect(p['exec.start']).toEqual(['a\tbAA"$'])
  })

  it('follows .include globs relative to the including file', () => {
    const files: Record<string, string> = {
      '/etc/jail.conf.d/a.conf': 'a { persist; }',
      '/etc/jail.conf.d/b.conf': 'b { persist; }',
      '/etc/rel.conf': 'c { persist; }',
    }
    const reader: IncludeReader = {
      read: (p) => (p in files ? ok(files[p] as string) : err('No such file or directory')),
      glob: (pat) => Object.keys(files).filter((f) => new RegExp(`^${pat.replaceAll('.', '\\.').replaceAll('*', '[^/]*')}$`).test(f)).sort(),
    }
    expect(resolve('.include "/etc/jail.conf.d/*.conf"; .include "rel.conf"; .include "/none/*.conf";', reader).map((j) => j.name)).toEqual(['a', 'b', 'c'])
    const missing = parseConfig('.include "/etc/missing.conf";', '/etc/jail.conf', reader)
    expect(missing.isErr() && missing.error.message).toBe('/etc/missing.conf: No such file or directory')
  })

  it('prints configurations that parse back to the same values for any string', () => {
    const value = fc.string({unit: fc.oneof(fc.constantFrom('"', "'", '$', '\\', '\n', ' ', '{', '}', ';', '#', '/', '*', '\t', '\r', '\x01'), fc.string({unit: 'binary', minLength: 1, maxLength: 1}))}).filter((s) => !s.includes('\0'))
    fc.assert(
      fc.property(fc.array(value, {minLength: 1, maxLength: 4}), value, (values, single) => {
        const text = printConfig([{name: 'web.db', params: [{name: 'exec.start', values}, {name: 'host.hostname', values: [single]}, {name: 'persist', values: []}]}])
        expect(text.isOk()).toBe(true)
        const p = paramsOf(text._unsafeUnwrap(), 'web.db')
        expect(p['exec.start']).toEqual(values)
        expect(p['host.hostname']).toEqual([single])
        expect(p['persist']).toEqual([])
      }),
      {numRuns: 500},
    )
  })

  it('refuses names that could inject a parameter', () => {
    expect(printConfig([{name: 'a;b', params: []}]).isErr()).toBe(true)
    expect(printConfig([{name: 'web', params: [{name: 'x; exec.start', values: []}]}]).isErr()).toBe(true)
  })
})

describe('the real jail.conf samples', () => {
  const dir = path.join(import.meta.dirname, '../fixtures/freebsd-outputs/jail-conf')
  const samples = readdirSync(dir).filter((f) => f.endsWith('.txt') && !f.endsWith('.source.txt'))
  const noFiles: IncludeReader = {read: () => err('No such file or directory'), glob: () => []}

  it.each(samples)('%s parses, or fails with a clear message', (f) => {
    const text = readFileSync(path.join(dir, f), 'utf8')
    const r = parseConfig(text, f, noFiles)
    if (r.isOk()) {
      const jails = resolveConfig(r.value)
      for (const j of jails) expect(j.errors).toEqual([])
    } else {
      expect(r.error.message).toMatch(/^.+ line \d+: .+|unexpected EOF|No such file/)
    }
  })

  it('reads the jail.conf(5) example as FreeBSD does', () => {
    const text = readFileSync(path.join(dir, 'freebsd-jail.conf.5-EXAMPLES-with-includes.txt'), 'utf8')
    const jails = resolveConfig(parseConfig(text, '/etc/jail.conf', noFiles)._unsafeUnwrap())
    const foo = Object.fromEntries(jails.find((j) => j.name === 'foo')?.params.map((p) => [p.name, p.values]) ?? [])
    expect(foo['path']).toEqual(['/var/jail/foo'])
    expect(foo['ip4.addr']).toEqual(['10.1.1.1', '10.1.1.2', '10.1.1.3'])
    const bar = Object.fromEntries(jails.find((j) => j.name === 'bar')?.params.map((p) => [p.name, p.values]) ?? [])
    expect(bar['exec.start']).toEqual([''])
    expect(bar['mount.nodevfs']).toEqual([])
    expect(bar['path']).toEqual(['/'])
  })
})
