// configsFrom: jail.conf texts to the parameters `jail -e` shows (src/audit/configs.ts).
import {describe, expect, it} from 'vitest'

import {configsFrom, includesOf} from '../../src/audit/configs.js'

describe('configsFrom', () => {
  it('expands variables, applies wildcards, implies name, and keeps the raw values', () => {
    const text = [
      '# Written by nest for web (policy parent, release 14.3-RELEASE).',
      '$base = "/jails";',
      '* { exec.clean; path = "$base/$name"; }',
      'web { host.hostname = "${name}.example"; exec.prestart = "/sbin/ifconfig ${name} up"; allow.noraw_sockets; }',
      '* { persist; }',
    ].join('\n')
    const r = configsFrom([{path: '/etc/jail.conf', text, startedBy: null, prefix: ''}])
    expect(r.errors).toEqual([])
    expect(r.configs).toEqual([
      {
        name: 'web',
        file: '/etc/jail.conf',
        startedBy: null,
        nest: true,
        params: {'name': ['web'], 'exec.clean': [], 'path': ['/jails/web'], 'host.hostname': ['web.example'], 'exec.prestart': ['/sbin/ifconfig web up'], 'allow.noraw_sockets': [], 'persist': []},
        raw: {'name': ['web'], 'exec.clean': [], 'path': ['${base}/${name}'], 'host.hostname': ['${name}.example'], 'exec.prestart': ['/sbin/ifconfig ${name} up'], 'allow.noraw_sockets': [], 'persist': []},
      },
    ])
  })

  it("names a parent's children by their full name and puts their paths below the parent's root", () => {
    const text = 'a {\n\tpath = "/data/jails/a/root";\n\texec.consolelog = "/var/log/a.log";\n\tmount.devfs;\n}\n'
    const r = configsFrom([{path: '/nest/jails/p/root/etc/jail.conf.d/a.conf', text, startedBy: 'p', prefix: 'p', root: '/nest/jails/p/root'}])
    expect(r.configs.map((c) => [c.name, c.startedBy, c.params['path'], c.params['exec.consolelog'], c.raw['path'], c.nest])).toEqual([
      ['p.a', 'p', ['/nest/jails/p/root/data/jails/a/root'], ['/nest/jails/p/root/var/log/a.log'], ['/data/jails/a/root'], false],
    ])
  })

  it('follows .include through the texts it was given, the block keeping its own file', () => {
    const main = '.include "/etc/jail.conf.d/*.conf";\n'
    const r = configsFrom([{path: '/etc/jail.conf', text: main, startedBy: null, prefix: ''}], {'/etc/jail.conf.d/db.conf': 'db { path = /jails/db; }\n', '/etc/jail.conf.d/x.txt': 'x { path = /x; }\n'})
    expect(r.configs.map((c) => [c.name, c.file, c.params['path']])).toEqual([['db', '/etc/jail.conf.d/db.conf', ['/jails/db']]])
    expect(includesOf(main)).toEqual(['/etc/jail.conf.d/*.conf'])
  })

  it('reads a file that /etc/jail.conf includes and that is read on its own once', () => {
    const r = configsFrom([
      {path: '/etc/jail.conf', text: '.include "/etc/jail.conf.d/*.conf";\n', startedBy: null, prefix: ''},
      {path: '/etc/jail.conf.d/db.conf', text: 'db { path = /jails/db; }\n', startedBy: null, prefix: ''},
    ])
    expect(r.configs.map((c) => [c.name, c.file])).toEqual([['db', '/etc/jail.conf.d/db.conf']])
  })

  it('reports an error inside a file that /etc/jail.conf includes once, for that file', () => {
    const r = configsFrom([
      {path: '/etc/jail.conf', text: '.include "/etc/jail.conf.d/*.conf";\n', startedBy: null, prefix: ''},
      {path: '/etc/jail.conf.d/db.conf', text: 'db { path = /jails/db }\n', startedBy: null, prefix: ''},
    ])
    expect(r.errors.map((e) => [e.file, e.message.split(' (')[0]])).toEqual([['/etc/jail.conf.d/db.conf', '/etc/jail.conf.d/db.conf line 1: }: syntax error']])
  })

  it('gives a file with a syntax error as one line naming file and line, and reads the other files', () => {
    const r = configsFrom([
      {path: '/etc/jail.conf.d/bad.conf', text: 'bad {\n\tpath = /jails/bad\n\tpersist;\n}\n', startedBy: null, prefix: ''},
      {path: '/etc/jail.conf.d/good.conf', text: 'good { path = /jails/good; }\n', startedBy: null, prefix: ''},
    ])
    expect(r.configs.map((c) => c.name)).toEqual(['good'])
    expect(r.errors).toEqual([
      {file: '/etc/jail.conf.d/bad.conf', startedBy: null, prefix: '', message: "/etc/jail.conf.d/bad.conf line 3: persist: syntax error (jail(8) refuses the whole file: fix it, then `jail -f /etc/jail.conf.d/bad.conf -e '|'` shows what it reads)"},
    ])
  })

  it('reports a variable that is not defined, as jail(8) would for that jail', () => {
    const r = configsFrom([{path: '/etc/jail.conf', text: 'w { path = "/j/$nope"; }\n', startedBy: null, prefix: ''}])
    expect(r.errors.map((e) => e.message)).toEqual(['/etc/jail.conf: w: path: variable "nope" not found'])
  })

  it('shows the control characters of a token it quotes, so the error stays one line', () => {
    const r = configsFrom([{path: '/etc/jail.conf', text: 'x = y "p\nq";\n', startedBy: null, prefix: ''}])
    expect(r.errors.map((e) => e.message.split(' (')[0])).toEqual(['/etc/jail.conf line 2: "p\\nq": syntax error'])
  })

  it('says an include it was not given is not there', () => {
    const r = configsFrom([{path: '/etc/jail.conf', text: '.include "/etc/other.conf";\n', startedBy: null, prefix: ''}])
    expect(r.errors.map((e) => e.message.split(' (')[0])).toEqual(['/etc/other.conf: No such file or directory'])
  })
})

