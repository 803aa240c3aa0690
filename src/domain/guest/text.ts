// A guest file as text nest may read: the guest is hostile input (its root was the VM's), so
// a file is refused when it is too big, binary, not UTF-8 or carries control characters a
// configuration file never has. Every reader in src/domain/guest starts here.
import {err, ok, type Result} from 'neverthrow'

import {invalidInput, type NestError} from '../errors.js'
import {decodeText} from '../text.js'
import {CONF_MAX_BYTES} from '../vmbhyve.js'

/** The largest guest file nest reads (as NAME.conf: real rc.conf, fstab, jail.conf are a few KiB). */
export const GUEST_FILE_MAX_BYTES = CONF_MAX_BYTES

/** The index of the first C0 control but tab and newline, or DEL (a carriage return, an escape sequence), or -1. */
function controlAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f) return i
  }
  return -1
}

/** The text of a guest file, or why nest does not read it. */
export function guestText(data: Uint8Array | string, file: string): Result<string, NestError> {
  const fix = `check ${file} in the guest's copy; nest reads it as a plain text file`
  const decoded = decodeText(data, GUEST_FILE_MAX_BYTES)
  if (decoded.isErr()) return err(invalidInput(`${file} ${decoded.error}`, fix))
  const text = decoded.value
  const at = controlAt(text)
  if (at >= 0) {
    const line = text.slice(0, at).split('\n').length
    return err(invalidInput(`${file} has a control character (0x${text.charCodeAt(at).toString(16).padStart(2, '0')}) on line ${line}`, fix))
  }
  return ok(text)
}

/** One thing an admin should know about a guest file nest read. */
export interface GuestNote {
  level: 'note' | 'warning'
  file: string
  /** The variable, line or parameter it is about. */
  key?: string
  text: string
}

/** One change nest makes to a guest file (or a file it removes: key is then the path). */
export interface GuestEdit {
  file: string
  key: string
  action: 'set' | 'remove' | 'add'
  from?: string
  to?: string
  /** One line for the admin, naming the rc.d script and its KEYWORD where one decides it. */
  why: string
}
