#!/usr/bin/env node
// A committed entry so the package manager can link the command before the build has run.
import '../dist/bin.js';
