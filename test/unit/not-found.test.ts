// What a mistyped command is taken for: the closest command of as many words, never a hidden
// one outside its own topic, nothing when nothing is close.
import {describe, expect, it} from 'vitest'

import {closestCommand, editDistance, wantsJson} from '../../src/cli/not-found.js'

const cmd = (id: string, hidden = false) => ({id, hidden, aliases: [] as string[]})
const config = {
  commands: [cmd('create'), cmd('destroy'), cmd('list'), cmd('start'), cmd('stop'), cmd('restart'), cmd('policy:show'), cmd('policy:list'), cmd('sim:reset', true), cmd('sim:init', true)],
  findTopic: (name: string) => (name === 'policy' || name === 'sim' ? {name} : undefined),
} as unknown as Parameters<typeof closestCommand>[1]

describe('closestCommand', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect([editDistance('crate', 'create'), editDistance('destory', 'destroy'), editDistance('', 'list'), editDistance('stop', 'stop')]).toEqual([1, 2, 4, 0])
  })

  it('takes the leading words that come closest to a command (oclif joins the whole line into the id)', () => {
    expect(closestCommand('crate:web', config)).toEqual({typed: 'crate', near: 'create'})
    expect(closestCommand('policy:shwo:parent', config)).toEqual({typed: 'policy:shwo', near: 'policy:show'})
    expect(closestCommand('stpo', config)).toEqual({typed: 'stpo', near: 'stop'})
  })

  it('suggests a hidden command only inside its own topic', () => {
    expect(closestCommand('sim:rest', config)).toEqual({typed: 'sim:rest', near: 'sim:reset'})
    expect(closestCommand('reset', config).near).not.toBe('sim:reset')
    expect(closestCommand('init', config)).toEqual({typed: 'init'})
  })

  it('suggests nothing when more than half of the word would change', () => {
    expect(closestCommand('xyzzyq:web', config)).toEqual({typed: 'xyzzyq'})
    expect(closestCommand('policy:zzzzzzzzzz', config)).toEqual({typed: 'policy:zzzzzzzzzz'})
  })

  it('reads --json only before `--`', () => {
    expect([wantsJson(['crate', '--json']), wantsJson(['crate', '--', 'ls', '--json']), wantsJson(['crate'])]).toEqual([true, false, false])
  })
})
