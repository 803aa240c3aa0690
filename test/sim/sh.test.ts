// The sh -c subset jail(8)'s hooks run in (src/sim/sh.ts): the grammar as values, then the
// hooks of a jail.conf run by the simulated jail(8) as processes, guard skipped, guard passed
// and a line refused as not simulated.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {runSh, runTest, ShNotSimulated} from '../../src/sim/sh.js'
import {makeSim, spawnRun, type Run, type TestSim} from '../helpers/sim.js'

/** Run a line; the argv of every command it runs, and its status. Each command's status is `status(argv)`. */
async function trace(line: string, env: NodeJS.ProcessEnv = {}, status: (argv: string[]) => number = () => 0): Promise<{ran: string[][]; code: number}> {
  const ran: string[][] = []
  const code = await runSh(line, env, async (argv) => {
    ran.push(argv)
    return status(argv)
  })
  return {ran, code}
}

const refused = async (line: string, env: NodeJS.ProcessEnv = {}): Promise<string> => {
  try {
    await trace(line, env)
  } catch (error) {
    if (error instanceof ShNotSimulated) return error.message
    throw error
  }
  return 'accepted'
}

describe('the sh -c subset', () => {
  it('expands parameters from the environment in and out of quotes', async () => {
    const env = {A: 'one', B: 'two words', E: ''}
    expect((await trace('echo $A "$A" ${A} "${A}" x${A}y', env)).ran).toEqual([['echo', 'one', 'one', 'one', 'one', 'xoney']])
    // Unquoted results split on blanks; an empty unquoted one disappears, an empty quoted one stays.
    expect((await trace('echo $B "$B" $E "$E" $UNSET "${UNSET:-}" ${UNSET:-dflt} ${E:-dflt}', env)).ran)
      .toEqual([['echo', 'two', 'words', 'two words', '', '', 'dflt', 'dflt']])
    expect((await trace("echo '$A \"x\"' \"'\\$A'\" a\\ b", env)).ran).toEqual([['echo', '$A "x"', "'$A'", 'a b']])
    expect((await trace('echo $ "$" a$', env)).ran).toEqual([['echo', '$', '$', 'a$']])
  })

  it('runs && and || left to right on the last status, and ! negates', async () => {
    const fails = (argv: string[]): number => (argv[0] === 'no' ? 1 : 0)
    expect(await trace('yes && a || b', {}, fails)).toEqual({ran: [['yes'], ['a']], code: 0})
    expect(await trace('no && a || b', {}, fails)).toEqual({ran: [['no'], ['b']], code: 0})
    expect(await trace('no || no && c', {}, fails)).toEqual({ran: [['no'], ['no']], code: 1})
    expect(await trace('! no && a', {}, fails)).toEqual({ran: [['no'], ['a']], code: 0})
    expect(await trace('! yes', {}, fails)).toEqual({ran: [['yes']], code: 1})
    // A command whose words all expand to nothing runs nothing and succeeds.
    expect(await trace('$UNSET && a', {}, fails)).toEqual({ran: [['a']], code: 0})
  })

  it('compares strings with test and [ in-process', () => {
    const errs: string[] = []
    const t = (name: string, ...args: string[]): number => runTest(name, args, (e) => errs.push(e))
    expect([t('test', '1', '=', '1'), t('test', '1', '=', '2'), t('test', 'a', '!=', 'b'), t('[', '', '=', '', ']')]).toEqual([0, 1, 0, 0])
    expect([t('test', '-n', ''), t('test', '-z', ''), t('test', 'x'), t('test', ''), t('test')]).toEqual([1, 0, 0, 1, 1])
    // With three operands a binary primary in the middle wins over a leading ! (POSIX test).
    expect([t('test', '!', '-n', ''), t('test', '!', 'a', '=', 'a'), t('test', '!', '=', 'x'), t('test', '!', '=', '!')]).toEqual([0, 1, 1, 0])
    expect(errs).toEqual([])
    expect([t('[', '1', '=', '1'), t('test', 'a', 'b'), t('test', 'a', 'b', 'c')]).toEqual([2, 2, 2])
    expect(errs).toEqual(['[: missing ]\n', 'test: a: unexpected operator\n', 'test: b: unexpected operator\n'])
    expect(() => t('test', '-f', 'x')).toThrow(ShNotSimulated)
    expect(() => t('test', '1', '-eq', '1')).toThrow(ShNotSimulated)
  })

  it('refuses everything else before running anything', async () => {
    expect(await refused('jls | head')).toBe('a pipeline (|)')
    expect(await refused('a; b')).toBe('a list of commands (; or a newline)')
    expect(await refused('a\nb')).toBe('a list of commands (; or a newline)')
    expect(await refused('sleep 1 &')).toBe('a background command (&)')
    expect(await refused('echo x > /tmp/f')).toBe('a redirection (< or >)')
    expect(await refused('(cd /)')).toBe('a subshell ( )')
    expect(await refused('echo `id`')).toBe('command substitution `...`')
    expect(await refused('echo "$(id)"')).toBe('command substitution $(...)')
    expect(await refused('echo $((1+1))')).toBe('arithmetic expansion $((...))')
    expect(await refused('echo /etc/*')).toBe('pathname expansion (*)')
    expect(await refused('echo [ab]')).toBe('pathname expansion ([...])')
    expect(await refused('echo ~/x')).toBe('tilde expansion (~)')
    expect(await refused('echo $1')).toBe('the special parameter $1')
    expect(await refused('echo ${#A}')).toBe('the parameter expansion ${#A}')
    expect(await refused('echo ${A:=x}')).toBe('the parameter expansion ${A:=x} (only ${NAME} and ${NAME:-word})')
    expect(await refused('A=1 nest stop')).toBe('a variable assignment (A=...)')
    expect(await refused('if true')).toBe('the reserved word if')
    expect(await refused('|| a')).toBe('|| without a command before it')
    expect(await refused("echo 'open")).toBe('an unterminated single quote')
    expect(await refused('echo $A', {A: '*'})).toBe("pathname expansion of $A's value")
  })
})