describe('configurations nobody has seen', () => {
  it('any text gives configurations or one-line errors, and the hygiene rules run on what it gives without throwing', async () => {
    const fc = (await import('fast-check')).default
    const {buildFacts, runHygiene} = await import('../helpers/audit-facts-hygiene.js')
    const token = fc.constantFrom('a', 'p.a', '*', '{', '}', ';', '=', '+=', ',', '"', "'", '$name', '${path}', '$x', '\n', ' ', 'path', '/', '/j/a', 'exec.prestart', 'mount.devfs', 'devfs_ruleset', '0', '4', 'allow.mount', 'allow.nomount', '.include', 'persist', 'mount', 'nullfs', 'rw', 'ro', '//', '#', '/*', '*/', '\\', 'ip4', 'inherit', 'vnet', '[', ']', '|', '>', 'mount_nullfs')
    const rules = fc.array(fc.constantFrom('add hide', "add path 'da*' unhide", 'add path [z-a] unhide', 'add include $devfsrules_jail', 'add include 99', '[r=6]', '[x=7]', 'add type disk unhide', '#', ''), {maxLength: 8})
    fc.assert(
      fc.property(fc.array(token, {maxLength: 60}), rules, (words, lines) => {
        const text = words.join(' ')
        const r = configsFrom([{path: '/etc/jail.conf', text, startedBy: null, prefix: ''}])
        for (const e of r.errors) expect(e.message).not.toContain('\n')
        const facts = buildFacts({files: [{path: '/etc/jail.conf', text, startedBy: null, prefix: ''}], devfsRules: lines.join('\n')})
        expect(Array.isArray(runHygiene(facts))).toBe(true)
      }),
      {numRuns: 300},
    )
  })
})
