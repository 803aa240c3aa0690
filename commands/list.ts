import {Args} from '@oclif/core'

import {NestCommand} from '../src/cli/base.js'
import {renderList} from '../src/render/jails.js'
import {listJailTree} from '../src/services/jails.js'

export default class List extends NestCommand {
  static override description = 'List nest\'s jails as a tree: name, jid, state, policy, children.cur/children.max, path (stopped jails too).'
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list web --json']
  static override args = {name: Args.string({description: 'show only this jail and what is below it'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(List)
    await this.runWith(flags, (ctx) => listJailTree(ctx, args.name), renderList)
  }
}
