// A file nest reads as text: not too big, UTF-8, no NUL byte. The readers of files nest does
// not control (vm-bhyve's NAME.conf, a migrated guest's files) start here and word the refusal
// for their file.
import {err, ok, type Result} from 'neverthrow'

/** The text, or what is wrong with it as a sentence's end: `is not text (not UTF-8)`. */
export function decodeText(data: Uint8Array | string, maxBytes: number): Result<string, string> {
  const size = typeof data === 'string' ? new TextEncoder().encode(data).byteLength : data.byteLength
  if (size > maxBytes) return err(`is ${size} bytes, more than the ${maxBytes} nest reads`)
  let text: string
  if (typeof data === 'string') text = data
  else {
    try {
      text = new TextDecoder('utf-8', {fatal: true}).decode(data)
    } catch {
      return err('is not text (not UTF-8)')
    }
  }
  return text.includes('\0') ? err('is binary (it contains NUL bytes)') : ok(text)
}
