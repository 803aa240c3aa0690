// Words as a POSIX shell reads them back: how nest shows a command line it runs (argv arrays
// only: this is for people, never for a shell).

/** Each word quoted only when it has to be. */
export const shellWords = (words: readonly string[]): string =>
  words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)).join(' ')
