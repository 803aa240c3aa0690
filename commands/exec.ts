import {Args} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderExec} from '../src/render/jails.js'
import {execInJail} from '../src/services/jails.js'

export default class Exec extends NestCommand {
  static override description = 'Run a command in a running jail (through jexec). nest exits with the command\'s status; under --json its output is captured into the document.'
  static override examples = ['<%= config.bin %> exec web -- zfs list', '<%= config.bin %> exec web --json -- sysctl -n security.jail.jailed']
  // The program and its arguments come after `--`, which oclif's generated usage cannot show.
  static override usage = ['exec NAME [--host freebsd|sim] [--verbose] -- CMD [ARG...]', 'exec NAME --json -- CMD [ARG...]']
  static override args = {name: Args.string({required: true, description: 'the jail'})}
  static override strict = false

  async run(): Promise<void> {
    const {args, flags, argv} = await this.parse(Exec)
    const command = (argv as string[]).slice(1)
    await this.runWith(flags, (ctx) => execInJail(ctx, args.name, command), renderExec, (r) => r.exitCode)
  }
}
