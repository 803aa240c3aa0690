// Progress on stderr (house style §4). On a terminal: a live line per jail, rewritten as its
// steps run (`web/db: jail -c`), the jails' lines kept together below whatever else is said.
// Elsewhere (a pipe, a log, cron): no step lines, one line per jail as it finishes. Under
// --json: nothing but the final document on stdout.

export interface Progress {
  /** A step of a jail has started (`web/db: jail -c`). */
  step(line: string): void
  /** A jail is done (`web/db: done`, `web/db: failed: ...`). */
  finished(line: string): void
  /** Anything else for the user (notices, warnings): printed above the live lines. */
  say(line: string): void
  /** The command is over: the live lines stay as they last were. */
  end(): void
}

const keyOf = (line: string): string => {
  const i = line.indexOf(': ')
  return i < 0 ? line : line.slice(0, i)
}

export function makeProgress(write: (text: string) => void, o: {tty: boolean; json: boolean; columns?: number}): Progress {
  if (o.json || !o.tty) {
    return {
      step: () => undefined,
      finished: (line) => (o.json ? undefined : write(`${line}\n`)),
      say: (line) => write(`${line}\n`),
      end: () => undefined,
    }
  }
  const lines = new Map<string, string>()
  let drawn = 0
  const width = Math.max(20, (o.columns ?? 100) - 1)
  const erase = (): void => {
    if (drawn > 0) write(`\x1b[${drawn}A\x1b[J`)
    drawn = 0
  }
  const draw = (): void => {
    const text = [...lines.values()].map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l))
    write(text.map((l) => `${l}\n`).join(''))
    drawn = text.length
  }
  const update = (line: string): void => {
    erase()
    lines.set(keyOf(line), line)
    draw()
  }
  return {
    step: update,
    finished: update,
    say: (line) => {
      erase()
      write(`${line}\n`)
      draw()
    },
    end: () => {
      drawn = 0
    },
  }
}
