#!/usr/bin/env node
// The nest executable: oclif loads the compiled commands from dist/commands.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
