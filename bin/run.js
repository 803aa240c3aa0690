#!/usr/bin/env node
// The nest executable: the bundled CLI (dist/cli, built by npm run build), oclif included.
const {main} = await import('../dist/cli/src/cli/main.js')
await main(import.meta.url)
