#!/usr/bin/env node
// Development only: the CLI straight from the TypeScript sources through tsx (no build; slower to start).
// Users and tests run bin/worldloop.js, which runs the compiled build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