describe('jail(8) hooks through /bin/sh -c (usr.sbin/jail/command.c run_command)', () => {
  let sim: TestSim
  beforeEach(async () => {
    sim = await makeSim()
  })
  afterEach(() => sim.cleanup())

  const jail = (env: Record<string, string>, ...args: string[]): Promise<Run> =>
    spawnRun(path.join(sim.root, 'bin', 'jail'), args, {...process.env, NEST_SIM_ROOT: sim.root, NEST_SIM_JID: '0', NEST_SIM_LATENCY: '', ...env})
  const programs = (): Array<{program: string; argv: string[]; spawned: boolean; exit: number}> =>
    readFileSync(path.join(sim.root, 'invocations.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => 'program' in l) as Array<{program: string; argv: string[]; spawned: boolean; exit: number}>

  beforeEach(() => {
    for (const d of ['/j/mnt', '/etc']) mkdirSync(sim.fs(d), {recursive: true})
    // Single quotes: jail.conf expands no $ in them (jaillex.l), so the shell sees the parameters.
    writeFileSync(sim.fs('/etc/jail.conf'), `g {
  path = /j; persist;
  exec.created = "/sbin/mount -t tmpfs tmpfs /j/mnt";
  exec.prestop = 'test "$NEST_CLEANUP_FOLLOWS" = 1 || echo "prestop: $NEST_WHO"';
  exec.release = '[ "\${NEST_CLEANUP_FOLLOWS:-}" = 1 ] || /sbin/umount /j/mnt';
}
r { path = /j; persist; exec.prestop = "jls | head -1"; }
clean { path = /j; persist; exec.clean; exec.prestop = 'test "$NEST_CLEANUP_FOLLOWS" = 1 || echo "guard not seen: TERM=$TERM USER=$USER"'; }
b { path = /j; persist; exec.poststart = "sleep 1 &"; }
`)
  })

  it('skips the guarded commands when the environment says so, and starts no process for the guard', async () => {
    expect((await jail({}, '-c', 'g')).code).toBe(0)
    const before = programs().length
    const down = await jail({NEST_CLEANUP_FOLLOWS: '1'}, '-r', 'g')
    expect(down).toEqual({code: 0, stdout: 'g: removed\n', stderr: ''})
    // The release hook left the tmpfs: nothing ran after the guard.
    expect(sim.kernel().mounts.filter((m) => m.on === '/j/mnt').map((m) => m.fstype)).toEqual(['tmpfs'])
    expect(programs().slice(before)).toEqual([
      expect.objectContaining({program: 'test', spawned: false, exit: 0}),
      expect.objectContaining({program: 'sh', argv: ['/bin/sh', '-c', 'test "$NEST_CLEANUP_FOLLOWS" = 1 || echo "prestop: $NEST_WHO"'], spawned: false, exit: 0}),
      expect.objectContaining({program: '[', spawned: false, exit: 0}),
      expect.objectContaining({program: 'sh', spawned: false, exit: 0}),
    ])
  })

  it('runs the guarded commands otherwise, with the environment jail(8) was given', async () => {
    expect((await jail({}, '-c', 'g')).code).toBe(0)
    const down = await jail({NEST_WHO: 'me'}, '-r', 'g')
    expect(down).toEqual({code: 0, stdout: 'prestop: me\ng: removed\n', stderr: ''})
    expect(sim.kernel().mounts.filter((m) => m.on === '/j/mnt')).toEqual([])
    const log = readFileSync(path.join(sim.root, 'invocations.jsonl'), 'utf8')
    expect(log).toContain('"tool":"umount","argv":["/j/mnt"]')
  })

  it("with exec.clean, sees none of jail(8)'s environment, outside the jail too", async () => {
    expect((await jail({}, '-c', 'clean')).code).toBe(0)
    expect(await jail({NEST_CLEANUP_FOLLOWS: '1', TERM: 'xterm'}, '-r', 'clean')).toEqual({code: 0, stdout: 'guard not seen: TERM=xterm USER=root\nclean: removed\n', stderr: ''})
  })

  it('refuses a hook outside the subset as not simulated, and a hook run in the background', async () => {
    expect((await jail({}, '-c', 'r')).code).toBe(0)
    const down = await jail({}, '-r', 'r')
    expect(down.code).toBe(1)
    expect(down.stderr).toBe('sim: sh -c: a pipeline (|): not simulated (the simulated sh runs simple commands, &&, ||, !, quotes, $VAR and test)\njail: r: /bin/sh -c jls | head -1: failed\n')
    expect(programs().at(-1)).toEqual(expect.objectContaining({program: 'sh', exit: 69, spawned: false}))
    const bg = await jail({}, '-c', 'b')
    expect(bg.code).toBe(69)
    expect(bg.stderr).toContain('sim: jail: sleep 1 &: a hook run in the background (a trailing &): not simulated\n')
  })

  it('runs the subset for jexec ... /bin/sh -c too, with exit 69 for the rest', async () => {
    expect((await jail({}, '-c', 'name=x', 'path=/j', 'persist')).code).toBe(0)
    const jexec = (line: string): Promise<Run> =>
      spawnRun(path.join(sim.root, 'bin', 'jexec'), ['x', '/bin/sh', '-c', line], {...process.env, NEST_SIM_ROOT: sim.root, NEST_SIM_LATENCY: '', V: 'x'})
    expect(await jexec('[ "$V" = x ] && sysctl -n security.jail.jailed')).toEqual({code: 0, stdout: '1\n', stderr: ''})
    expect(await jexec('test "$V" != x')).toEqual({code: 1, stdout: '', stderr: ''})
    expect(await jexec('sysctl -n security.jail.jailed > /tmp/out')).toEqual({code: 69, stdout: '', stderr: 'sim: sh -c: a redirection (< or >): not simulated (the simulated sh runs simple commands, &&, ||, !, quotes, $VAR and test)\n'})
  })
})
