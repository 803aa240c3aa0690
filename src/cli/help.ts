// oclif help with nest's ERROR CODES table under every command (house style §5).
import {type Command, Help} from '@oclif/core'

import {ERROR_CODES} from '../domain/errors.js'

export default class NestHelp extends Help {
  override formatCommand(command: Command.Loadable): string {
    const table = ERROR_CODES.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`).join('\n')
    return `${super.formatCommand(command)}\n\nERROR CODES\n${table}\n`
  }
}
