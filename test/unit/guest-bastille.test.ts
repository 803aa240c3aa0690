import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {adaptBastilleConf, bastilleRctl, bastilleZfsConf} from '../../src/domain/guest.js'
import {adaptBastilleJailConf, commandInterfaces} from '../../src/plan/bastille.js'

const FIX = join(import.meta.dirname, '../fixtures/freebsd-outputs/guest')
const fixture = (f: string): string => readFileSync(join(FIX, f), 'utf8')

describe('bastille.conf', () => {
  it('points Bastille at the host pool and prefix, as sysrc -f edits, bastille_prefix untouched', () => {
    const r = adaptBastilleConf(fixture('bastille.conf.txt'), {pool: 'tank', prefix: 'nest/jails/vm1/data/bastille'})._unsafeUnwrap()
    const lines = r.text.split('\n')
    expect(lines.filter((l) => l.startsWith('bastille_zfs_'))).toEqual([
      'bastille_zfs_enable="YES"                                             ## default: "NO"',
      // sysrc's awk replaces the assignment and keeps what follows it (src/domain/rcconf.ts).
      'bastille_zfs_zpool="tank"                                            ## default: ""',
      'bastille_zfs_prefix="nest/jails/vm1/data/bastille"                                        ## default: "bastille"',
      'bastille_zfs_options="-o compress=lz4 -o atime=off"                   ## default: "-o compress=lz4 -o atime=off"',
    ])
    expect(lines.filter((l) => l.startsWith('bastille_prefix'))).toEqual(['bastille_prefix="/usr/local/bastille"                                 ## default: "/usr/local/bastille"'])
    expect(r.edits.map((e) => [e.key, e.action, e.from, e.to])).toEqual([
      ['bastille_zfs_zpool', 'set', 'zroot', 'tank'],
      ['bastille_zfs_prefix', 'set', 'bastille', 'nest/jails/vm1/data/bastille'],
    ])
    expect(r.notes).toEqual([])
  })

  it('says when Bastille does not use ZFS, and refuses a value it would have to quote', () => {
    expect(adaptBastilleConf('bastille_zfs_enable="NO"\n', {pool: 'tank', prefix: 'p'})._unsafeUnwrap().notes[0]?.text).toBe('bastille_zfs_enable is not YES: this Bastille does not use ZFS, and the pool and prefix set are unused')
    expect(adaptBastilleConf('', {pool: 'ta"nk', prefix: 'p'})._unsafeUnwrapErr().kind).toBe('invalid-input')
  })
})

describe('a Bastille child jail.conf', () => {
  const opts = {parentRuleset: 5, interfaces: ['lo0', 'vtnet0', 'bastille0'], file: '/usr/local/bastille/jails/web/jail.conf'}

  it('sets devfs_ruleset 4 to 0 in a classic jail, formatting kept', () => {
    const src = fixture('bastille-classic-jail.conf.txt')
    const r = adaptBastilleJailConf(src, opts)._unsafeUnwrap()
    expect(r.text).toBe(src.replace('  devfs_ruleset = 4;\n', '  devfs_ruleset = 0;\n'))
    expect(r.edits).toEqual([{file: opts.file, key: 'web.devfs_ruleset', action: 'set', from: '4', to: '0', why: 'inside the parent jail a devfs ruleset other than the parent\'s (5) is refused and mount.devfs fails ("mount: .: Operation not permitted"); 0 inherits the parent\'s'}])
    expect(r.notes).toEqual([])
  })

  it('sets 13 to 0 in a VNET jail and reports a guest NIC name the parent lacks', () => {
    const src = fixture('bastille-vnet-jail.conf.txt')
    const r = adaptBastilleJailConf(src, {...opts, interfaces: ['lo0', 'em0'], file: '/usr/local/bastille/jails/db/jail.conf'})._unsafeUnwrap()
    expect(r.text).toBe(src.replace('  devfs_ruleset = 13;\n', '  devfs_ruleset = 0;\n'))
    expect(r.edits.map((e) => [e.key, e.from, e.to])).toEqual([['db.devfs_ruleset', '13', '0']])
    expect(r.notes.map((n) => n.text)).toEqual(['db: exec.prestart names interface vtnet0, which the parent jail will not have (it has lo0, em0): rename the parent\'s epair to vtnet0, or change that line'])
    expect(adaptBastilleJailConf(src, {...opts, file: 'x'})._unsafeUnwrap().notes).toEqual([])
  })

  it('sets the parent\'s own ruleset to 0 too (0 inherits the parent\'s, whatever it becomes), keeps 0, reads a comment as a comment', () => {
    const src = 'a {\n  # devfs_ruleset = 4;\n  devfs_ruleset = "5";\n}\nb { devfs_ruleset=0; }\n'
    const r = adaptBastilleJailConf(src, opts)._unsafeUnwrap()
    expect(r.text).toBe(src.replace('devfs_ruleset = "5"', 'devfs_ruleset = 0'))
    expect(r.edits.map((e) => [e.key, e.from, e.to, e.why])).toEqual([['a.devfs_ruleset', '5', '0', '0 inherits the parent\'s ruleset (5, the one written here), and keeps inheriting it if the parent\'s changes']])
    expect(adaptBastilleJailConf('b { devfs_ruleset=0; }\n', opts)._unsafeUnwrap().edits).toEqual([])
  })

  it('refuses what the jail.conf grammar refuses', () => {
    expect(adaptBastilleJailConf('web {\n  path = "/x;\n}\n', opts)._unsafeUnwrapErr().message).toMatch(/^the guest's \/usr\/local\/bastille\/jails\/web\/jail.conf is not a jail.conf nest can read: /)
  })

  it('finds the interfaces in jib and ifconfig bridge commands', () => {
    expect(commandInterfaces('jib addm bastille0 vtnet0')).toEqual(['vtnet0'])
    expect(commandInterfaces('ifconfig bridge0 addm epair0a')).toEqual(['bridge0'])
    expect(commandInterfaces('ifconfig epair0 create')).toEqual([])
  })
})

describe('Bastille rctl.conf and zfs.conf', () => {
  it('re-creates the child\'s limits on the host under its dotted name', () => {
    expect(bastilleRctl(fixture('bastille-rctl.conf.txt'), {parent: 'vm1', child: 'db'})._unsafeUnwrap()).toEqual({
      rules: ['jail:vm1.db:memoryuse:deny=1G/jail', 'jail:vm1.db:memoryuse:log=1G/jail', 'jail:vm1.db:pcpu:deny=50/jail', 'jail:vm1.db:pcpu:log=50/jail'],
      notes: [],
    })
  })

  it('reports rules it does not carry over', () => {
    const r = bastilleRctl('# limits\njail:web:memoryuse:deny=1G/jail\nuser:1001:maxproc:deny=10\n\n', {parent: 'vm1', child: 'db'})._unsafeUnwrap()
    expect(r.rules).toEqual([])
    expect(r.notes.map((n) => n.text)).toEqual(['a rule for jail web, not db: not carried over', 'not a jail rctl rule nest can carry over: user:1001:maxproc:deny=10'])
  })

  it('warns that zfs.conf datasets are not supported nested', () => {
    expect(bastilleZfsConf('zroot/data/pg /var/db/postgres\n', 'db')._unsafeUnwrap()).toEqual([{level: 'warning', file: 'zfs.conf of Bastille jail db', key: 'zroot/data/pg', text: 'Bastille jail db is given dataset zroot/data/pg with zfs jail, which is not supported nested: a jail cannot zfs jail to its own children (PRIV_ZFS_JAIL), and Bastille\'s start runs zfs set jailed=off/on, host-only'}])
  })
})
