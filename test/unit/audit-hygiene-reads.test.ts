// What the hygiene rules need the collector to read (src/audit/hygiene-reads.ts).
import {describe, expect, it} from 'vitest'

import {devfsMountsToRead, pathsToStat, rulesetsToRead} from '../../src/audit/hygiene-reads.js'
import {buildFacts} from '../helpers/audit-facts-hygiene.js'

describe('hygiene reads', () => {
  const f = buildFacts({files: [{path: '/etc/jail.conf.d/a.conf', text: 'a { path = /jails/a; mount.devfs; devfs_ruleset = 6; }\n', startedBy: null, prefix: ''}]})
  it('lstats each root with its ancestors and the host configuration files with their directory', () => {
    expect(pathsToStat(f.jails, f.configs)).toEqual(['/', '/etc/jail.conf', '/etc/jail.conf.d', '/etc/jail.conf.d/a.conf', '/jails', '/jails/a', '/usr/local/etc/nest/policies'])
  })
  it('reads the rulesets in use, 4, then what they include, until nothing is new', () => {
    expect(rulesetsToRead(f.jails, f.configs)).toEqual([4, 6])
    expect(rulesetsToRead(f.jails, f.configs, {4: ['100 include 1', '200 include 2'], 6: ['100 include 4']})).toEqual([1, 2])
    expect(rulesetsToRead(f.jails, f.configs, {1: ['100 hide'], 2: [], 4: ['100 include 1', '200 include 2'], 6: ['100 include 4']})).toEqual([])
  })
  it('reads the rules of every devfs but the host\'s /dev', () => {
    expect(devfsMountsToRead([{from: 'devfs', on: '/dev', type: 'devfs', opts: ['rw']}, ...f.mounts])).toEqual(['/jails/a/dev'])
  })
})
