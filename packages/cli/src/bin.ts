#!/usr/bin/env node
import { run } from './run.js';

// exitCode rather than process.exit(): stdout may still be draining into a pipe.
process.exitCode = await run(process.argv.slice(2));
