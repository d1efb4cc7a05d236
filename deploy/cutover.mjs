#!/usr/bin/env node
// The `cutover` command in the image: the built JS (deploy/Dockerfile), no TypeScript loader.
const { main } = await import('./src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
