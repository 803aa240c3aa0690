// The one table of error kinds: every kind has one exit code and one summary, and the exit
// codes, --help's ERROR CODES and the kinds a child manager may answer with all come from it.
import {describe, expect, it} from 'vitest'

import {describeError, ERROR_CODES, ERROR_KINDS, exitCodeOf, isErrorKind, type NestErrorKind, partial, usage} from '../../src/domain/errors.js'

const kinds = Object.keys(ERROR_KINDS) as NestErrorKind[]

describe('the error table', () => {
  it('gives each kind the documented exit code (README "Output and exit codes")', () => {
    expect(Object.fromEntries(kinds.map((k) => [k, exitCodeOf(k)]))).toEqual({
      'usage': 2, 'invalid-input': 3, 'not-found': 4, 'conflict': 5, 'preflight': 6, 'partial': 7, 'busy': 8, 'findings': 9, 'host': 10, 'internal': 70,
    })
  })

  it('gives distinct kinds distinct exit codes, none of them 0 or 1', () => {
    const codes = kinds.map(exitCodeOf)
    expect(new Set(codes).size).toBe(codes.length)
    expect(codes.filter((c) => c === 0 || c === 1)).toEqual([])
  })

  it('is what --help shows as ERROR CODES: success, then one line per kind in table order', () => {
    expect(ERROR_CODES[0]).toEqual([0, 'success'])
    expect(ERROR_CODES.slice(1)).toEqual(kinds.map((k) => [ERROR_KINDS[k].exit, ERROR_KINDS[k].summary]))
    expect(ERROR_CODES.find(([c]) => c === 2)?.[1]).toBe('the command line could not be parsed (unknown command or flag, missing argument)')
  })

  it('tells a kind nest knows from anything else a child manager could print', () => {
    for (const k of kinds) expect(isErrorKind(k)).toBe(true)
    for (const other of ['toString', '__proto__', 'constructor', 'Usage', '', 2, undefined, null]) expect(isErrorKind(other)).toBe(false)
  })
})

describe('the factories', () => {
  it('partial carries its details as given, and leaves out what is not given', () => {
    const details = {dryRun: false, jails: [{name: 'web', outcome: 'failed'}]}
    expect(partial('1 of 2 jail(s) not started', 'nest start web again', details)).toEqual({kind: 'partial', message: '1 of 2 jail(s) not started', fix: 'nest start web again', details})
    expect(partial('mounts stay')).toEqual({kind: 'partial', message: 'mounts stay'})
  })

  it('usage is the kind of a command line that cannot be parsed, exit 2, with its fix in the one line shown', () => {
    const e = usage('crate is not a nest command', 'did you mean create?')
    expect(e).toEqual({kind: 'usage', message: 'crate is not a nest command', fix: 'did you mean create?'})
    expect(exitCodeOf(e.kind)).toBe(2)
    expect(describeError(e)).toBe('crate is not a nest command (did you mean create?)')
  })
})
