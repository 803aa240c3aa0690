import {describe, expect, it} from 'vitest'

import {parseJailPath, parseRelease} from '../../src/domain/names.js'

describe('jail names', () => {
  it('takes levels of letters, digits, _ and -, and gives the dotted kernel name', () => {
    expect(parseJailPath('web')._unsafeUnwrap()).toEqual({path: 'web', jail: 'web', levels: ['web']})
    expect(parseJailPath('web/db_1/cache-2')._unsafeUnwrap()).toEqual({path: 'web/db_1/cache-2', jail: 'web.db_1.cache-2', levels: ['web', 'db_1', 'cache-2']})
    expect(parseJailPath('1web').isOk()).toBe(true)
    expect(parseJailPath('a'.repeat(63)).isOk()).toBe(true)
  })

  it.each([
    ['a;b', 'contains ";"'],
    ['$(x)', 'contains "$"'],
    ['a b', 'contains " "'],
    ['a.b', 'contains "."'],
    ['..', 'contains "."'],
    ['', 'an empty name'],
    ['a'.repeat(300), 'longer than 63 characters'],
    ['a\nb', 'contains "\\n"'],
    ['-rf', 'starts with "-"'],
    ['123', 'only digits (jail(8) would read it as a jid)'],
    ['web/', 'an empty name'],
    ['/web', 'an empty name'],
    ['a/b/c/d/e/f/g/h/i', 'more than 8 levels'],
  ])('refuses %j: %s', (input, why) => {
    const e = parseJailPath(input)._unsafeUnwrapErr()
    expect(e.kind).toBe('invalid-input')
    expect(e.message).toContain(why)
    expect(e.message).not.toContain('\n')
    expect(e.message.length).toBeLessThan(120)
  })

  it('takes FreeBSD release names only', () => {
    expect(parseRelease('14.3-RELEASE').isOk()).toBe(true)
    expect(parseRelease('15.0-BETA2').isOk()).toBe(true)
    expect(parseRelease('14.3-RELEASE-p1').isOk()).toBe(true)
    expect(parseRelease('../../etc')._unsafeUnwrapErr().message).toBe('invalid release "../../etc"')
  })
})
