// `nest help [COMMAND]`: @oclif/plugin-help's own command, bundled with nest's commands instead
// of loaded as a plugin, so that it runs on the same (bundled) @oclif/core as every other
// command: one copy of oclif per run, and `nest help create` starts as fast as `nest create --help`.
import {commands} from '@oclif/plugin-help'

export default commands.help
